"""Images that cannot be decoded are refused by path and reason (or left out on request, and counted); 16-bit
images are scaled to 8 bits, not clipped; macOS's "._NAME" files are passed over."""

import io
import json

import numpy as np
import pytest
from data_files import png_bytes, tar_folder, write_image_tree
from PIL import Image

from dnnet.cli.main import main
from dnnet.data import load_data
from dnnet.data.image_decode import UnreadableImage, decode_image
from dnnet.data.image_folder import read_image_folder
from dnnet.errors import UserError


def jpeg_bytes(value: int, size: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((size, size, 3), value, np.uint8)).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


BAD = {  # name: (bytes, the reason's words)
    "empty.png": (b"", "empty file"),
    "text.jpg": (b"hello, not an image\n", "cannot identify image file"),
    "truncated.jpg": (jpeg_bytes(120, 64)[:300], "Truncated File Read"),
}


def tree_with(tmp_path, bad_names):
    root = tmp_path / "tree"
    write_image_tree(root, {"train": {"cat": 3, "dog": 2}, "test": {"cat": 1, "dog": 1}})
    for name in bad_names:
        (root / "train" / "dog" / name).write_bytes(BAD[name][0])
    return root


@pytest.mark.parametrize("name", sorted(BAD))
def test_each_unreadable_image_is_named_with_its_reason(tmp_path, name):
    root = tree_with(tmp_path, [name])
    with pytest.raises(UserError, match=f"1 image\\(s\\) cannot be read: train/dog/{name} \\(.*{BAD[name][1]}.*--skip-bad-images"):
        read_image_folder(root)


@pytest.mark.parametrize("as_archive", [False, True])
def test_skip_bad_images_leaves_them_out_and_lists_them(tmp_path, as_archive, capsys):
    root = tree_with(tmp_path, sorted(BAD))
    source = tar_folder(root, tmp_path / "tree.tar.gz", ".") if as_archive else root
    data = load_data(str(source), cache_dir=tmp_path / "cache", val_count=1, skip_bad_images=True)
    assert len(data.train) + len(data.val) == 5 and len(data.test) == 2  # the good ones, all of them
    assert [entry.split(":")[0] for entry in data.skipped_images] == ["train/dog/empty.png", "train/dog/text.jpg",
                                                                      "train/dog/truncated.jpg"]
    assert "left out 3 image(s) that cannot be read" in capsys.readouterr().err
    again = load_data(str(source), cache_dir=tmp_path / "cache", val_count=1, skip_bad_images=True)  # from the cache
    assert again.skipped_images == data.skipped_images


def test_the_run_records_what_it_left_out_and_the_cli_refuses_without_the_flag(tmp_path, capsys):
    root = tree_with(tmp_path, ["truncated.jpg"])
    common = ["train", "--preset", "dnnet_resnet8_g4", "--data", str(root), "--epochs", "1", "--batch-size", "4",
              "--cache-dir", str(tmp_path / "cache"), "--quiet", "--val-count", "1"]
    assert main([*common, "--out", str(tmp_path / "refused")]) == 2
    assert "train/dog/truncated.jpg" in capsys.readouterr().err and not (tmp_path / "refused" / "config.json").exists()
    assert main([*common, "--out", str(tmp_path / "run"), "--skip-bad-images"]) == 0
    data = json.loads((tmp_path / "run" / "config.json").read_text())["data"]
    assert data["skipped_images"] == 1 and data["skipped_images_first"][0].startswith("train/dog/truncated.jpg: ")


def test_macos_metadata_files_are_not_images(tmp_path):
    root = tree_with(tmp_path, [])
    (root / "train" / "cat" / "._0.png").write_bytes(b"\x00\x05\x16\x07 Mac OS X resource fork")
    assert len(read_image_folder(root)["train"]) == 5


@pytest.mark.parametrize("mode,file_format", [("I;16", "PNG"), ("I", "TIFF")])  # PIL writes "I" as TIFF only
def test_a_16_bit_grey_image_is_scaled_not_clipped(mode, file_format):
    values = np.array([[0, 257, 32896], [51400, 65021, 65535]], dtype=np.uint16)
    buffer = io.BytesIO()
    image = Image.fromarray(values) if mode == "I;16" else Image.fromarray(values.astype(np.int32))
    assert image.mode == mode
    image.save(buffer, format=file_format)
    decoded = decode_image(buffer.getvalue())
    assert decoded.shape == (2, 3, 3) and decoded.dtype == np.uint8
    assert decoded[:, :, 0].tolist() == [[0, 1, 128], [200, 253, 255]]
    assert (decoded[:, :, 0] == decoded[:, :, 2]).all()


def test_an_8_bit_image_decodes_as_before():
    assert decode_image(png_bytes(77))[0, 0].tolist() == [77, 77, 77]


def test_a_decompression_bomb_is_refused(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 40)  # an 8x8 image then has more pixels than allowed
    with pytest.raises(UnreadableImage, match="too many pixels"):
        decode_image(png_bytes(1, size=8))
