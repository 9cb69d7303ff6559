"""The decoded-image cache is checked when read: a damaged or tampered entry is decoded again, with one line."""

import sys

import numpy as np
import pytest
import torch
from data_files import tar_folder, write_image_tree

from dnnet.data import load_data


@pytest.fixture
def archive(tmp_path):
    write_image_tree(tmp_path / "tree", {"train": {"cat": 4, "dog": 3}, "test": {"cat": 1, "dog": 1}})
    return tar_folder(tmp_path / "tree", tmp_path / "tree.tar.gz", ".")


def entry(tmp_path):
    (path,) = (tmp_path / "cache").glob("*.npz")
    return path


def truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def zero_the_images(path):
    """A valid .npz whose images are zeros: only the checksum tells."""
    with np.load(path, allow_pickle=False) as stored:
        arrays = {key: stored[key] for key in stored.files}
    arrays["train_images"] = np.zeros_like(arrays["train_images"])
    np.savez(path, **arrays)


def labels_out_of_range(path):
    with np.load(path, allow_pickle=False) as stored:
        arrays = {key: stored[key] for key in stored.files}
    arrays["train_labels"] = arrays["train_labels"] + 5
    np.savez(path, **arrays)


@pytest.mark.parametrize("damage,reason", [(truncate, ""), (zero_the_images, "checksum does not match"),
                                           (labels_out_of_range, "checksum does not match")])
def test_a_damaged_entry_is_decoded_again_with_a_warning(tmp_path, archive, capsys, damage, reason):
    first = load_data(str(archive), cache_dir=tmp_path / "cache", val_count=1)
    damage(entry(tmp_path))
    again = load_data(str(archive), cache_dir=tmp_path / "cache", val_count=1)
    assert torch.equal(again.train.images, first.train.images) and torch.equal(again.test.labels, first.test.labels)
    err = capsys.readouterr().err
    assert f"the decoded-image cache {entry(tmp_path)} is damaged" in err and reason in err
    third = load_data(str(archive), cache_dir=tmp_path / "cache", val_count=1)  # the rebuilt entry is good
    assert torch.equal(third.train.images, first.train.images) and "damaged" not in capsys.readouterr().err


def test_an_entry_copied_under_another_sources_name_is_not_trusted(tmp_path, capsys):
    write_image_tree(tmp_path / "a", {"train": {"cat": 4, "dog": 3}, "test": {"cat": 1, "dog": 1}})
    write_image_tree(tmp_path / "b", {"train": {"ant": 2, "bee": 5}, "test": {"ant": 1, "bee": 2}})
    a = tar_folder(tmp_path / "a", tmp_path / "a.tar.gz", ".")
    b = tar_folder(tmp_path / "b", tmp_path / "b.tar.gz", ".")
    truth = load_data(str(b), cache_dir=tmp_path / "truth", val_count=1)
    load_data(str(a), cache_dir=tmp_path / "cache", val_count=1)
    load_data(str(b), cache_dir=tmp_path / "cache", val_count=1)
    entry_a, entry_b = (next((tmp_path / "cache").glob(f"*-{name}-*.npz")) for name in ("a.tar", "b.tar"))
    entry_b.write_bytes(entry_a.read_bytes())  # A's entry, whole and self-consistent, under B's name
    capsys.readouterr()
    again = load_data(str(b), cache_dir=tmp_path / "cache", val_count=1)
    assert again.train.classes == truth.train.classes == ["ant", "bee"] and torch.equal(again.test.labels, truth.test.labels)
    assert f"the decoded-image cache {entry_b} is damaged (it was written for another source)" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file systems refuse names that are not UTF-8")
def test_file_and_class_names_that_are_not_utf8_are_read_and_cached(tmp_path):
    import os

    from data_files import png_bytes

    write_image_tree(tmp_path / "tree", {"": {"cat": 3, "dog": 3}})
    (tmp_path / "tree" / "cat" / "0001.png").rename(os.fsdecode(bytes(tmp_path / "tree" / "cat") + b"/\xff\xfe.png"))
    os.rename(tmp_path / "tree" / "dog", os.fsdecode(bytes(tmp_path / "tree") + b"/d\xffg"))
    (tmp_path / "tree" / "cat" / "0009.png").write_bytes(png_bytes(99))
    first = load_data(str(tmp_path / "tree"), cache_dir=tmp_path / "cache", val_count=1)
    again = load_data(str(tmp_path / "tree"), cache_dir=tmp_path / "cache", val_count=1)
    assert first.train.classes == again.train.classes == ["cat", os.fsdecode(b"d\xffg")]
    assert len(list((tmp_path / "cache").iterdir())) == 1  # the second read came from the cache
    assert torch.equal(first.train.images, again.train.images)
