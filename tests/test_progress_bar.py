"""Long steps draw a bar on a terminal and stay quiet in a log or a pipe."""

import sys

import torch

from dnnet import create_model
from dnnet.data import ImageDataset
from dnnet.evaluation import grid_accuracy
from dnnet.utils.progress_bar import progress


class Terminal:
    """stderr as a terminal would be: isatty() is true, and what is written is kept."""

    def __init__(self):
        self.text = ""

    def isatty(self):
        return True

    def write(self, text):
        self.text += text
        return len(text)

    def flush(self):
        pass


def test_without_a_terminal_a_stage_is_a_line_as_it_starts_and_one_as_it_ends(capsys):
    assert list(progress([1, 2, 3], "exporting the cells", total=3, unit="cell")) == [1, 2, 3]
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "dnnet: exporting the cells (3 cells) ..." and len(lines) == 2
    assert lines[1].startswith("dnnet: exporting the cells: done in ") and lines[1].endswith(" s")


def test_on_a_terminal_a_bar_counts_the_same_items(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert list(progress(range(5), "counting", unit="cell")) == [0, 1, 2, 3, 4]
    assert "counting" in terminal.text and "0/5" in terminal.text and terminal.text.endswith("\r")  # drawn, then cleared


def test_evaluating_every_cell_shows_its_batches_and_gives_the_same_grid(monkeypatch):
    torch.manual_seed(0)
    model = create_model("dnnet_resnet8_g4", image_size=8)
    data = ImageDataset(torch.randint(0, 256, (20, 3, 8, 8), dtype=torch.uint8), torch.randint(0, 10, (20,)), [str(c) for c in range(10)])
    quiet = grid_accuracy(model, data, [0.5] * 3, [0.25] * 3, batch_size=8)
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    shown = grid_accuracy(model, data, [0.5] * 3, [0.25] * 3, batch_size=8)
    assert torch.equal(quiet, shown)
    assert "evaluating 16 cells" in terminal.text and "0/3" in terminal.text


def test_a_quiet_training_draws_no_evaluation_bar(monkeypatch, tmp_path, digits):
    from dnnet.train import TrainConfig, train

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    train(TrainConfig.from_flat(preset="dnnet_resnet8_g4", epochs=1, batch_size=256, channels_last=False), tmp_path / "run",
          show_progress=False, data=digits)
    assert terminal.text == ""
