"""The seeded random streams of a run: one generator per (seed, stream, index), drawn again identically on resume."""

from __future__ import annotations

import torch

# offsets kept from the first release, so that runs reproduce the shuffles and samples they always had
STREAM_OFFSETS = {"epoch_order": 0, "sandwich_widths": 7, "augmentation": 500_009, "width_samples": 700_001}


def random_stream(seed: int, stream: str, index: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A fresh generator on `device` for `stream` ("epoch_order", "augmentation": index = epoch; "sandwich_widths",
    "width_samples": index = global step), a pure function of its arguments: nothing to save beyond the position.
    Another kind of device draws other numbers from the same seed (a GPU's generator is not the CPU's)."""
    if stream not in STREAM_OFFSETS:
        raise ValueError(f"stream must be one of {sorted(STREAM_OFFSETS)}, got {stream!r}")
    # modulo 2**63: a seed near the top of its range would overflow torch's 64-bit seed; every seed below about 9.2e12
    # keeps the value it always had (and so its run's streams)
    return torch.Generator(device=device).manual_seed((seed * 1_000_003 + index + STREAM_OFFSETS[stream]) % 2**63)
