"""The joint loss (the paper's Eq. 2), its cell weightings and self-distillation."""

import pytest
import torch
import torch.nn.functional as F

from dnnet import cell_resources, create_model
from dnnet.loss import JointLoss, cell_weights


def explicit_joint_loss(logits, target, weights):
    """Eq. 2 written out cell by cell."""
    total = sum(
        weights[d, w] * F.cross_entropy(logits[:, d, w], target)
        for d in range(weights.shape[0])
        for w in range(weights.shape[1])
    )
    return total / weights.sum()


@pytest.mark.parametrize("weighting", ["uniform", "macs", "final", "depth_only", "half_final"])
def test_joint_loss_is_eq2(weighting):
    config = create_model("dnnet_resnet8_g4").config
    weights = cell_weights(config, weighting)
    logits, target = torch.randn(6, 4, 4, 10), torch.randint(0, 10, (6,))
    torch.testing.assert_close(JointLoss(weights)(logits, target), explicit_joint_loss(logits, target, weights))


def test_weightings_have_the_promised_shape():
    config = create_model("dnnet_resnet8_g4").config
    assert torch.equal(cell_weights(config, "uniform"), torch.ones(4, 4))
    final = cell_weights(config, "final")
    assert final.sum() == 1 and final[-1, -1] == 1
    assert torch.equal(cell_weights(config, "depth_only")[:, -1], torch.ones(4)) and cell_weights(config, "depth_only")[:, :-1].sum() == 0
    half = cell_weights(config, "half_final")
    assert half[-1, -1] == 15 and half.sum() == 30 and torch.equal(half.flatten()[:-1], torch.ones(15))
    macs = cell_weights(config, "macs")
    assert macs[-1, -1] == 1.0
    assert macs[1, 2] == pytest.approx(cell_resources(config, 2, 3).macs / cell_resources(config, 4, 4).macs)


def test_user_table_and_its_errors():
    config = create_model("dnnet_resnet8_g4").config
    table = [[1, 0, 0, 2]] * 4
    assert torch.equal(cell_weights(config, table=table), torch.tensor(table, dtype=torch.float32))
    with pytest.raises(ValueError, match=r"shape \(depths, widths\) = \(4, 4\), got \(2, 2\)"):
        cell_weights(config, table=[[1, 1], [1, 1]])
    with pytest.raises(ValueError, match="non-negative"):
        cell_weights(config, table=[[-1] * 4] * 4)
    with pytest.raises(ValueError, match="must not all be zero"):
        cell_weights(config, table=[[0] * 4] * 4)
    with pytest.raises(ValueError, match="weighting must be one of"):
        cell_weights(config, "linear")


def test_self_distillation_pulls_cells_to_the_full_network():
    weights = torch.ones(2, 3)
    logits, target = torch.randn(5, 2, 3, 4), torch.randint(0, 4, (5,))
    plain = JointLoss(weights).cell_losses(logits, target)
    distilled = JointLoss(weights, distill_weight=0.5, temperature=2.0).cell_losses(logits, target)
    assert distilled[-1, -1] == plain[-1, -1]  # the teacher keeps its own cross-entropy
    teacher = F.softmax(logits[:, -1, -1] / 2, -1)
    kl = F.kl_div(F.log_softmax(logits[:, 0, 0] / 2, -1), teacher, reduction="batchmean") * 4
    torch.testing.assert_close(distilled[0, 0], 0.5 * plain[0, 0] + 0.5 * kl)


def test_distillation_sends_no_gradient_into_the_teacher():
    logits = torch.randn(3, 2, 2, 5, requires_grad=True)
    JointLoss(torch.tensor([[1.0, 1.0], [1.0, 0.0]]), distill_weight=1.0).forward(logits, torch.tensor([0, 1, 2])).backward()
    assert torch.count_nonzero(logits.grad[:, -1, -1]) == 0


def test_loss_shape_mismatch_raises():
    with pytest.raises(ValueError, match=r"logits cover \(3, 3\) cells, the loss weights \(2, 2\)"):
        JointLoss(torch.ones(2, 2))(torch.randn(1, 3, 3, 4), torch.tensor([0]))


def smoothed_cross_entropy(logits, target, eps):
    """-(1 - eps) log p(label) - eps / K * sum_k log p(k), averaged over the batch: the smoothed target written out."""
    log_p = F.log_softmax(logits, -1)
    return (-(1 - eps) * log_p.gather(-1, target[:, None])[:, 0] - eps / logits.shape[-1] * log_p.sum(-1)).mean()


def test_label_smoothing_is_the_hand_computed_smoothed_cross_entropy_in_every_cell():
    logits, target = torch.randn(6, 3, 4, 5), torch.randint(0, 5, (6,))
    losses = JointLoss(torch.ones(3, 4), label_smoothing=0.2, reduction="cells").cell_losses(logits, target)
    for d in range(3):
        for w in range(4):
            torch.testing.assert_close(losses[d, w], smoothed_cross_entropy(logits[:, d, w], target, 0.2))
    assert not torch.allclose(losses, JointLoss(torch.ones(3, 4), reduction="cells").cell_losses(logits, target))


def test_the_sandwich_rule_smooths_its_hard_label_loss_only():
    from dnnet.train.sandwich import sandwich_loss

    model = create_model("dnnet_resnet8_g4")
    logits, target = torch.randn(6, 1, 4, 10), torch.randint(0, 10, (6,))
    smoothed, plain = (sandwich_loss(model, label_smoothing=eps).cell_losses(logits, target) for eps in (0.1, 0.0))
    torch.testing.assert_close(smoothed[0, -1], smoothed_cross_entropy(logits[:, 0, -1], target, 0.1))  # the largest width
    assert torch.equal(smoothed[0, :-1], plain[0, :-1])  # the others learn from it, not from the labels


def test_a_teacher_is_mixed_into_every_cell_full_one_included():
    logits, target = torch.randn(5, 2, 3, 4, requires_grad=True), torch.randint(0, 4, (5,))
    teacher = torch.randn(5, 4, requires_grad=True)
    loss = JointLoss(torch.ones(2, 3), teacher_weight=0.3, teacher_temperature=2.0)
    mixed = loss.cell_losses(logits, target, teacher)
    for d in range(2):
        for w in range(3):
            kl = F.kl_div(F.log_softmax(logits[:, d, w] / 2, -1), F.softmax(teacher / 2, -1), reduction="batchmean") * 4
            torch.testing.assert_close(mixed[d, w], 0.7 * F.cross_entropy(logits[:, d, w], target) + 0.3 * kl)
    loss(logits, target, teacher_logits=teacher).backward()
    assert teacher.grad is None  # the teacher learns nothing from its students
