"""`python -m dnnet` is the dnnet command, and `dnnet --version` names dnnet's and torch's versions."""

import subprocess
import sys

from dnnet.version import dnnet_version, torch_version


def test_python_m_dnnet_and_version():
    result = subprocess.run([sys.executable, "-m", "dnnet", "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == f"dnnet {dnnet_version()} (torch {torch_version()})"
    assert dnnet_version() != "unknown"  # installed, as make install does
