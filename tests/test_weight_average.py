"""--ema: the moving average of the weights is what a run validates, evaluates and loads; the optimizer's weights stay in
the checkpoint for a resume."""

import json

import pytest
import torch
from torch import nn

from dnnet.errors import UserError
from dnnet.evaluation import grid_accuracy
from dnnet.models import DNNet
from dnnet.train import TrainConfig, train
from dnnet.train.run_directory import load_checkpoint, load_trained_model
from dnnet.train.weight_average import WeightAverage

TINY = dict(preset="dnnet_resnet8_g4", data="digits", epochs=1, batch_size=64, channels_last=False)


def test_one_update_moves_weights_and_batchnorm_statistics_and_copies_the_count():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    average = WeightAverage(model, decay=0.75)
    before = {name: value.clone() for name, value in average.state_dict().items()}
    with torch.no_grad():  # a step of an optimizer and of batch norm: in place, as they are
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter))
    model.train()(torch.randn(8, 3))  # running mean, variance and the batch count change
    average.update()
    live = model.state_dict()
    for name, value in average.state_dict().items():
        if value.is_floating_point():
            torch.testing.assert_close(value, 0.75 * before[name] + 0.25 * live[name], rtol=0, atol=1e-7, msg=name)
        else:
            assert value == live[name] == 1, name  # num_batches_tracked: copied, not averaged
    assert not any(p.requires_grad for p in average.module.parameters()) and not average.module.training


def test_the_average_is_evaluated_saved_and_loaded_and_the_optimizers_weights_kept(tmp_path, digits):
    run = tmp_path / "run"
    summary = train(TrainConfig.from_flat(**TINY, ema=0.9), run, show_progress=False, data=digits)
    checkpoint = load_checkpoint(run / "checkpoint.pt")
    assert set(checkpoint["ema"]) == set(checkpoint["model"])
    assert not torch.equal(checkpoint["ema"]["stem.weight"], checkpoint["model"]["stem.weight"])
    model, record = load_trained_model(run)
    assert record["train_config"]["ema"] == 0.9
    for name, value in model.state_dict().items():
        assert torch.equal(value, checkpoint["ema"][name]), name
    stats = (record["data"]["mean"], record["data"]["std"])
    for split in ("val", "test"):  # the grids written at the end are the average's
        torch.testing.assert_close(summary[split], grid_accuracy(model, digits.split(split), *stats, show_progress=False))
    raw = DNNet(model.config)
    raw.load_state_dict(checkpoint["model"])
    val = grid_accuracy(model, digits.val, *stats, show_progress=False)
    assert not torch.equal(val, grid_accuracy(raw.eval(), digits.val, *stats, show_progress=False))
    row = json.loads((run / "metrics.jsonl").read_text())  # the epoch's validation: the average's too
    assert (row["val_acc_full"], row["val_acc_mean_cells"]) == (val[-1, -1].item(), val.mean().item())


@pytest.mark.parametrize("decay", [-0.1, 1.0, 1.5, float("nan")])
def test_a_decay_outside_0_1_is_refused(decay):
    with pytest.raises(UserError, match=r"ema must be 0 \(off\) or a decay in \(0, 1\)"):
        TrainConfig.from_flat(ema=decay)
