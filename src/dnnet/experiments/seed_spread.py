"""Where an experiment has trained a network with several seeds, its curve is their mean and the band their range."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class SpreadPoint:
    x: float
    mean: float
    low: float  # the lowest seed's value
    high: float  # the highest seed's
    seeds: int  # how many seeds gave a value at this x


def spread_by(rows: list[dict], x_key: str, y_key: str) -> list[SpreadPoint]:
    """Rows grouped by `x_key` (one row per seed at each x), sorted by x: the mean and range of `y_key` there."""
    by_x: dict[float, list[float]] = {}
    for row in rows:
        by_x.setdefault(row[x_key], []).append(row[y_key])
    return [SpreadPoint(x, statistics.fmean(ys), min(ys), max(ys), len(ys)) for x, ys in sorted(by_x.items())]


def draw_spread(ax, points: list[SpreadPoint], style: str, color: str, label: str, x_scale: float = 1.0,
                y_scale: float = 100.0, **line_options) -> None:
    """The mean as a line in `style`; with 2+ seeds a translucent band (a bar for a single point) from the lowest to
    the highest seed, and the label says so. Values are multiplied by the scales (accuracy as a fraction -> percent)."""
    xs = [p.x * x_scale for p in points]
    lows, highs = [p.low * y_scale for p in points], [p.high * y_scale for p in points]
    seeds = max((p.seeds for p in points), default=1)
    if seeds > 1:
        label = f"{label} (mean of {seeds} seeds, {'band' if len(points) > 1 else 'bar'}: their range)"
        if len(points) > 1:
            ax.fill_between(xs, lows, highs, color=color, alpha=0.18, lw=0)
        else:
            ax.vlines(xs, lows, highs, color=color, lw=1.5)
    ax.plot(xs, [p.mean * y_scale for p in points], style, color=color, label=label, **line_options)
