"""create_model(name, pretrained=...): shipped weights checked by their sha256, or a folder of save_pretrained;
the whole path tested with a network trained here (no weights are shipped yet)."""

import hashlib
import shutil
from pathlib import Path

import pytest
import torch

import dnnet.models.shipped_weights as shipped_weights
from dnnet import create_model
from dnnet.config import NetConfig
from dnnet.errors import UserError
from dnnet.models.pretrained_files import read_pretrained_record
from dnnet.train import TrainConfig, train
from dnnet.train.run_directory import load_trained_model


@pytest.fixture(scope="module")
def trained(tmp_path_factory, digits):
    """dnnet_resnet8_g4 trained one epoch on the digits, as a run and as a pretrained folder."""
    root = tmp_path_factory.mktemp("trained")
    train(TrainConfig.from_flat(preset="dnnet_resnet8_g4", epochs=1, batch_size=256, channels_last=False), root / "run",
          show_progress=False, data=digits)
    model, _ = load_trained_model(root / "run")
    model.save_pretrained(root / "weights" / "dnnet_resnet8_g4_digits")
    return root, model


@pytest.fixture
def shipped(trained, monkeypatch):
    root, _ = trained
    digest = hashlib.sha256((root / "weights" / "dnnet_resnet8_g4_digits" / "model.safetensors").read_bytes()).hexdigest()
    monkeypatch.setattr(shipped_weights, "WEIGHTS_DIR", root / "weights")
    monkeypatch.setattr(shipped_weights, "SHIPPED", {"dnnet_resnet8_g4": {"folder": "dnnet_resnet8_g4_digits", "sha256": digest}})
    return root


def test_shipped_weights_load_and_answer_as_the_trained_network(shipped, trained, digits):
    _, model = trained
    loaded = create_model("dnnet_resnet8_g4", pretrained=True)
    x = digits.test.images[:16].float() / 255
    assert torch.equal(loaded.forward_all(x), model.forward_all(x)) and not loaded.training


def test_damaged_shipped_weights_are_refused(shipped, tmp_path, monkeypatch):
    copy = tmp_path / "weights"
    shutil.copytree(shipped / "weights", copy)
    weights = copy / "dnnet_resnet8_g4_digits" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1] + b"\x01")
    monkeypatch.setattr(shipped_weights, "WEIGHTS_DIR", copy)
    with pytest.raises(UserError, match="is missing or damaged"):
        create_model("dnnet_resnet8_g4", pretrained=True)


def test_a_preset_without_shipped_weights_says_what_exists():
    with pytest.raises(UserError, match="no trained weights are shipped for 'dnnet_resnet32_g22' \\(shipped: dnnet_resnet20_g8\\)"):
        create_model("dnnet_resnet32_g22", pretrained=True)


def test_a_folder_loads_by_path_and_must_hold_the_preset(trained):
    root, model = trained
    folder = root / "weights" / "dnnet_resnet8_g4_digits"
    assert create_model("dnnet_resnet8_g4", pretrained=folder).config == model.config
    with pytest.raises(UserError, match="holds another architecture than the preset 'dnnet_resnet20_g8'"):
        create_model("dnnet_resnet20_g8", pretrained=folder)
    with pytest.raises(UserError, match="pretrained weights fix the architecture; drop num_classes"):
        create_model("dnnet_resnet8_g4", pretrained=folder, num_classes=100)


CIFAR_JPEGS = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10-jpg.tar.gz"


def cifar_test_images(per_class: int) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """The first `per_class` test images of every class from the shared JPEG archive (test/ comes first in it)."""
    import io
    import tarfile

    import numpy as np
    from PIL import Image

    by_class: dict[str, list[np.ndarray]] = {}
    with tarfile.open(CIFAR_JPEGS) as archive:
        for member in archive:
            parts = member.name.split("/")
            if parts[0] != "test" and by_class:
                break
            if member.isfile() and parts[0] == "test" and len(by_class.setdefault(parts[1], [])) < per_class:
                image = Image.open(io.BytesIO(archive.extractfile(member).read())).convert("RGB")
                by_class[parts[1]].append(np.asarray(image))
    classes = sorted(by_class)
    images = torch.from_numpy(np.stack([image for name in classes for image in by_class[name]])).permute(0, 3, 1, 2)
    labels = torch.tensor([index for index, name in enumerate(classes) for _ in by_class[name]])
    return images, labels, classes


@pytest.mark.parametrize("preset", sorted(shipped_weights.SHIPPED))
def test_every_shipped_network_is_whole_and_says_where_it_comes_from(preset):
    entry = shipped_weights.SHIPPED[preset]
    record = read_pretrained_record(shipped_weights.shipped_weights_folder(preset))  # its sha256 checked on the way
    assert record["provenance"]["test_accuracy"]["full_network"] == entry["test_accuracy"]
    assert record["provenance"]["data"] == entry["data"] and entry["command"].startswith("dnnet ")
    assert create_model(preset, pretrained=True).config == NetConfig.from_dict(record["net_config"])


@pytest.mark.skipif(not CIFAR_JPEGS.is_file(), reason="the shared CIFAR-10 JPEG archive is not beside the checkout")
def test_the_shipped_cifar10_network_classifies_cifar10_test_images_as_recorded():
    """1,000 test images (100 per class): the full network within 4 points of its recorded accuracy on all 10,000."""
    entry = shipped_weights.SHIPPED["dnnet_resnet20_g8"]
    folder = shipped_weights.shipped_weights_folder("dnnet_resnet20_g8")
    preprocessing = read_pretrained_record(folder)["preprocessing"]
    images, labels, classes = cifar_test_images(100)
    assert classes == preprocessing["classes"]
    mean, std = (torch.tensor(preprocessing[key])[None, :, None, None] for key in ("mean", "std"))
    model = create_model("dnnet_resnet20_g8", pretrained=True)
    with torch.no_grad():
        predicted = model((images.float() / 255 - mean) / std).argmax(-1)
    assert abs((predicted == labels).double().mean().item() - entry["test_accuracy"]) < 0.04


@pytest.mark.skipif(not CIFAR_JPEGS.is_file(), reason="the shared CIFAR-10 JPEG archive is not beside the checkout")
def test_the_shipped_network_prepares_its_own_images():
    """model.pretrained_cfg.prepare on the decoded JPEGs gives exactly the training normalisation, and its labels."""
    images, labels, classes = cifar_test_images(10)
    model = create_model("dnnet_resnet20_g8", pretrained=True)
    cfg = model.pretrained_cfg
    prepared = torch.cat([cfg.prepare(image.permute(1, 2, 0).numpy()) for image in images])
    mean, std = (torch.tensor(values)[None, :, None, None] for values in (cfg.mean, cfg.std))
    torch.testing.assert_close(prepared, (images.float() / 255 - mean) / std, rtol=0, atol=1e-6)
    assert list(cfg.classes) == classes and cfg.label(3) == "cat"


@pytest.mark.parametrize("preset", sorted(shipped_weights.SHIPPED))
def test_every_shipped_folder_has_the_card_its_record_makes(preset):
    from dnnet.models.model_card import model_card

    folder = shipped_weights.shipped_weights_folder(preset)
    record = read_pretrained_record(folder)
    assert (folder / "README.md").read_text() == model_card(record)
    assert record["provenance"]["anytime_path"]["rule"] == "area"  # what `dnnet pretrained` records of a run now
