"""Where a result came from: commit, machine and versions, recorded beside every output file."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import torch


def git_commit(cwd: str | Path | None = None) -> str:
    """The commit of the working tree (with "+dirty" when it has changes), or "unknown".

    $DNNET_COMMIT, when set, is taken instead: a tree copied to another machine may carry no git
    metadata, or stale metadata that names an older commit.
    """
    if os.environ.get("DNNET_COMMIT"):
        return os.environ["DNNET_COMMIT"]
    cwd = Path(cwd) if cwd else Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10, check=True)
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit.stdout.strip() + ("+dirty" if status.stdout.strip() else "")


def provenance() -> dict[str, Any]:
    """Commit, machine, versions and time, as a JSON-ready dict."""
    return {
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
