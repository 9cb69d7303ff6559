import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))  # the test helpers (live_tensors) import by name


@pytest.fixture(scope="session")
def digits():
    """The embedded digits as train/val/test splits (seed 0), read once for every test."""
    from dnnet.data import load_data

    return load_data("digits")


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)


def randomize_batchnorm(model: torch.nn.Module) -> torch.nn.Module:
    """Gives every batch norm non-trivial statistics and affine parameters, so that slicing
    mistakes in them cannot hide behind the identity initialisation."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 2.0)
    return model


def train_tiny_run(run_dir: Path, digits) -> Path:
    """dnnet_resnet8_g4 trained one epoch on the digits into `run_dir`: the smallest real run a command can read."""
    from dnnet.train import TrainConfig, train

    train(TrainConfig(preset="dnnet_resnet8_g4", epochs=1, batch_size=256, channels_last=False), run_dir, show_progress=False,
          data=digits)
    return run_dir


def bench_module(name: str):
    """A script of bench/ imported as a module (with bench/ on the path for its sibling imports)."""
    import importlib.util

    bench = Path(__file__).resolve().parents[1] / "bench"
    if str(bench) not in sys.path:
        sys.path.append(str(bench))
    spec = importlib.util.spec_from_file_location(name, bench / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
