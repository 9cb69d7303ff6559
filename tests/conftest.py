import os
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


# the small trained runs the suite reads, each trained once per test run (on the digits) and copied to the tests
SHARED_RUNS = {
    "tiny": dict(preset="dnnet_resnet8_g4", epochs=1, batch_size=256, channels_last=False),  # the smallest a command reads
    "two_epochs": dict(preset="dnnet_resnet8_g4", epochs=2, batch_size=128, channels_last=False),  # distinct cells
}


def train_tiny_run(run_dir: Path, digits) -> Path:
    """dnnet_resnet8_g4 trained one epoch on the digits into `run_dir`: the smallest real run a command can read."""
    from dnnet.train import TrainConfig, train

    train(TrainConfig.from_flat(**SHARED_RUNS["tiny"]), run_dir, show_progress=False, data=digits)
    return run_dir


@pytest.fixture(scope="session")
def shared_run(tmp_path_factory, digits):
    """`shared_run(name, folder)`: a copy in `folder` of the run SHARED_RUNS[name], trained once per test run.

    Under pytest-xdist the workers share their session's base folder: the first worker to ask trains the run under a
    file lock, the others wait and copy it. Each caller gets its own copy, so that no test sees another's writes."""
    import shutil

    from filelock import FileLock

    from dnnet.train import TrainConfig, train

    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared_runs"
    root.mkdir(exist_ok=True)

    def copy_of(name: str, folder: Path) -> Path:
        template = root / name
        with FileLock(str(root / f"{name}.lock")):
            if not (template / "finished.json").is_file():  # a worker that failed half-way leaves no finished run
                shutil.rmtree(template, ignore_errors=True)
                train(TrainConfig.from_flat(**SHARED_RUNS[name]), template, show_progress=False, data=digits)
        shutil.copytree(template, folder)
        return folder

    return copy_of


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
