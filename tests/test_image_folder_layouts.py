"""Image-folder layouts and limits: nested class paths stay apart, misplaced folders and single classes are
refused, links out of the folder are not followed, and oversized files or images are refused before decoding."""

import io
import os
import tarfile

import pytest
from data_files import png_bytes, tar_folder, write_image_tree
from PIL import Image

import dnnet.data.image_folder as image_folder
from dnnet.data import load_data
from dnnet.data.image_folder import read_image_folder
from dnnet.errors import UserError


def test_nested_class_paths_are_separate_classes_and_said_so(tmp_path, capsys):
    for group in ("animals", "vehicles"):
        write_image_tree(tmp_path / "tree" / "train" / group, {"": {"cat": 2}})
    write_image_tree(tmp_path / "tree" / "test" / "animals", {"": {"cat": 1}})
    splits = read_image_folder(tmp_path / "tree")
    assert splits["train"].classes == ["animals/cat", "vehicles/cat"]
    assert splits["train"].labels.tolist() == [0, 0, 1, 1] and splits["test"].labels.tolist() == [0]
    assert "2 class(es) are nested folders, each path its own class: animals/cat, vehicles/cat" in capsys.readouterr().err


@pytest.mark.parametrize("as_archive", [False, True], ids=["folder", "archive"])
@pytest.mark.parametrize("hidden", [".ipynb_checkpoints", ".hidden", "cat/.thumbnails"])
def test_hidden_folders_are_not_data(tmp_path, hidden, as_archive, capsys):
    write_image_tree(tmp_path / "tree", {"": {"cat": 2, "dog": 2}})
    (tmp_path / "tree" / hidden).mkdir(parents=True)
    (tmp_path / "tree" / hidden / "0000.png").write_bytes(png_bytes(7))
    source = tar_folder(tmp_path / "tree", tmp_path / "tree.tar.gz", ".") if as_archive else tmp_path / "tree"
    splits = read_image_folder(source, test_fraction=0.25)
    assert splits["train"].classes == ["cat", "dog"]
    assert len(splits["train"]) + len(splits["test"]) == 4
    assert "nested" not in capsys.readouterr().err


def test_a_dangling_link_is_an_unreadable_image_counted_with_the_others(tmp_path):
    write_image_tree(tmp_path / "tree", {"": {"cat": 2, "dog": 2}})
    os.symlink(tmp_path / "gone.png", tmp_path / "tree" / "cat" / "link.png")
    with pytest.raises(UserError, match="1 image\\(s\\) cannot be read: cat/link.png \\(a link to a missing file\\)"):
        read_image_folder(tmp_path / "tree")
    splits = read_image_folder(tmp_path / "tree", test_fraction=0.25, skip_bad_images=True)
    assert splits["train"].skipped == ("cat/link.png: a link to a missing file",)


def test_an_archive_holding_a_name_twice_is_refused(tmp_path):
    archive = tmp_path / "twice.tar"
    with tarfile.open(archive, "w") as tar:
        for name, value in [("cat/0.png", 1), ("dog/0.png", 2), ("cat/0.png", 3)]:
            blob = png_bytes(value)
            member = tarfile.TarInfo(name)
            member.size = len(blob)
            tar.addfile(member, io.BytesIO(blob))
    with pytest.raises(UserError, match="cat/0.png is in the archive twice"):
        read_image_folder(archive)


def test_a_class_folder_beside_the_split_folders_is_refused(tmp_path):
    write_image_tree(tmp_path / "tree", {"train": {"cat": 2, "dog": 2}, "test": {"cat": 1}, "extra": {"cat": 1}})
    with pytest.raises(UserError, match="extra/ lies beside train/, val/, test/"):
        read_image_folder(tmp_path / "tree")


def test_an_image_in_no_class_folder_is_refused(tmp_path):
    write_image_tree(tmp_path / "tree", {"train": {"cat": 2, "dog": 2}})
    (tmp_path / "tree" / "train" / "stray.png").write_bytes(png_bytes(3))
    with pytest.raises(UserError, match="train/stray.png is in no class folder"):
        read_image_folder(tmp_path / "tree")


def test_a_single_class_is_refused(tmp_path):
    write_image_tree(tmp_path / "tree", {"train": {"cat": 4}})
    with pytest.raises(UserError, match="train has a single class"):
        read_image_folder(tmp_path / "tree")


def test_a_link_out_of_the_folder_is_not_followed(tmp_path):
    write_image_tree(tmp_path / "tree", {"": {"cat": 2, "dog": 2}})
    (tmp_path / "secret.png").write_bytes(png_bytes(9))
    os.symlink(tmp_path / "secret.png", tmp_path / "tree" / "cat" / "link.png")
    with pytest.raises(UserError, match="cat/link.png is a link to .*secret.png, outside the folder"):
        read_image_folder(tmp_path / "tree")


def test_a_link_inside_the_folder_is_read(tmp_path):
    write_image_tree(tmp_path / "tree", {"": {"cat": 2, "dog": 2}})
    os.symlink(tmp_path / "tree" / "cat" / "0000.png", tmp_path / "tree" / "dog" / "link.png")
    assert len(read_image_folder(tmp_path / "tree", test_fraction=0.25)["train"]) == 4


def test_a_fifo_as_data_is_refused_at_once(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(UserError, match="neither a folder nor a regular file"):
        load_data(str(tmp_path / "pipe"), cache_dir=tmp_path / "cache")


def test_an_oversized_archive_member_is_refused_by_its_header(tmp_path, monkeypatch):
    """The member's size is read from its tar header: it is refused before a byte of it is read."""
    monkeypatch.setattr(image_folder, "MAX_IMAGE_FILE_BYTES", 1000)
    archive = tmp_path / "tree.tar"
    with tarfile.open(archive, "w") as tar:
        for name, blob in [("cat/a.png", png_bytes(1)), ("dog/b.png", png_bytes(2)), ("dog/huge.png", b"\0" * 5000)]:
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    with pytest.raises(UserError, match="member 'dog/huge.png' holds 5,000 bytes, more than the 1,000"):
        read_image_folder(archive)


def test_members_that_are_not_images_are_never_read(tmp_path, monkeypatch):
    import dnnet.data.safe_archive as safe_archive

    write_image_tree(tmp_path / "tree", {"": {"cat": 2, "dog": 2}})
    (tmp_path / "tree" / "README.txt").write_bytes(b"x" * 10_000)
    archive = tar_folder(tmp_path / "tree", tmp_path / "tree.tar", ".")
    read = []
    real = tarfile.TarFile.extractfile
    monkeypatch.setattr(safe_archive.tarfile.TarFile, "extractfile", lambda self, m: read.append(m.name) or real(self, m))
    read_image_folder(archive)
    assert sorted(read) == ["./cat/0000.png", "./cat/0001.png", "./dog/0000.png", "./dog/0001.png"]


def test_an_image_declaring_too_many_pixels_is_refused_before_decoding(tmp_path):
    """A 5000x5000 PNG of zeros is a few KB on disk and 75 MB decoded: refused from its header (PIL's own limit,
    89M pixels, would let it through)."""
    buffer = io.BytesIO()
    Image.new("L", (5000, 5000)).save(buffer, format="PNG")
    write_image_tree(tmp_path / "tree", {"": {"cat": 2, "dog": 2}})
    (tmp_path / "tree" / "dog" / "huge.png").write_bytes(buffer.getvalue())
    with pytest.raises(UserError, match=r"dog/huge.png \(5000x5000 pixels, more than the 16,777,216"):
        read_image_folder(tmp_path / "tree")


@pytest.mark.parametrize("as_archive", [False, True])
def test_images_that_add_up_past_the_limit_are_refused(tmp_path, monkeypatch, as_archive):
    monkeypatch.setattr(image_folder, "MAX_TOTAL_IMAGE_BYTES", 300)
    write_image_tree(tmp_path / "tree", {"": {"cat": 4, "dog": 4}})  # 8 PNGs of about 70 bytes
    source = tar_folder(tmp_path / "tree", tmp_path / "tree.tar.gz", ".") if as_archive else tmp_path / "tree"
    with pytest.raises(UserError, match="its images hold more than 300 bytes"):
        read_image_folder(source)
