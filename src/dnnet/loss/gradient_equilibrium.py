"""Gradient equilibrium (Li et al., ICCV 2019, "Improved Techniques for Training Adaptive Deep Networks").

Summed over exits, the loss drives a block by every later exit at once, so the early blocks get many
times the gradient of the last ones. Equilibrium gives the feature at each exit the *mean* of the
gradients of the trained exits at or after it: its head passes 1/m of its gradient and the later
blocks (m-1)/m, m being the number of trained exits from there on. Each head's own parameters keep
their whole gradient; the forward pass is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence


def equilibrium_shares(trained_exits: Sequence[bool]) -> list[float]:
    """Per exit, the share of its feature's gradient that its head passes (`DNNet.exit_features`);
    an exit without loss passes none, so the later exits' mean is not diluted by it."""
    shares, later = [], 0
    for trained in reversed(trained_exits):
        later += int(trained)
        shares.append(1.0 / later if trained else 0.0)
    return shares[::-1]
