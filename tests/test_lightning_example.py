"""examples/lightning_train.py: a DNNet trained by PyTorch Lightning through dnnet's joint loss (skipped without Lightning)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("lightning")
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "lightning_train.py"


@pytest.mark.slow
def test_lightning_trains_every_cell_of_a_dnnet_with_the_joint_loss():
    done = subprocess.run([sys.executable, str(EXAMPLE), "--epochs", "2"], capture_output=True, text=True, timeout=300,
                          env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    line = done.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r"validation accuracy: full network ([\d.]+)%, smallest cell ([\d.]+)%, mean over 16 cells ([\d.]+)%", line)
    assert match and all(0 <= float(v) <= 100 for v in match.groups())
    assert "max_epochs=2" in done.stderr + done.stdout  # Lightning, not another loop, ran the epochs
