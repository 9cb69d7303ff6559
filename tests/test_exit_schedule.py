"""The exit ramp: early exits' loss weights rise over a share of the run while the last exit stays whole."""

import pytest
import torch

from dnnet.loss.exit_schedule import RAMP_START, exit_ramp


@pytest.mark.parametrize("progress,early", [(0.0, RAMP_START), (0.25, RAMP_START + (1 - RAMP_START) / 2), (0.5, 1.0), (0.9, 1.0)])
def test_early_exits_ramp_in_and_the_last_exit_stays_whole(progress, early):
    torch.testing.assert_close(exit_ramp(4, progress, ramp_fraction=0.5), torch.tensor([early, early, early, 1.0]))


def test_no_ramp_keeps_every_exit_whole():
    assert torch.equal(exit_ramp(3, 0.0, ramp_fraction=0.0), torch.ones(3))


def test_ramp_fraction_is_checked():
    with pytest.raises(ValueError, match=r"ramp_fraction must be in \[0, 1\], got 1.5"):
        exit_ramp(3, 0.0, 1.5)
