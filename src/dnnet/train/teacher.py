"""The teacher of a run trained with `--teacher`: a trained network whose full-network logits every cell learns from.

A teacher is a finished run directory (its trained weights, `dnnet.runs.TrainedRun`) or a pretrained weights folder
(`DNNet.from_pretrained`). It sees the same augmented images as the cells, normalised with its own mean and std, in
eval mode and without gradients. config.json records which teacher it was and its weights' sha256, so that a resumed
run refuses a teacher that has changed since.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import torch

from dnnet.accounting import cell_resources
from dnnet.data import DataSplits, normalize
from dnnet.errors import UserError
from dnnet.models.dnnet import DNNet
from dnnet.models.pretrained_files import WEIGHTS_FILE, read_pretrained_record
from dnnet.runs import TrainedRun
from dnnet.runs.run_files import CHECKPOINT_FILE, is_finished
from dnnet.runs.run_record import TeacherRecord


@dataclass(frozen=True, eq=False)
class Teacher:
    """A trained network on the training device, with the preprocessing it was trained with."""

    model: DNNet  # in eval mode, without gradients
    mean: torch.Tensor  # (channels,) in 0..1 units, on the model's device
    std: torch.Tensor
    source: Path  # the folder it was read from, resolved
    kind: str  # "run" or "pretrained"
    weights_sha256: str  # of its state dict, names and values (see `weights_sha256`)
    bf16_autocast: bool = False  # its forward pass under bfloat16 autocast, as the student's (a GPU with amp)
    channels_last: bool = False  # its input in channels-last memory format, as the student's

    @torch.no_grad()
    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """Its full network's logits (N, classes), float32, for uint8 images (N, C, H, W) on its device."""
        x = normalize(images, self.mean, self.std)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.bf16_autocast):
            return self.model(x).float()

    def record(self) -> TeacherRecord:
        """What config.json says of the teacher: where it came from, its architecture, weights and cost per image."""
        config = self.model.config
        full = cell_resources(config, *config.grid_shape)
        return TeacherRecord(source=str(self.source), kind=self.kind, net_config=config, mean=tuple(self.mean.tolist()),
                             std=tuple(self.std.tolist()), weights_sha256=self.weights_sha256, macs_per_image=full.macs,
                             params=full.params)


def load_teacher(source: str | Path, data: DataSplits, device: torch.device, bf16_autocast: bool = False,
                 channels_last: bool = False) -> Teacher:
    """The teacher in `source` (a run directory or a pretrained weights folder) on `device`; a UserError in one line when
    it is neither, is an unfinished run, or predicts other classes or takes other images than `data`'s."""
    path = Path(source).expanduser()
    if (path / CHECKPOINT_FILE).is_file():
        if not is_finished(path):
            raise UserError(f"teacher {source}: the run has not finished training; finish it (dnnet train --resume --out "
                            f"{source}) or give another teacher")
        run = TrainedRun.open(path)
        model, recorded = run.model, run.record.data
        kind, mean, std, classes = "run", list(recorded.mean), list(recorded.std), list(recorded.classes)
    elif (path / WEIGHTS_FILE).is_file():
        record = read_pretrained_record(path)
        model = DNNet.from_pretrained(path)
        preprocessing = record["preprocessing"]
        if "mean" not in preprocessing or "std" not in preprocessing:
            raise UserError(f"teacher {source}: its config.json records no mean and std, so its input cannot be normalised")
        kind, mean, std, classes = "pretrained", preprocessing["mean"], preprocessing["std"], preprocessing.get("classes")
    else:
        raise UserError(f"teacher {source}: neither a run directory ({CHECKPOINT_FILE}) nor a pretrained weights folder "
                        f"({WEIGHTS_FILE})")
    check_fits(model, classes, data, str(source))
    digest = weights_sha256(model)
    model = model.to(device).eval().requires_grad_(False)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return Teacher(model, torch.tensor(mean, device=device), torch.tensor(std, device=device), path.resolve(), kind, digest,
                   bf16_autocast, channels_last)


def check_fits(model: DNNet, classes: list[str] | None, data: DataSplits, source: str) -> None:
    """Refuses a teacher that predicts another number of classes, or other ones (when it names them), or that takes
    images of another shape than `data`'s."""
    config = model.config
    if config.num_classes != len(data.classes):
        raise UserError(f"teacher {source} predicts {config.num_classes} classes; {data.name} has {len(data.classes)}")
    takes = (config.in_channels, config.image_size, config.image_size)
    if takes != tuple(data.image_shape):
        raise UserError(f"teacher {source} takes images of shape {takes}; {data.name} has {tuple(data.image_shape)}")
    if classes is not None and list(classes) != list(data.classes):
        raise UserError(f"teacher {source} was trained on other classes than {data.name}'s, or in another order "
                        f"({', '.join(map(str, list(classes)[:4]))}... against {', '.join(data.classes[:4])}...)")


def weights_sha256(model: torch.nn.Module) -> str:
    """sha256 of every tensor of the state dict with its name, in name order (the same weights: the same digest)."""
    digest = hashlib.sha256()
    for name, value in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(value.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def check_same_teacher(teacher: Teacher, recorded: TeacherRecord, run_dir: Path) -> None:
    """Refuses to resume with a teacher whose weights differ from those config.json recorded at the run's start."""
    if teacher.weights_sha256 != recorded.weights_sha256:
        raise UserError(f"teacher {teacher.source} has changed since {run_dir} began (weights sha256 "
                        f"{teacher.weights_sha256[:12]}, config.json says {recorded.weights_sha256[:12]}); "
                        "resume with the teacher it began with")
