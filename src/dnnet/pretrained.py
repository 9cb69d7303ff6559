"""A trained network as a folder to share: config.json (architecture, preprocessing, provenance) and model.safetensors
(the weights). No pickle anywhere on the way in or out: the weights are plain tensors, everything else is JSON."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any

from torch import nn

from dnnet.atomic_file import atomic_write
from dnnet.config import NetConfig
from dnnet.errors import MissingFile, UserError

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
FORMAT = "dnnet-pretrained/1"


def dnnet_version() -> str:
    try:
        return metadata.version("dnnet")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def save_pretrained(model: nn.Module, directory: str | Path, preprocessing: dict[str, Any] | None = None,
                    provenance: dict[str, Any] | None = None) -> Path:
    """Writes `model` (a DNNet, or a SubNet cell) into `directory`: config.json and model.safetensors.

    `preprocessing`: what a user must do to an image before the network sees it (mean, std in 0..1 units per
    channel, image_size, classes); `provenance`: where the weights come from (data, recipe, epochs, accuracy...).
    """
    from safetensors.torch import save

    from dnnet.models.dnnet import DNNet
    from dnnet.slicing.subnet import SubNet

    if isinstance(model, DNNet):
        network = {"kind": "dnnet"}
    elif isinstance(model, SubNet):
        network = {"kind": "subnet", "depth": model.depth, "width": model.width}
    else:
        raise UserError(f"save_pretrained saves a DNNet or a SubNet, not a {type(model).__name__}")
    record = {"format": FORMAT, "network": network, "net_config": model.config.to_dict(),
              "preprocessing": preprocessing or {}, "provenance": {**(provenance or {}), "dnnet_version": dnnet_version()}}
    tensors = {name: value.detach().cpu().contiguous() for name, value in model.state_dict().items()}
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with atomic_write(directory / WEIGHTS_FILE) as stream:
        stream.write(save(tensors, metadata={"format": FORMAT}))
    with atomic_write(directory / CONFIG_FILE) as stream:  # last: a folder with config.json holds whole weights
        stream.write((json.dumps(record, indent=2) + "\n").encode())
    return directory


def read_pretrained_record(directory: str | Path) -> dict[str, Any]:
    """config.json of a folder that `save_pretrained` wrote; a UserError naming the file otherwise."""
    path = Path(directory) / CONFIG_FILE
    if not path.is_file():
        raise MissingFile(f"{directory} holds no pretrained network ({CONFIG_FILE} not found)")
    try:
        record = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"{path} is not valid JSON ({error})") from error
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise UserError(f"{path} is not a pretrained network's config (expected format {FORMAT!r})")
    return record


def load_pretrained(directory: str | Path) -> nn.Module:
    """The DNNet or SubNet saved in `directory`, in eval mode, on the CPU."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from dnnet.models.dnnet import DNNet
    from dnnet.slicing.subnet import SubNet

    record = read_pretrained_record(directory)
    config = NetConfig.from_dict(record["net_config"])
    network = record["network"]
    model = DNNet(config) if network["kind"] == "dnnet" else SubNet(config, network["depth"], network["width"])
    weights = Path(directory) / WEIGHTS_FILE
    try:
        state = load_file(str(weights))
    except (OSError, SafetensorError) as error:
        raise UserError(f"{weights}: cannot be read as safetensors ({error})") from error
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        first = next((line.strip() for line in str(error).splitlines()[1:] if line.strip()), str(error))
        raise UserError(f"{weights} does not fit the network in {CONFIG_FILE} ({first})") from error
    return model.eval()


def pretrained_from_run(run_dir: str | Path, directory: str | Path, depth: int | None = None, width: int | None = None) -> Path:
    """A finished run's network (or its cell (depth, width)) as a pretrained folder, with the run's preprocessing
    and provenance: data, recipe, epochs and the test accuracy of what is saved."""
    from dnnet.slicing import slice_subnet
    from dnnet.train.run_directory import load_trained_model, read_run_config

    model, record = load_trained_model(Path(run_dir))
    data = record["data"]
    preprocessing = {"mean": data["mean"], "std": data["std"], "image_size": data["image_shape"][1:],
                     "in_channels": data["image_shape"][0], "classes": data["classes"], "scale": "pixels / 255, then (x - mean) / std"}
    settings = read_run_config(Path(run_dir))["train_config"]
    provenance = {"data": data["name"], "train_config": settings, "run_provenance": record.get("provenance")}
    grid_path = Path(run_dir) / "accuracy_test.json"
    test = json.loads(grid_path.read_text())["accuracy"] if grid_path.is_file() else None
    if depth is None and width is None:
        if test is not None:
            provenance["test_accuracy"] = {"full_network": test[-1][-1], "every_cell": test}
        return save_pretrained(model, directory, preprocessing, provenance)
    if depth is None or width is None:
        raise UserError("give both --depth and --width for one cell, or neither for the whole network")
    model.config.check_cell(depth, width)
    if test is not None:
        provenance["test_accuracy"] = test[depth - 1][width - 1]
    return save_pretrained(slice_subnet(model, depth, width), directory, preprocessing, provenance)
