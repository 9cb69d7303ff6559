"""The folder of a trained network to share: config.json (architecture, preprocessing, provenance) and model.safetensors
(the weights). No pickle anywhere on the way in or out: the weights are plain tensors, everything else is JSON.
`DNNet.save_pretrained` / `from_pretrained` and `SubNet`'s use these; `dnnet pretrained RUN` writes one from a run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from dnnet.config import NetConfig
from dnnet.errors import UserError
from dnnet.models.model_card import model_card
from dnnet.models.weights_check import check_before_building, check_finite
from dnnet.utils.atomic_file import atomic_write
from dnnet.utils.json_file import read_json_object
from dnnet.utils.version import dnnet_version

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "README.md"  # the model card, written from config.json (`model_card`)
FORMAT = "dnnet-pretrained/1"


def write_pretrained(model: nn.Module, network: dict[str, Any], directory: str | Path, preprocessing: dict[str, Any] | None,
                     provenance: dict[str, Any] | None) -> Path:
    """Writes `model`'s weights, its record (`network`: kind and cell; `model.config`: the architecture) and its model
    card (README.md).

    `preprocessing`: what a user must do to an image before the network sees it (mean, std in 0..1 units per
    channel, image_shape, classes); `provenance`: where the weights come from (data, recipe, epochs, accuracy...).
    """
    from safetensors.torch import save

    record = {"format": FORMAT, "network": network, "net_config": model.config.to_dict(),
              "preprocessing": preprocessing or {}, "provenance": {**(provenance or {}), "dnnet_version": dnnet_version()}}
    tensors = {name: value.detach().cpu().contiguous() for name, value in model.state_dict().items()}
    directory = Path(directory)
    check_writable_weights_folder(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with atomic_write(directory / WEIGHTS_FILE) as stream:
        stream.write(save(tensors, metadata={"format": FORMAT}))
    with atomic_write(directory / CARD_FILE) as stream:
        stream.write(model_card(record).encode(errors="backslashreplace"))  # a class folder's name need not be UTF-8
    with atomic_write(directory / CONFIG_FILE) as stream:  # last: a folder with config.json holds whole weights
        stream.write((json.dumps(record, indent=2) + "\n").encode())
    return directory


def check_writable_weights_folder(directory: Path) -> None:
    """Refuses a folder that holds anything but an earlier weights folder's files (a training run above all: its
    config.json would be replaced); a new, empty or weights folder may be written."""
    if not directory.is_dir():
        if directory.exists():
            raise UserError(f"{directory} is a file, not a folder for weights")
        return
    others = sorted(entry.name for entry in directory.iterdir() if entry.name not in (CONFIG_FILE, WEIGHTS_FILE, CARD_FILE))
    if (directory / "checkpoint.pt").exists():
        raise UserError(f"{directory} holds a training run: weights go into a folder of their own (e.g. --out {directory}/weights)")
    if others:
        shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise UserError(f"{directory} holds files that are not pretrained weights ({shown}): write into a new or empty folder")
    if (directory / CONFIG_FILE).exists():
        if not is_pretrained_folder(directory):
            raise UserError(f"{directory / CONFIG_FILE} is not a pretrained network's config: write into a new or empty folder")


def is_pretrained_folder(path: Path) -> bool:
    """A folder whose config.json a weights writer wrote (not a run's)."""
    try:
        values = json.loads((Path(path) / CONFIG_FILE).read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return False  # not a weights folder; what it is, the caller's reader says
    return isinstance(values, dict) and values.get("format") == FORMAT


def read_pretrained_record(directory: str | Path) -> dict[str, Any]:
    """config.json of a folder that `write_pretrained` wrote, its parts checked; a UserError naming the file otherwise."""
    path = Path(directory) / CONFIG_FILE
    record = read_json_object(path, f"{directory} holds no pretrained network ({CONFIG_FILE} not found)",
                              "a pretrained network's config")
    if record.get("format") != FORMAT:
        raise UserError(f"{path} is not a pretrained network's config (expected format {FORMAT!r})")
    network = record.get("network")
    if not isinstance(network, dict) or network.get("kind") not in ("dnnet", "subnet"):
        raise UserError(f"{path}: 'network' must say which kind of network the folder holds (dnnet or subnet)")
    if network["kind"] == "subnet" and not all(_is_count(network.get(key)) for key in ("depth", "width")):
        raise UserError(f"{path}: a cell's 'network' needs its depth and width as positive integers")
    for key in ("net_config", "preprocessing", "provenance"):
        if not isinstance(record.get(key, {}), dict):
            raise UserError(f"{path}: {key!r} must be a JSON object")
    if "net_config" not in record:
        raise UserError(f"{path} has no 'net_config': the architecture of its weights is unknown")
    return record


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def check_kind(record: dict[str, Any], directory: str | Path, kind: str, wanted: str) -> None:
    """Refuses a folder that holds the other kind of network (a whole DNNet where one cell is asked for)."""
    if record["network"]["kind"] != kind:
        held = "a whole DNNet" if record["network"]["kind"] == "dnnet" else "one cell (a SubNet)"
        raise UserError(f"{directory} holds {held}, not a {wanted}")


def load_pretrained(build: Callable[[], nn.Module], config: NetConfig, directory: str | Path) -> nn.Module:
    """The network `build()` makes, with the weights of `directory`'s model.safetensors, in eval mode. The file is
    checked against the network before it is built (`weights_check`: a config.json of a huge network is refused before
    it takes any memory), its values once loaded (no NaN or infinity); one line naming the file on failure."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    weights = Path(directory) / WEIGHTS_FILE
    if not weights.is_file():
        raise UserError(f"{weights} not found: the folder holds no weights")
    check_before_building(build, config, weights)
    model = build()
    try:
        state: dict[str, torch.Tensor] = load_file(str(weights))
    except (OSError, SafetensorError) as error:
        raise UserError(f"{weights}: cannot be read as safetensors ({error})") from error
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        first = next((line.strip() for line in str(error).splitlines()[1:] if line.strip()), str(error))
        raise UserError(f"{weights} does not fit the network in {CONFIG_FILE} ({first})") from error
    check_finite(model, weights)
    return model.eval()
