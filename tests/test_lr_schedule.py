"""The learning-rate schedules (step, cosine, warm-up), scaled with the batch and placed at every step."""

import json

import pytest

from dnnet.data import load_data
from dnnet.train import TrainConfig, train
from dnnet.train.lr_schedule import epoch_learning_rate, learning_rate, step_learning_rate

EXACT = dict(rel=1e-12, abs=0)  # up to the rounding of x0.1 in float64


@pytest.mark.parametrize("batch_size,scaled", [(128, 0.1), (64, 0.05), (512, 0.4)])
def test_lr_scales_linearly_with_the_batch(batch_size, scaled):
    assert learning_rate(TrainConfig.from_flat(batch_size=batch_size), 0.0) == pytest.approx(scaled, **EXACT)


@pytest.mark.parametrize("progress,factor", [(0.0, 1.0), (0.4999, 1.0), (0.5, 0.1), (0.7499, 0.1), (0.75, 0.01), (1.0, 0.01)])
def test_step_schedule_divides_by_ten_at_half_and_three_quarters(progress, factor):
    assert learning_rate(TrainConfig.from_flat(lr=0.2, schedule="step"), progress) == pytest.approx(0.2 * factor, **EXACT)


@pytest.mark.parametrize("progress,factor", [(0.0, 1.0), (0.25, 0.5 + 0.5 * 2 ** -0.5), (0.5, 0.5), (0.75, 0.5 - 0.5 * 2 ** -0.5),
                                             (1.0, 0.0)])
def test_cosine_schedule_follows_half_a_period(progress, factor):
    assert learning_rate(TrainConfig.from_flat(lr=0.2, schedule="cosine"), progress) == pytest.approx(0.2 * factor, rel=1e-12, abs=1e-17)


def test_step_and_epoch_rates_place_each_step_in_the_run():
    config = TrainConfig.from_flat(lr=0.1, epochs=4, schedule="cosine")
    # epoch 1 (0-based), step 3 of 4: 1.75 of 4 epochs done
    assert step_learning_rate(config, 1, 3, 4) == learning_rate(config, 1.75 / 4)
    assert epoch_learning_rate(config, 1, 4) == step_learning_rate(config, 1, 3, 4)


def test_logged_lr_is_the_rate_the_epoch_trained_at(tmp_path, monkeypatch):
    """4 step-schedule epochs: epochs 1-2 train at the full rate, 3 at a tenth, 4 at a hundredth."""
    import dnnet.train.epoch_loop as loop

    rates = []
    real_set = loop.set_learning_rate

    def recording(optimizer, lr):
        rates.append(lr)
        real_set(optimizer, lr)

    monkeypatch.setattr(loop, "set_learning_rate", recording)
    config = TrainConfig.from_flat(preset="dnnet_resnet8_g4", data="digits", epochs=4, batch_size=256, lr=0.1, channels_last=False)
    train(config, tmp_path / "run", show_progress=False, data=load_data("digits"))
    logged = [json.loads(line)["lr"] for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert logged == pytest.approx([0.2, 0.2, 0.02, 0.002], **EXACT)
    steps = len(rates) // 4
    assert logged == [rates[(epoch + 1) * steps - 1] for epoch in range(4)]  # the last step of each epoch


@pytest.mark.parametrize("progress,factor", [(0.0, 0.0), (0.05, 0.25), (0.2, 1.0), (0.6, 0.1)])
def test_warmup_rises_linearly_over_its_epochs_then_follows_the_schedule(progress, factor):
    config = TrainConfig.from_flat(lr=0.2, epochs=10, warmup_epochs=2, schedule="step")  # 0.05 of 10 epochs: a quarter of the warm-up
    assert learning_rate(config, progress) == pytest.approx(0.2 * factor, **EXACT)


def test_warmup_longer_than_the_run_is_refused():
    with pytest.raises(ValueError, match=r"warmup_epochs must be in 0\.\.epochs \(3\), got 4"):
        TrainConfig.from_flat(epochs=3, warmup_epochs=4)
