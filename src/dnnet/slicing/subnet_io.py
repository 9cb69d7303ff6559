"""Save and load a standalone sub-network: a state dict plus a JSON architecture description."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from dnnet.config import NetConfig
from dnnet.errors import MissingFile, UserError
from dnnet.models.pretrained_files import WEIGHTS_FILE as WEIGHTS_FILE_PRETRAINED
from dnnet.slicing.subnet import SubNet

ARCH_FILE = "arch.json"
WEIGHTS_FILE = "weights.pt"
FORMAT_VERSION = 1


def save_subnet(subnet: SubNet, directory: str | Path) -> Path:
    """Writes `arch.json` and `weights.pt` into `directory` (created if missing)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    arch = {"format_version": FORMAT_VERSION, "config": subnet.config.to_dict(), "depth": subnet.depth, "width": subnet.width}
    (directory / ARCH_FILE).write_text(json.dumps(arch, indent=2) + "\n")
    torch.save(subnet.state_dict(), directory / WEIGHTS_FILE)
    return directory


def load_subnet(directory: str | Path, map_location: str | torch.device = "cpu") -> SubNet:
    """Rebuilds a `SubNet` saved by `save_subnet` (weights load with `weights_only=True`) or by `save_pretrained`."""
    directory = Path(directory)
    arch_path = directory / ARCH_FILE
    if not arch_path.is_file() and (directory / WEIGHTS_FILE_PRETRAINED).is_file():  # a folder of `save_pretrained`
        return SubNet.from_pretrained(directory).to(map_location)
    if not arch_path.is_file():
        raise MissingFile(f"{arch_path} not found: not a directory written by save_subnet")
    arch = json.loads(arch_path.read_text())
    if arch.get("format_version") != FORMAT_VERSION:
        raise UserError(f"{arch_path}: unsupported format_version {arch.get('format_version')!r}, expected {FORMAT_VERSION}")
    subnet = SubNet(NetConfig.from_dict(arch["config"]), arch["depth"], arch["width"])
    state = torch.load(directory / WEIGHTS_FILE, map_location=map_location, weights_only=True)
    subnet.load_state_dict(state)
    return subnet.eval()
