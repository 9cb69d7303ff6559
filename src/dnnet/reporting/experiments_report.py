"""report.html of an experiment root: every experiment's figure, its key numbers and its table."""

from __future__ import annotations

import html
import json
from pathlib import Path

from dnnet.errors import MissingFile
from dnnet.reporting.embedded_image import embedded_img

ORDER = [("fig3", "Figure 3: resources of every cell"), ("fig4", "Figure 4: accuracy against width, DNNet and baselines"),
         ("fig5", "Figure 5: under a MAC budget, DNNet against the depth-only network"),
         ("lambda", "Loss weighting and self-distillation")]


def is_experiment_root(path: Path) -> bool:
    return (Path(path) / "experiments").is_dir() and not (Path(path) / "config.json").is_file()


def write_experiments_report(root: Path) -> Path:
    root = Path(root)
    sections = []
    for name, title in ORDER:
        path = root / "experiments" / f"{name}.json"
        if not path.is_file():
            continue
        record = json.loads(path.read_text())
        sections.append(_section(name, title, record, root))
    if not sections:
        raise MissingFile(f"{root} holds no experiment results yet: run `dnnet experiment all --out {root}`")
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>dnnet experiments: {html.escape(root.name)}</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:2em auto}} img{{max-width:100%}}
table{{border-collapse:collapse;font-size:12px}} td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}}
pre{{background:#f4f4f4;padding:1em;overflow:auto;font-size:12px}}</style></head>
<body><h1>Experiments in {html.escape(str(root))}</h1>
{"".join(sections)}</body></html>
"""
    out = root / "report.html"
    out.write_text(page)
    return out


def _section(name: str, title: str, record: dict, root: Path) -> str:
    figure = embedded_img(root / "experiments" / f"{name}.png", f"experiments/{name}.png", title)
    key_numbers = {k: v for k, v in record.items() if k not in ("rows", "experiment", "sweep")}
    tables = {"lambda": record["rows"], "fig5": record.get("sweep", [])}  # the short tables; the long ones stay in CSV
    table = _table(tables.get(name, []))
    return (f"<h2>{html.escape(title)}</h2>{figure}{table}"
            f"<details><summary>settings, key numbers and provenance</summary><pre>{html.escape(json.dumps(key_numbers, indent=2))}</pre>"
            f"</details><p>Full table: experiments/{name}.csv</p>")


def _table(rows: list[dict]) -> str:
    if not rows:
        return ""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(row.get(c)))}</td>" for c in columns) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value) -> str:
    if isinstance(value, list):  # one value per seed
        return " / ".join(_cell(v) or "-" for v in value)
    if isinstance(value, float) and 0 <= value <= 1:
        return f"{100 * value:.2f}%"
    return "" if value is None else str(value)
