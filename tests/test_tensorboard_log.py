"""--tensorboard: each epoch's metrics row also as TensorBoard scalars; refused up front without the extra."""

import sys

import pytest

from dnnet.errors import UserError
from dnnet.train import TrainConfig, train


def test_every_epoch_row_becomes_scalars(tmp_path, digits):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tmp_path / "run"
    train(TrainConfig.from_flat(preset="dnnet_resnet8_g4", epochs=2, batch_size=256, channels_last=False, tensorboard=True), run,
          show_progress=False, data=digits)
    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    full = events.Scalars("val_acc_full")
    assert [e.step for e in full] == [1, 2]
    rows = [__import__("json").loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [e.value for e in full] == pytest.approx([r["val_acc_full"] for r in rows])
    assert {"train_loss", "lr", "images_per_s"} <= set(events.Tags()["scalars"])


def test_without_the_extra_it_is_refused_before_training(tmp_path, digits, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # as if tensorboard were not installed
    with pytest.raises(UserError, match="pip install 'doubly-nested-networks\\[tensorboard\\]'"):
        config = TrainConfig.from_flat(preset="dnnet_resnet8_g4", epochs=1, tensorboard=True)
        train(config, tmp_path / "run", show_progress=False, data=digits)
    assert not (tmp_path / "run").exists()
