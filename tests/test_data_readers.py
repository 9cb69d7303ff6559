"""The data readers (CIFAR batches, SVHN .mat files, image folders and archives): exact, and refusing what could run code."""

import io
import pickle
import re
import tarfile

import pytest
import torch
from data_files import png_bytes, tar_folder, write_cifar10, write_cifar100, write_image_tree, write_svhn

from dnnet.data import detect_format, load_data
from dnnet.data.cifar_pickle import read_cifar
from dnnet.data.image_folder import read_image_folder
from dnnet.data.safe_archive import UnsafeArchiveError, iter_files
from dnnet.data.svhn_mat import read_svhn


@pytest.mark.parametrize("as_archive", [False, True])
def test_cifar10_batches_read_exactly(tmp_path, as_archive):
    written = write_cifar10(tmp_path / "cifar-10-batches-py")
    source = tar_folder(tmp_path / "cifar-10-batches-py", tmp_path / "c.tar.gz", "cifar-10-batches-py") if as_archive \
        else tmp_path / "cifar-10-batches-py"
    splits = read_cifar(source)
    assert splits["train"].images.shape == (20, 3, 32, 32) and splits["test"].images.shape == (4, 3, 32, 32)
    data, labels = written["data_batch_2"]
    assert torch.equal(splits["train"].images[4:8], torch.from_numpy(data.reshape(4, 3, 32, 32)))
    assert splits["train"].labels[4:8].tolist() == labels
    assert splits["train"].classes[0] == "airplane"


def test_cifar100_uses_fine_labels(tmp_path):
    write_cifar100(tmp_path / "cifar-100-python")
    splits = read_cifar(tmp_path / "cifar-100-python")
    assert len(splits["train"].classes) == 100
    stored = pickle.loads((tmp_path / "cifar-100-python" / "train").read_bytes(), encoding="latin1")
    assert splits["train"].labels.tolist() == stored[b"fine_labels"]


def test_cifar_batch_that_would_run_code_is_refused(tmp_path):
    write_cifar10(tmp_path / "c")

    class Exploit:
        def __reduce__(self):
            return (print, ("owned",))

    (tmp_path / "c" / "data_batch_1").write_bytes(pickle.dumps({b"data": Exploit()}))
    with pytest.raises(ValueError, match=r"data_batch_1: not a CIFAR python batch \(refusing to load builtins.print"):
        read_cifar(tmp_path / "c")


def test_svhn_mat_files(tmp_path):
    scipy_io = pytest.importorskip("scipy.io")
    write_svhn(tmp_path, {"train": 5, "test": 3})
    splits = read_svhn(tmp_path)
    assert splits["train"].labels.tolist() == [0, 1, 2, 3, 4]  # label 10 is the digit 0
    stored = scipy_io.loadmat(tmp_path / "train_32x32.mat")["X"]
    assert torch.equal(splits["train"].images[3], torch.from_numpy(stored[:, :, :, 3].transpose(2, 0, 1).copy()))
    assert detect_format(tmp_path) == "svhn"


def test_named_svhn_is_read_as_svhn_beside_cifar_batches(tmp_path):
    scipy_io = pytest.importorskip("scipy.io")
    write_svhn(tmp_path / "data", {"train": 6, "test": 3})
    write_cifar10(tmp_path / "data" / "cifar-10-batches-py")  # the same data folder holds both
    data = load_data("svhn", data_dir=tmp_path / "data", cache_dir=tmp_path / "cache", val_count=2)
    stored = scipy_io.loadmat(tmp_path / "data" / "test_32x32.mat")["X"]
    assert torch.equal(data.test.images, torch.from_numpy(stored.transpose(3, 2, 0, 1).copy()))
    assert (len(data.train), len(data.val), len(data.test), data.flip) == (4, 2, 3, False)


@pytest.mark.parametrize("as_archive", [False, True])
def test_image_folder_with_train_and_test(tmp_path, as_archive):
    write_image_tree(tmp_path / "tree", {"train": {"cat": 3, "dog": 2}, "test": {"cat": 1, "dog": 1}})
    source = tar_folder(tmp_path / "tree", tmp_path / "tree.tar.gz", ".") if as_archive else tmp_path / "tree"
    splits = read_image_folder(source)
    assert splits["train"].classes == ["cat", "dog"]
    assert splits["train"].labels.tolist() == [0, 0, 0, 1, 1]
    assert splits["train"].images[:, 0, 0, 0].tolist() == [0, 1, 2, 10, 11]
    assert splits["test"].labels.tolist() == [0, 1]


def _first_pixels(*datasets) -> list[int]:
    """The values that write_image_tree gave the images of all `datasets`, sorted."""
    return sorted(value for dataset in datasets for value in dataset.images[:, 0, 0, 0].tolist())


@pytest.mark.parametrize("as_archive", [False, True])
def test_image_folder_val_is_the_validation_split(tmp_path, as_archive):
    write_image_tree(tmp_path / "tree", {"train": {"cat": 3, "dog": 2}, "val": {"cat": 2, "dog": 1}, "test": {"cat": 1, "dog": 1}})
    source = tar_folder(tmp_path / "tree", tmp_path / "tree.tar.gz", ".") if as_archive else tmp_path / "tree"
    data = load_data(str(source), cache_dir=tmp_path / "cache", seed=3)
    assert _first_pixels(data.train) == [0, 1, 2, 10, 11]  # nothing held out of train
    assert _first_pixels(data.val) == [100, 101, 110] and data.val.labels.tolist() == [0, 0, 1]
    assert _first_pixels(data.test) == [200, 210]


def test_val_count_beside_a_val_folder_is_an_error(tmp_path):
    write_image_tree(tmp_path / "tree", {"train": {"cat": 3, "dog": 1}, "val": {"cat": 1}, "test": {"cat": 1}})
    with pytest.raises(ValueError, match=r"tree has a val/ folder, which is the validation split; drop val_count=2"):
        load_data(str(tmp_path / "tree"), cache_dir=tmp_path / "cache", val_count=2)


def test_image_folder_with_train_and_val_holds_out_a_test_split_fixed_for_every_seed(tmp_path):
    write_image_tree(tmp_path / "tree", {"train": {"cat": 5, "dog": 5}, "val": {"cat": 1, "dog": 1}})
    a = load_data(str(tmp_path / "tree"), cache_dir=tmp_path / "cache_a", seed=0)
    b = load_data(str(tmp_path / "tree"), cache_dir=tmp_path / "cache_b", seed=1)
    assert _first_pixels(a.val) == [100, 110] and (len(a.train), len(a.test)) == (8, 2)
    assert _first_pixels(a.train, a.test) == [0, 1, 2, 3, 4, 10, 11, 12, 13, 14]
    assert torch.equal(a.test.images, b.test.images)


def test_image_folder_without_val_holds_out_disjoint_val_and_test(tmp_path):
    write_image_tree(tmp_path / "tree", {"": {"a": 10, "b": 10}})
    data = load_data(str(tmp_path / "tree"), cache_dir=tmp_path / "cache", val_count=3)
    assert (len(data.train), len(data.val), len(data.test)) == (13, 3, 4)
    assert _first_pixels(data.train, data.val, data.test) == list(range(10)) + list(range(10, 20))


def test_plain_class_folders_hold_out_a_test_split(tmp_path):
    write_image_tree(tmp_path, {"": {"a": 5, "b": 5}})
    splits = read_image_folder(tmp_path, test_fraction=0.2)
    assert (len(splits["train"]), len(splits["test"])) == (8, 2)


def test_archive_without_class_folders_is_a_clear_error(tmp_path):
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "x.png").write_bytes(png_bytes(1))
    archive = tar_folder(tmp_path / "flat", tmp_path / "flat.tar.gz", ".")
    with pytest.raises(ValueError, match=r"flat.tar.gz: x.png is in no class folder \(expected CLASS/IMAGE\)"):
        load_data(str(archive), cache_dir=tmp_path / "cache")


def _tar_with(path, member: tarfile.TarInfo, first_file: str):
    """A tar whose first member `first_file` is harmless and whose second is `member`."""
    with tarfile.open(path, "w") as tar:
        ok = tarfile.TarInfo(first_file)
        ok.size = 1
        tar.addfile(ok, io.BytesIO(b"x"))
        tar.addfile(member, io.BytesIO(b"x") if member.isfile() else None)
    return path


# the first file makes the archive look like an image folder or like CIFAR batches, so both readers are exercised
@pytest.mark.parametrize("first_file", ["train/cat/ok.png", "cifar-10-batches-py/data_batch_1"])
@pytest.mark.parametrize("name,kind,message", [
    ("../evil.png", tarfile.REGTYPE, "path leaves the extraction folder"),
    ("/abs/evil.png", tarfile.REGTYPE, "path leaves the extraction folder"),
    ("train/cat/link.png", tarfile.SYMTYPE, "links are not extracted"),
    ("train/cat/hard.png", tarfile.LNKTYPE, "links are not extracted"),
    ("train/cat/dev", tarfile.CHRTYPE, "not a regular file or folder"),
    ("train/cat/fifo", tarfile.FIFOTYPE, "not a regular file or folder"),
])
def test_unsafe_archive_members_are_refused(tmp_path, name, kind, message, first_file):
    member = tarfile.TarInfo(name)
    member.type = kind
    member.size = 1 if kind == tarfile.REGTYPE else 0
    if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
        member.linkname = "/etc/passwd"
    archive = _tar_with(tmp_path / "bad.tar", member, first_file)
    with pytest.raises(UnsafeArchiveError, match=message):
        list(iter_files(archive))
    (tmp_path / "cache").mkdir()
    with pytest.raises(UnsafeArchiveError, match=rf"bad.tar: refusing member '{re.escape(name)}': {message}"):
        load_data(str(archive), cache_dir=tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []  # refused before anything was decoded or cached


def test_truncated_archive_names_the_file(tmp_path):
    write_image_tree(tmp_path / "tree", {"train": {"cat": 15, "dog": 15}, "test": {"cat": 2}})
    archive = tar_folder(tmp_path / "tree", tmp_path / "tree.tar.gz", ".")
    blob = archive.read_bytes()
    archive.write_bytes(blob[: len(blob) // 2])
    (tmp_path / "cache").mkdir()
    with pytest.raises(ValueError, match=r"tree.tar.gz: truncated or corrupt archive"):
        load_data(str(archive), cache_dir=tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_second_load_comes_from_the_cache(tmp_path, monkeypatch):
    write_image_tree(tmp_path / "tree", {"train": {"cat": 6, "dog": 6}, "test": {"cat": 2, "dog": 2}})
    archive = tar_folder(tmp_path / "tree", tmp_path / "tree.tar.gz", ".")
    first = load_data(str(archive), cache_dir=tmp_path / "cache", val_count=2)
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1
    import dnnet.data.dispatch as dispatch

    monkeypatch.setitem(dispatch.READERS, "image_folder", lambda *a, **k: pytest.fail("decoded again"))
    second = load_data(str(archive), cache_dir=tmp_path / "cache", val_count=2)
    assert torch.equal(first.train.images, second.train.images) and torch.equal(first.test.labels, second.test.labels)


def test_failed_cache_write_leaves_no_entry_and_the_data_is_used_without_it(tmp_path, monkeypatch, capsys):
    write_image_tree(tmp_path / "tree", {"train": {"cat": 4, "dog": 1}, "test": {"cat": 1}})
    archive = tar_folder(tmp_path / "tree", tmp_path / "tree.tar.gz", ".")
    import dnnet.data.decoded_cache as cache

    def crash(stream, **arrays):
        stream.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(cache.np, "savez", crash)
    data = load_data(str(archive), cache_dir=tmp_path / "cache", val_count=1)
    assert (len(data.train), len(data.val), len(data.test)) == (4, 1, 1)
    assert list((tmp_path / "cache").iterdir()) == []
    assert "cannot write the decoded-image cache" in capsys.readouterr().err


def _pixel_keys(dataset) -> set[bytes]:
    """Each image's bytes; no two of the 1,797 digits are identical, so these name the images."""
    return {image.numpy().tobytes() for image in dataset.images}


def test_validation_split_is_fixed_by_the_seed():
    a, b, c = load_data("digits", seed=0), load_data("digits", seed=0), load_data("digits", seed=1)
    assert torch.equal(a.val.images, b.val.images) and torch.equal(a.val.labels, b.val.labels)
    assert not torch.equal(a.val.images, c.val.images)


@pytest.mark.parametrize("seed", [0, 1])
def test_digits_splits_are_disjoint(seed):
    data = load_data("digits", seed=seed)
    train, val, test = _pixel_keys(data.train), _pixel_keys(data.val), _pixel_keys(data.test)
    assert (len(train), len(val), len(test)) == (1237, 200, 360)
    assert train & val == set() and train & test == set() and val & test == set()


def test_digits_test_split_does_not_depend_on_the_seed():
    a, c = load_data("digits", seed=0), load_data("digits", seed=1)
    assert torch.equal(a.test.images, c.test.images) and torch.equal(a.test.labels, c.test.labels)


def test_hold_out_partitions_the_set():
    from dnnet.data import ImageDataset, hold_out

    images = torch.arange(10, dtype=torch.uint8)[:, None, None, None].expand(10, 1, 2, 2).contiguous()
    rest, held = hold_out(ImageDataset(images, torch.arange(10), ["x"]), 3, seed=5)
    assert sorted(rest.labels.tolist() + held.labels.tolist()) == list(range(10)) and len(held) == 3
    assert torch.equal(held.images[:, 0, 0, 0].long(), held.labels)


def test_missing_named_data_set_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"cifar10 not found in .*pass --data-dir, or --download"):
        load_data("cifar10", data_dir=tmp_path)
