"""Generated hostile inputs through the readers: each either loads correctly or fails with the project's UserError -
never another exception, and nothing is written outside the cache folder it was given."""

import io
import tarfile
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from dnnet import cell_resources, create_model
from dnnet.data import load_data
from dnnet.deploy.simulate import read_trace
from dnnet.errors import UserError

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def png(value: int, size: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((size, size, 3), value, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


names = st.sampled_from(["train/cat/a.png", "train/dog/b.png", "train/cat/c.jpg", "test/cat/d.png", "test/dog/e.png",
                         "val/dog/f.png", "cat/g.png", "dog/h.png", "train/x.png", "extra/cat/i.png", "train/a/b/c.png",
                         "._j.png", "train/cat/._k.png", "../escape.png", "/abs.png", "notes.txt", "train/dog/l.bmp"])
contents = st.one_of(st.integers(0, 255).map(lambda v: png(v, 8)), st.integers(0, 255).map(lambda v: png(v, 4)),
                     st.binary(max_size=64), st.just(b""), st.integers(0, 255).map(lambda v: png(v, 8)[:40]))
members = st.lists(st.tuples(names, contents, st.sampled_from(["file", "file", "file", "symlink", "dir"])), max_size=12)


def check_loaded(data) -> None:
    for split in (data.train, data.val, data.test):
        assert split.images.dtype.is_floating_point is False and split.images.dim() == 4
        assert int(split.labels.max()) < len(data.classes) and int(split.labels.min()) >= 0


def load_or_refuse(source: Path, root: Path) -> None:
    before = {p for p in root.rglob("*")}
    try:
        check_loaded(load_data(str(source), cache_dir=root / "cache", val_count=1))
    except UserError:
        pass
    written = {p for p in root.rglob("*")} - before
    assert all(root / "cache" in p.parents or p == root / "cache" for p in written), written


@SETTINGS
@given(members)
def test_generated_archives_load_or_are_refused(entries):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        archive = root / "data.tar"
        with tarfile.open(archive, "w") as tar:
            for name, blob, kind in entries:
                info = tarfile.TarInfo(name)
                if kind == "file":
                    info.size = len(blob)
                    tar.addfile(info, io.BytesIO(blob))
                elif kind == "symlink":
                    info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
                    tar.addfile(info)
                else:
                    info.type = tarfile.DIRTYPE
                    tar.addfile(info)
        load_or_refuse(archive, root)


@SETTINGS
@given(members)
def test_generated_folders_load_or_are_refused(entries):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        tree = root / "tree"
        tree.mkdir()
        (root / "outside.png").write_bytes(png(7, 8))
        for name, blob, kind in entries:
            if name.startswith(("/", "..")):
                continue  # a folder cannot hold these names
            path = tree / name
            if path.exists() or any(parent.is_file() for parent in path.parents):
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if kind == "file":
                path.write_bytes(blob)
            elif kind == "symlink":
                path.symlink_to(root / "outside.png")
            else:
                path.mkdir()
        load_or_refuse(tree, root)


FULL = cell_resources(create_model("dnnet_resnet8_g4").config, 4, 4)
cells = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.text(max_size=6), st.just(""))


@SETTINGS
@given(st.lists(st.lists(cells, min_size=0, max_size=4), max_size=5), st.sampled_from([
    "time_s,macs,memory_bytes", "time_s,macs_fraction,memory_fraction", "time,macs", ""]), st.binary(max_size=20))
def test_generated_traces_load_or_are_refused(rows, header, noise):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "trace.csv"
        path.write_bytes((header + "\n" + "\n".join(",".join(row) for row in rows)).encode() + noise)
        try:
            requests = read_trace(path, FULL)
        except UserError:
            return
        assert requests and all(r.macs >= 0 and r.memory_bytes >= 0 and r.time_s >= 0 for r in requests)
