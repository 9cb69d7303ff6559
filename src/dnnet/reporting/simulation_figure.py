"""The figure of `dnnet simulate`: budgets over time, what each network used, and the accuracy delivered."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

WINDOW = 25  # requests in the running accuracy


def plot_simulation(requests, served_by: dict, path: Path, title: str) -> Path:
    times = [r.time_s for r in requests]
    fig = Figure(figsize=(10, 8))
    macs_ax, memory_ax, accuracy_ax = fig.subplots(3, 1, sharex=True)
    macs_ax.step(times, [r.macs / 1e6 for r in requests], where="post", color="black", lw=1.2, label="budget")
    memory_ax.step(times, [r.memory_bytes / 1024 for r in requests], where="post", color="black", lw=1.2, label="budget")
    for label, served in served_by.items():
        macs_ax.step(times, [s.cell.macs / 1e6 if s.cell else float("nan") for s in served], where="post", label=label)
        memory_ax.step(times, [s.cell.peak_act_bytes / 1024 if s.cell else float("nan") for s in served], where="post", label=label)
        hits = [float(s.correct) for s in served]
        running = [100 * sum(hits[max(0, i - WINDOW + 1) : i + 1]) / len(hits[max(0, i - WINDOW + 1) : i + 1]) for i in range(len(hits))]
        accuracy_ax.plot(times, running, label=f"{label}: {100 * sum(hits) / len(hits):.1f}% overall")
    macs_ax.set_ylabel("MACs (millions)")
    memory_ax.set_ylabel("peak activation (KiB)")
    accuracy_ax.set_ylabel(f"accuracy (%), last {WINDOW} requests")
    accuracy_ax.set_xlabel("time (s); gaps: no cell fits, the request is refused")
    for ax in (macs_ax, memory_ax, accuracy_ax):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower left")
    macs_ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path
