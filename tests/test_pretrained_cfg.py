"""A pretrained network carries its preprocessing (`model.pretrained_cfg`) and its folder a model card."""

import numpy as np
import pytest
import torch
from PIL import Image

from dnnet import DNNet, SubNet
from dnnet.cli.main import main
from dnnet.data import normalize
from dnnet.errors import UserError


@pytest.fixture(scope="module")
def weights(tmp_path_factory, shared_run):
    root = tmp_path_factory.mktemp("cfg")
    run = shared_run("tiny", root / "run")
    assert main(["pretrained", str(run), "--out", str(root / "whole")]) == 0
    assert main(["pretrained", str(run), "--out", str(root / "cell"), "--cell", "2x3"]) == 0
    return root


def test_prepare_is_the_training_normalisation(weights, digits):
    model = DNNet.from_pretrained(weights / "whole")
    cfg = model.pretrained_cfg
    assert cfg.input_size == (3, 16, 16) and cfg.classes == tuple(str(d) for d in range(10))
    images = digits.test.images[:6]
    prepared = torch.cat([cfg.prepare(image.permute(1, 2, 0).numpy()) for image in images])
    torch.testing.assert_close(prepared, normalize(images, list(cfg.mean), list(cfg.std)), rtol=0, atol=1e-6)
    pil = Image.fromarray(images[0].permute(1, 2, 0).numpy())
    assert torch.equal(cfg.prepare(pil), prepared[:1])


def test_an_image_of_another_size_is_resized_on_its_short_side_and_centre_cropped(weights):
    cfg = DNNet.from_pretrained(weights / "whole").pretrained_cfg
    wide = np.zeros((32, 64, 3), dtype=np.uint8)
    wide[:, 16:48] = 255  # the centre square white, the sides black
    prepared = cfg.prepare(wide)
    assert prepared.shape == (1, 3, 16, 16)
    white = (1 - torch.tensor(cfg.mean)) / torch.tensor(cfg.std)
    torch.testing.assert_close(prepared[0, :, :, 1:-1], white[:, None, None].expand(3, 16, 14), rtol=0, atol=1e-5)


@pytest.mark.parametrize("image, message", [
    (np.zeros((16, 16, 3), dtype=np.float32), "uint8 pixels 0..255"),
    (np.zeros((3, 16, 16), dtype=np.uint8), "a \\(channels, height, width\\) array goes through"),
])
def test_inputs_it_cannot_read_are_named(weights, image, message):
    with pytest.raises(UserError, match=message):
        DNNet.from_pretrained(weights / "whole").pretrained_cfg.prepare(image)


def test_a_cell_carries_it_too_and_a_network_built_anew_has_none(weights):
    assert SubNet.from_pretrained(weights / "cell").pretrained_cfg.input_size == (3, 16, 16)
    from dnnet import create_model

    assert create_model("dnnet_resnet8_g4").pretrained_cfg is None


def test_the_card_says_what_the_record_holds(weights):
    whole = (weights / "whole" / "README.md").read_text()
    assert whole.startswith("# dnnet_resnet8_g4 weights\n")
    assert "- Recipe: 1 epochs, step schedule, batch 256, seed 0." in whole
    assert "- Test accuracy of the widths at the last exit: W1 " in whole and "chosen on validation (area)" in whole
    cell = (weights / "cell" / "README.md").read_text()
    assert "one cell of a doubly nested network: exit 2 at width 3 of 4" in cell and "SubNet.from_pretrained" in cell
