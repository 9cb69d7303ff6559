"""dnnet eval --tta flip: every cell's logits averaged over the image and its mirror, written beside the plain grid."""

import json

import pytest
import torch
from conftest import train_tiny_run
from torch import nn

from dnnet.cli.main import main
from dnnet.data import ImageDataset, normalize
from dnnet.errors import UserError
from dnnet.evaluation import grid_accuracy, grid_correct
from dnnet.models import create_model
from dnnet.train.run_directory import load_trained_model


class MirrorSensitive(nn.Module):
    """Two classes; cell (d, w) gives logits (a[d, w], b[d, w] + 40 * (left half's mean - right half's mean)). A mirror
    negates the second term, so the mean over an image and its mirror is (a, b) for every image: with TTA a cell
    predicts class 1 exactly where b > a, whatever the image; without, the image decides."""

    def __init__(self) -> None:
        super().__init__()
        self.config = create_model("dnnet_resnet8_g4", num_classes=2).config  # the grid's shape: 4 exits x 4 widths
        self.a, self.b = nn.Parameter(torch.randn(4, 4)), nn.Parameter(torch.randn(4, 4))

    def forward_all(self, x: torch.Tensor) -> torch.Tensor:
        half = x.shape[-1] // 2
        tilt = 40 * (x[..., :half].mean((1, 2, 3)) - x[..., half:].mean((1, 2, 3)))
        return torch.stack([self.a.expand(len(x), 4, 4), self.b + tilt[:, None, None]], dim=-1)


def test_flip_tta_grid_is_the_argmax_of_the_mean_of_both_passes_computed_by_hand():
    model = MirrorSensitive()
    dataset = ImageDataset(torch.randint(0, 256, (40, 3, 8, 8), dtype=torch.uint8), torch.randint(0, 2, (40,)), ["x", "y"])
    labels = dataset.labels[:, None, None]
    expected = (labels == (model.b > model.a)).double().mean(0)  # the same prediction for every image
    kwargs = dict(mean=[0.0] * 3, std=[1.0] * 3, batch_size=16, show_progress=False)  # x = pixels / 255, exactly
    with torch.no_grad():
        x = dataset.images.float() / 255
        plain = (model.forward_all(x).argmax(-1) == labels).double().mean(0)
    assert torch.equal(grid_accuracy(model, dataset, tta="flip", **kwargs), expected)
    assert torch.equal(grid_accuracy(model, dataset, **kwargs), plain) and not torch.equal(plain, expected)


def test_flip_tta_of_one_width_averages_that_widths_two_passes(digits):
    model = create_model("dnnet_resnet8_g4", in_channels=3, image_size=16).eval()
    mean, std = [0.4] * 3, [0.3] * 3
    x = normalize(digits.val.images, mean, std)
    with torch.no_grad():
        logits = (model.forward_exits(x, 2) + model.forward_exits(x.flip(-1), 2)) / 2
    expected = (logits.argmax(-1) == digits.val.labels[:, None]).sum(0)
    torch.testing.assert_close(grid_correct(model, digits.val, mean, std, width=2, tta="flip", show_progress=False)[:, 0], expected)


def test_an_unknown_tta_mode_is_refused(digits):
    with pytest.raises(UserError, match=r"tta must be one of \('none', 'flip'\), got 'rotate'"):
        grid_accuracy(create_model("dnnet_resnet8_g4", in_channels=3, image_size=16), digits.val, [0.0] * 3, [1.0] * 3,
                      tta="rotate", show_progress=False)


def test_eval_with_tta_writes_its_own_files_beside_the_plain_grid(tmp_path, digits, capsys):
    run = train_tiny_run(tmp_path / "run", digits)
    plain = (run / "accuracy_val.json").read_bytes()
    assert main(["eval", str(run), "--split", "val", "--tta", "flip", "--json"]) == 0
    out, err = capsys.readouterr()
    answer = json.loads(out)
    assert "trained without horizontal flips" in err  # the digits never were: a mirrored digit may be another one
    assert (run / "accuracy_val.json").read_bytes() == plain  # the plain grid is untouched
    written = json.loads((run / "accuracy_val_tta-flip.json").read_text())
    assert (written["split"], written["tta"], answer["tta"]) == ("val", "flip", "flip")
    assert answer["wrote"] == [str(run / f"accuracy_val_tta-flip.{suffix}") for suffix in ("csv", "json", "png")]
    assert all((run / f"accuracy_val_tta-flip.{suffix}").is_file() for suffix in ("csv", "json", "png"))
    model, record = load_trained_model(run)
    x = normalize(digits.val.images, record["data"]["mean"], record["data"]["std"])
    with torch.no_grad():
        logits = (model.forward_all(x) + model.forward_all(x.flip(-1))) / 2
    by_hand = (logits.argmax(-1) == digits.val.labels[:, None, None]).double().mean(0)
    assert written["accuracy"] == [[round(v, 6) for v in row] for row in by_hand.tolist()]
    assert json.loads(plain)["tta"] == "none"
