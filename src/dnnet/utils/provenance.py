"""Where a result came from: commit, machine and versions, recorded beside every output file."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import torch

from dnnet.utils.running_command import command_line
from dnnet.utils.version import dnnet_version

NOT_A_CHECKOUT = "installed (not a checkout of dnnet)"


def git_commit(package_dir: str | Path | None = None) -> str:
    """The commit of the dnnet checkout that runs (with "+dirty" when it has changes), "unknown" without git, or
    NOT_A_CHECKOUT when dnnet is installed: a wheel inside a user's own repository must not record the user's commit.

    $DNNET_COMMIT, when set, is taken instead: a tree copied to another machine may carry no git
    metadata, or stale metadata that names an older commit.
    """
    if os.environ.get("DNNET_COMMIT"):
        return os.environ["DNNET_COMMIT"]
    cwd = Path(package_dir) if package_dir else Path(__file__).resolve().parents[1]  # src/dnnet, above utils/
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=cwd, capture_output=True, text=True, timeout=10)
        if top.returncode != 0 or Path(top.stdout.strip()).resolve() / "src" / "dnnet" != cwd.resolve():
            return NOT_A_CHECKOUT if top.returncode == 0 or "not a git repository" in top.stderr else "unknown"
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10, check=True)
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit.stdout.strip() + ("+dirty" if status.stdout.strip() else "")


def provenance() -> dict[str, Any]:
    """The command, commit, machine, versions and time, as a JSON-ready dict."""
    return {
        "command": command_line(),
        "dnnet": dnnet_version(),
        "commit": git_commit(),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda_device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "written_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
