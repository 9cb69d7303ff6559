"""Gradient equilibrium: each exit's feature gets the mean of the later exits' gradients, its head its own."""

import pytest
import torch
import torch.nn.functional as F

from dnnet import create_model
from dnnet.layers.gradient_scale import scale_gradient
from dnnet.loss.gradient_equilibrium import equilibrium_shares


def test_scale_gradient_is_an_identity_forward_and_a_scale_backward():
    x = torch.randn(3, requires_grad=True)
    y = scale_gradient(x, 0.25)
    assert torch.equal(y, x)
    y.sum().backward()
    assert torch.equal(x.grad, torch.full((3,), 0.25))


def test_shares_count_the_trained_exits_from_each_exit_on():
    assert equilibrium_shares([True] * 4) == [1 / 4, 1 / 3, 1 / 2, 1.0]
    assert equilibrium_shares([False, True, True, True]) == [0.0, 1 / 3, 1 / 2, 1.0]
    assert equilibrium_shares([True, False, True]) == [1 / 2, 0.0, 1.0]


def exit_losses(model, x, y, shares=None):
    logits = model.forward_all(x, head_gradient_shares=shares)  # (N, depths, widths, classes)
    return [F.cross_entropy(logits[:, d].flatten(0, 1), y.repeat_interleave(logits.shape[2]), reduction="sum")
            for d in range(logits.shape[1])]


def gradients(model, loss):
    model.zero_grad()
    loss.backward(retain_graph=True)
    return {name: p.grad.clone() for name, p in model.named_parameters()}


def exit_of(name: str) -> int:
    """Exit index (0-based) right after the parameter's layer: the stem is exit 0, block b exit b."""
    if name.startswith("heads."):
        return int(name.split(".")[1])
    return int(name.split(".")[1]) + 1 if name.startswith("blocks.") else 0


@pytest.mark.parametrize("trained", [[True] * 4, [False, True, True, True]])
def test_each_layer_gets_the_mean_of_the_later_exits_gradients_and_each_head_its_own(trained):
    torch.manual_seed(0)
    model = create_model("dnnet_resnet8_g4", image_size=8).double()
    x, y = torch.randn(6, 3, 8, 8, dtype=torch.float64), torch.randint(0, 10, (6,))
    per_exit = [gradients(model, loss) for loss in exit_losses(model, x, y)]
    shares = equilibrium_shares(trained)
    losses = exit_losses(model, x, y, shares)
    balanced = gradients(model, sum(loss for loss, t in zip(losses, trained) if t))
    for name, grad in balanced.items():
        exit_index = exit_of(name)
        if name.startswith("heads."):
            expected = per_exit[exit_index][name] if trained[exit_index] else torch.zeros_like(grad)
        else:
            later = [j for j in range(exit_index, 4) if trained[j]]
            expected = sum(per_exit[j][name] for j in later) / len(later)
        torch.testing.assert_close(grad, expected, rtol=1e-9, atol=1e-12, msg=name)
