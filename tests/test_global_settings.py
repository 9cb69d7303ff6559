"""A training run leaves torch's global settings as it found them (on a GPU it turns cudnn's benchmark mode on)."""

import torch

from dnnet.train import TrainConfig, train


def test_a_run_gives_cudnn_benchmark_back(monkeypatch, tmp_path, digits):
    import dnnet.train.run as run_module

    real_setup_world = run_module.setup_world

    def setup_world_as_on_a_gpu(device):
        torch.backends.cudnn.benchmark = True  # what setup_world does on a GPU
        return real_setup_world(device)

    monkeypatch.setattr(run_module, "setup_world", setup_world_as_on_a_gpu)
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    train(TrainConfig.from_flat(preset="dnnet_resnet8_g4", epochs=1, batch_size=256, channels_last=False), tmp_path / "run",
          show_progress=False, data=digits)
    assert torch.backends.cudnn.benchmark is False
