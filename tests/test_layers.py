"""The causal layers besides the convolution: per-channel batch norm on a prefix, group-padded shortcuts."""

import pytest
import torch

from dnnet.config import BlockPlan
from dnnet.layers import CausalBasicBlock, CausalProjectionShortcut, GroupExitHead, GroupPadShortcut, PrefixBatchNorm2d


def perturb_after(x: torch.Tensor, channels: int) -> torch.Tensor:
    changed = x.clone()
    changed[:, channels:] = torch.randn_like(changed[:, channels:]) * 3
    return changed


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_is_per_channel_so_causal(training):
    bn = PrefixBatchNorm2d(6).train(training)
    with torch.no_grad():
        bn.running_mean.uniform_(-1, 1)
        bn.weight.uniform_(0.5, 2)
    x = torch.randn(4, 6, 5, 5)
    y, y_changed = bn(x), bn(perturb_after(x, 2))
    assert torch.equal(y[:, :2], y_changed[:, :2])


def test_batchnorm_on_prefix_equals_full_in_eval():
    bn = PrefixBatchNorm2d(6).eval()
    with torch.no_grad():
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
    x = torch.randn(2, 6, 3, 3)
    torch.testing.assert_close(bn(x[:, :4]), bn(x)[:, :4], rtol=0, atol=1e-6)


def test_batchnorm_prefix_updates_only_its_running_stats():
    bn = PrefixBatchNorm2d(6).train()
    bn(torch.randn(8, 2, 3, 3) + 5)
    assert (bn.running_mean[:2] > 0.3).all()
    assert torch.equal(bn.running_mean[2:], torch.zeros(4))


def test_group_pad_shortcut_pads_inside_each_group():
    x = torch.arange(3.0).reshape(1, 3, 1, 1).expand(1, 3, 2, 2) + 1  # group i holds value i + 1
    y = GroupPadShortcut(1, 2, stride=2)(x)
    assert y.shape == (1, 6, 1, 1)
    assert y.flatten().tolist() == [1.0, 0.0, 2.0, 0.0, 3.0, 0.0]


def test_appending_zeros_at_the_channel_end_would_break_causality():
    """Why the shortcut pads per group: the usual option A moves group 2 into output group 1."""
    x = torch.randn(1, 4, 4, 4)
    usual = torch.cat([x, torch.zeros_like(x)], dim=1)  # 4 groups of 1 -> 4 groups of 2, end padding
    assert torch.equal(usual[:, 0:2], x[:, 0:2])  # output group 1 holds input groups 1 AND 2
    ours = GroupPadShortcut(1, 2, stride=1)(x)
    assert torch.equal(ours[:, 0:2], torch.cat([x[:, :1], torch.zeros_like(x[:, :1])], dim=1))


@pytest.mark.parametrize("shortcut", [GroupPadShortcut(1, 2, 2), CausalProjectionShortcut(1, 2, 4, 2)])
def test_shortcuts_are_causal(shortcut):
    shortcut.eval()
    x = torch.randn(2, 4, 8, 8)
    y, y_changed = shortcut(x), shortcut(perturb_after(x, 2))
    assert torch.equal(y[:, :4], y_changed[:, :4])
    assert not torch.allclose(y[:, 4:], y_changed[:, 4:])


@pytest.mark.parametrize("shortcut", ["pad", "project"])
@pytest.mark.parametrize("training", [True, False])
def test_block_is_causal(shortcut, training):
    plan = BlockPlan(index=6, in_group_channels=1, out_group_channels=2, stride=2, shortcut=shortcut, in_size=8)
    block = CausalBasicBlock(plan, groups=5).train(training)
    x = torch.randn(3, 5, 8, 8)
    for k in range(1, 5):
        y, y_changed = block(x), block(perturb_after(x, k))
        assert torch.equal(y[:, : 2 * k], y_changed[:, : 2 * k])


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_head_gives_the_formula_for_every_width(reduction):
    head = GroupExitHead(group_channels=2, groups=3, num_classes=4, reduction=reduction)
    features = torch.randn(5, 6, 4, 4)
    logits = head(features)
    pooled = features.mean((2, 3))
    for c in range(1, 4):
        z = sum(pooled[:, 2 * k : 2 * k + 2] @ head.weight[k].T for k in range(c))
        z = z / c if reduction == "mean" else z
        torch.testing.assert_close(logits[:, c - 1], z + head.bias)
        weight, bias = head.merged_linear(c)
        torch.testing.assert_close(pooled[:, : 2 * c] @ weight.T + bias, logits[:, c - 1])


def test_cell_heads_give_every_width_its_own_classifier():
    """Width c's logits move with its own weights only, and read groups 1..c only."""
    from dnnet.layers.group_exit_head import GroupExitHead

    torch.manual_seed(0)
    head = GroupExitHead(group_channels=2, groups=3, num_classes=5, per_width=True)
    features = torch.randn(4, 6, 3, 3)
    before = head(features)
    with torch.no_grad():
        head.weight[1].add_(1.0)  # width 2's classifier
        head.weight[0, 1:].add_(1.0)  # entries width 1 never reads
    after = head(features)
    assert torch.equal(after[:, [0, 2]], before[:, [0, 2]]) and not torch.equal(after[:, 1], before[:, 1])
    pooled = features.mean((2, 3)).reshape(4, 3, 2)
    weight, bias = head.merged_linear(2)
    torch.testing.assert_close(after[:, 1], pooled[:, :2].flatten(1) @ weight.T + bias)
