"""A run's config.json as typed records: its settings, architecture, data, teacher and provenance.

`RunRecord.read` is the one reader of the file and `RunRecord.to_dict` is what `dnnet.train` writes into it, so that
the two cannot drift apart. A file written by an older version lacks the keys added since: they read as None, and a
training setting as the run was trained then (`TrainConfig.from_dict`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dnnet.config import NetConfig
from dnnet.errors import UserError
from dnnet.runs.run_files import CONFIG_FILE
from dnnet.runs.train_config import TrainConfig
from dnnet.utils.json_file import read_json_object


def read_config_values(run_dir: Path) -> tuple[dict[str, Any], Path]:
    """config.json of `run_dir` as a JSON object, and its path; a clear error if it is not a run directory."""
    path = Path(run_dir) / CONFIG_FILE
    return read_json_object(path, f"{run_dir} is not a run directory ({CONFIG_FILE} not found)", "a run's config record"), path


def _field(values: dict[str, Any], key: str, path: Path, within: str = "") -> Any:
    if key not in values:
        raise UserError(f"{path} lacks {within + key!r}: it is not a config.json that dnnet train wrote (or it was edited)")
    return values[key]


def _table(values: dict[str, Any], key: str, path: Path, within: str = "") -> dict[str, Any]:
    value = _field(values, key, path, within)
    if not isinstance(value, dict):
        raise UserError(f"{path}: {within + key!r} is not a JSON object: it is not a config.json that dnnet train wrote "
                        "(or it was edited)")
    return value


def _optional_tuple(value: list | None) -> tuple | None:
    return None if value is None else tuple(value)


@dataclass(frozen=True)
class RunData:
    """What a run recorded of the data it trained on: enough to prepare an image for its network, and to find the
    same data again and check that it is the same."""

    name: str  # a named data set, or the folder's or archive's name
    classes: tuple[str, ...]  # in label order
    image_shape: tuple[int, ...]  # (channels, height, width)
    flip: bool  # whether horizontal flips were a valid augmentation (not for digits)
    train: int  # images in each split
    val: int
    test: int
    mean: tuple[float, ...]  # per channel, of the training images, in 0..1 units
    std: tuple[float, ...]
    skipped_images: int | None = None  # unreadable images left out (--skip-bad-images); None: recorded before
    skipped_images_first: tuple[str, ...] | None = None  # the first 20 of them, "path: reason"
    source: str | None = None  # the absolute path of a --data that is a path; None: a named data set, or recorded before
    fingerprint: str | None = None  # `data_fingerprint` of the splits; None: recorded before (such runs are not checked)

    @property
    def stats(self) -> tuple[list[float], list[float]]:
        """(mean, std) per channel in 0..1 units, as `normalize` and the grid evaluations take them."""
        return list(self.mean), list(self.std)

    @classmethod
    def from_dict(cls, values: dict[str, Any], path: Path = Path(CONFIG_FILE)) -> RunData:
        """Inverse of `to_dict`; a key every run records but `values` lacks is a UserError naming `path`."""
        def field(key: str) -> Any:
            return _field(values, key, path, "data.")

        return cls(name=field("name"), classes=tuple(field("classes")), image_shape=tuple(field("image_shape")),
                   flip=field("flip"), train=field("train"), val=field("val"), test=field("test"),
                   mean=tuple(field("mean")), std=tuple(field("std")), skipped_images=values.get("skipped_images"),
                   skipped_images_first=_optional_tuple(values.get("skipped_images_first")),
                   source=values.get("source"), fingerprint=values.get("fingerprint"))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "classes": list(self.classes), "image_shape": list(self.image_shape), "flip": self.flip,
                "train": self.train, "val": self.val, "test": self.test, "mean": list(self.mean), "std": list(self.std),
                "skipped_images": self.skipped_images,
                "skipped_images_first": None if self.skipped_images_first is None else list(self.skipped_images_first),
                "source": self.source, "fingerprint": self.fingerprint}


def check_data_fits_network(data: RunData, net_config: NetConfig, path: Path) -> None:
    """The data record describes what the network takes and gives: a class name per output, the image's channels, a
    mean and a std per channel (an edited config.json would otherwise mislabel every answer, or fail deep in torch)."""
    channels = net_config.in_channels
    problems = [f"{len(data.classes)} class names for {net_config.num_classes} outputs"
                if len(data.classes) != net_config.num_classes else "",
                f"images of {data.image_shape[0] if data.image_shape else 0} channels for a network that takes {channels}"
                if len(data.image_shape) != 3 or data.image_shape[0] != channels else "",
                f"{len(data.mean)} means and {len(data.std)} stds for {channels} channels"
                if not len(data.mean) == len(data.std) == channels else ""]
    problems = [problem for problem in problems if problem]
    if problems:
        raise UserError(f"{path}: {'; '.join(problems)}: it is not a config.json that dnnet train wrote (or it was edited)")


@dataclass(frozen=True)
class TeacherRecord:
    """Which teacher a run trained with (`--teacher`): a resumed run reloads `source` and refuses it when its weights
    no longer have `weights_sha256`."""

    source: str  # the run directory or pretrained weights folder, resolved
    kind: str  # "run" or "pretrained"
    net_config: NetConfig
    mean: tuple[float, ...]  # the preprocessing it was trained with, per channel in 0..1 units
    std: tuple[float, ...]
    weights_sha256: str  # of its state dict, names and values (`dnnet.train.teacher.weights_sha256`)
    macs_per_image: int  # what its full network costs per image, beside the student's own
    params: int

    @classmethod
    def from_dict(cls, values: dict[str, Any], path: Path = Path(CONFIG_FILE)) -> TeacherRecord:
        def field(key: str) -> Any:
            return _field(values, key, path, "teacher.")

        net_config = NetConfig.from_dict(_table(values, "net_config", path, "teacher."))
        return cls(source=field("source"), kind=field("kind"), net_config=net_config, mean=tuple(field("mean")),
                   std=tuple(field("std")), weights_sha256=field("weights_sha256"), macs_per_image=field("macs_per_image"),
                   params=field("params"))

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "kind": self.kind, "net_config": self.net_config.to_dict(), "mean": list(self.mean),
                "std": list(self.std), "weights_sha256": self.weights_sha256, "macs_per_image": self.macs_per_image,
                "params": self.params}


@dataclass(frozen=True)
class RunRecord:
    """config.json of a run, written once at its start: what it trains, on which data, and where."""

    train_config: TrainConfig  # the settings as trained
    net_config: NetConfig  # the architecture
    data: RunData
    run_id: str | None = None  # tells this run's checkpoints from another's with the same settings; None: recorded before
    weighting_resolved: str | None = None  # the loss weights `weighting` "auto" stood for
    auxiliary_gradient_resolved: float | None = None  # the factors None stood for (`auxiliary_gradient_factor`, ...)
    last_exit_gradient_resolved: float | None = None
    channels_last_resolved: bool | None = None  # the memory format `channels_last` None stood for on its device
    teacher: TeacherRecord | None = None  # None: trained without a teacher
    provenance: dict[str, Any] | None = None  # commit, machine, versions (`dnnet.utils.provenance.provenance`)

    @classmethod
    def read(cls, run_dir: Path) -> RunRecord:
        """The record in `run_dir`/config.json; a clear error if it is not a run directory, or lacks what every run
        records (its path and the missing key named)."""
        values, path = read_config_values(run_dir)
        return cls.from_dict(values, path)

    @classmethod
    def from_dict(cls, values: dict[str, Any], path: Path = Path(CONFIG_FILE)) -> RunRecord:
        """Inverse of `to_dict`; `path` names the file in errors."""
        teacher = values.get("teacher")
        try:
            record = cls(train_config=TrainConfig.from_dict(_table(values, "train_config", path)),
                       net_config=NetConfig.from_dict(_table(values, "net_config", path)),
                       data=RunData.from_dict(_table(values, "data", path), path),
                       run_id=values.get("run_id"), weighting_resolved=values.get("weighting_resolved"),
                       auxiliary_gradient_resolved=values.get("auxiliary_gradient_resolved"),
                       last_exit_gradient_resolved=values.get("last_exit_gradient_resolved"),
                       channels_last_resolved=values.get("channels_last_resolved"),
                       teacher=None if teacher is None else TeacherRecord.from_dict(_table(values, "teacher", path), path),
                       provenance=values.get("provenance"))
        except TypeError as error:  # a value of another kind than dnnet writes (a number where a list goes)
            raise UserError(f"{path} is not a config.json that dnnet train wrote (or it was edited): {error}") from error
        check_data_fits_network(record.data, record.net_config, path)
        return record

    def to_dict(self) -> dict[str, Any]:
        """What config.json holds, in the order `dnnet train` writes it."""
        return {"run_id": self.run_id, "train_config": self.train_config.to_dict(), "weighting_resolved": self.weighting_resolved,
                "auxiliary_gradient_resolved": self.auxiliary_gradient_resolved,
                "last_exit_gradient_resolved": self.last_exit_gradient_resolved,
                "channels_last_resolved": self.channels_last_resolved, "net_config": self.net_config.to_dict(),
                "data": self.data.to_dict(), "teacher": None if self.teacher is None else self.teacher.to_dict(),
                "provenance": self.provenance}


@dataclass(frozen=True)
class RunOutline:
    """How a run was trained, read from config.json without requiring the rest of the record: what deciding whether a
    folder already holds a wanted run, or captioning a figure, needs (both also read records written only in part)."""

    train_config: TrainConfig
    net_config: NetConfig | None = None  # None: not recorded
    data_name: str | None = None
    data_source: str | None = None  # as `RunData.source`
    provenance: dict[str, Any] | None = None

    @classmethod
    def read(cls, run_dir: Path) -> RunOutline:
        """The outline of the run in `run_dir`; a UserError when config.json is missing, not JSON or has no train_config."""
        values, path = read_config_values(run_dir)
        data = values.get("data") if isinstance(values.get("data"), dict) else {}
        net_config = values.get("net_config")
        provenance = values.get("provenance")
        return cls(train_config=TrainConfig.from_dict(_table(values, "train_config", path)),
                   net_config=None if net_config is None else NetConfig.from_dict(net_config),
                   data_name=data.get("name"), data_source=data.get("source"),
                   provenance=provenance if isinstance(provenance, dict) else None)
