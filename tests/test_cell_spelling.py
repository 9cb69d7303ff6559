"""One spelling of a cell, in and out: DEPTHxWIDTH (the paper's D14&W12 breaks when pasted into a shell)."""

import pytest

from dnnet.cli.main import main
from dnnet.config import cell_name, parse_cell
from dnnet.errors import UserError


@pytest.mark.parametrize("depth,width", [(1, 1), (14, 12), (16, 22)])
def test_a_printed_cell_reads_back(depth, width):
    assert cell_name(depth, width) == f"{depth}x{width}"
    assert parse_cell(cell_name(depth, width)) == (depth, width)


@pytest.mark.parametrize("text", ["14x12", "14X12", " 14x12 ", "D14&W12", "d14w12", "D14_W12"])
def test_the_papers_spelling_and_file_names_are_read_too(text):
    assert parse_cell(text) == (14, 12)


@pytest.mark.parametrize("text", ["", "14", "x12", "14x", "14x12x3", "D14&12", "14 x 12", "-1x2", "1.5x2", "D14&W12&"])
def test_anything_else_is_refused_with_the_spelling(text):
    with pytest.raises(UserError, match=r"a cell is written DEPTHxWIDTH, e\.g\. 14x12"):
        parse_cell(text)


def test_a_misspelt_cell_on_the_command_line_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["profile", "--preset", "dnnet_resnet8_g4", "--cells", "14-12"])
    assert stopped.value.code == 2
    assert "a cell is written DEPTHxWIDTH" in capsys.readouterr().err
