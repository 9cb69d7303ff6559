"""create_model(name, pretrained=...): shipped weights checked by their sha256, or a folder of save_pretrained;
the whole path tested with a network trained here (no weights are shipped yet)."""

import hashlib
import shutil

import pytest
import torch

import dnnet.models.shipped_weights as shipped_weights
from dnnet import create_model
from dnnet.errors import UserError
from dnnet.train import TrainConfig, train
from dnnet.train.run_directory import load_trained_model


@pytest.fixture(scope="module")
def trained(tmp_path_factory, digits):
    """dnnet_resnet8_g4 trained one epoch on the digits, as a run and as a pretrained folder."""
    root = tmp_path_factory.mktemp("trained")
    train(TrainConfig(preset="dnnet_resnet8_g4", epochs=1, batch_size=256, channels_last=False), root / "run",
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
    with pytest.raises(UserError, match="no trained weights are shipped for 'dnnet_resnet32_g22' \\(shipped: none yet\\)"):
        create_model("dnnet_resnet32_g22", pretrained=True)


def test_a_folder_loads_by_path_and_must_hold_the_preset(trained):
    root, model = trained
    folder = root / "weights" / "dnnet_resnet8_g4_digits"
    assert create_model("dnnet_resnet8_g4", pretrained=folder).config == model.config
    with pytest.raises(UserError, match="holds another architecture than the preset 'dnnet_resnet20_g8'"):
        create_model("dnnet_resnet20_g8", pretrained=folder)
    with pytest.raises(UserError, match="pretrained weights fix the architecture; drop num_classes"):
        create_model("dnnet_resnet8_g4", pretrained=folder, num_classes=100)
