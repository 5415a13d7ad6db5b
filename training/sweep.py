"""A summary table across the runs of a multirun sweep (or any directory of training runs).

Each finished run leaves ``metrics.json``; Hydra leaves ``.hydra/overrides.yaml``. The table has
one row per run — its overrides, steps, training loss and main metrics — best first, and is
written as ``summary.md`` and ``summary.csv`` into the sweep directory.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from hydra.experimental.callback import Callback

from training.runs import METRICS_FILE

log = logging.getLogger(__name__)

#: (metrics.json "all" key, column) shown per task; the first one orders the table
QA_COLUMNS = ("f1", "exact", "best_f1", "HasAns_f1", "NoAns_f1")
MLM_COLUMNS = ("eval_loss",)


@dataclass(frozen=True)
class RunRow:
    run_dir: str
    task: str
    overrides: str
    global_step: int
    train_loss: float | None
    metrics: dict[str, float] = field(default_factory=dict)
    finished: bool = True


def collect_runs(root: Path) -> list[RunRow]:
    """Every run directory below ``root`` (depth-first), finished or not."""
    rows = []
    for hydra_dir in sorted(root.rglob(".hydra")):
        run = hydra_dir.parent
        overrides_file = hydra_dir / "overrides.yaml"
        overrides = yaml.safe_load(overrides_file.read_text()) if overrides_file.is_file() else []
        metrics_file = run / METRICS_FILE
        if not metrics_file.is_file():
            rows.append(
                RunRow(str(run.relative_to(root)), "?", " ".join(overrides or []), 0, None, {}, False)
            )
            continue
        m = json.loads(metrics_file.read_text())
        rows.append(
            RunRow(
                run_dir=str(run.relative_to(root)),
                task=m.get("task", "?"),
                overrides=" ".join(overrides or []),
                global_step=int(m.get("global_step", 0)),
                train_loss=m.get("train_loss"),
                metrics={k: v for k, v in (m.get("metrics", {}).get("all") or {}).items() if v is not None},
            )
        )
    return rows


def _columns(rows: Sequence[RunRow]) -> Sequence[str]:
    return MLM_COLUMNS if rows and all(r.task == "mlm" for r in rows if r.finished) else QA_COLUMNS


def sort_rows(rows: Sequence[RunRow]) -> list[RunRow]:
    cols = _columns(rows)
    key, lower_better = cols[0], cols[0].endswith("loss")

    def rank(r: RunRow) -> float:
        v = r.metrics.get(key)
        if v is None or not r.finished:
            return math.inf
        return v if lower_better else -v

    return sorted(rows, key=rank)


def _fmt(v: float | None) -> str:
    return "" if v is None else f"{v:.4g}"


def render_markdown(rows: Sequence[RunRow]) -> str:
    cols = _columns(rows)
    head = ["run", "overrides", "steps", "train_loss", *cols]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in sort_rows(rows):
        cells = [
            r.run_dir,
            f"`{r.overrides}`" if r.overrides else "",
            str(r.global_step) if r.finished else "unfinished",
        ]
        cells += [_fmt(r.train_loss)] + [_fmt(r.metrics.get(c)) for c in cols]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_summary(root: str | Path) -> Path | None:
    """Write ``summary.md`` and ``summary.csv`` into ``root``; None when it holds no runs."""
    root = Path(root)
    rows = collect_runs(root)
    if not rows:
        log.warning("no training runs (.hydra directories) under %s", root)
        return None
    md = render_markdown(rows)
    (root / "summary.md").write_text(md, encoding="utf-8")
    cols = _columns(rows)
    with (root / "summary.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["run", "overrides", "finished", "steps", "train_loss", *cols])
        for r in sort_rows(rows):
            w.writerow(
                [
                    r.run_dir,
                    r.overrides,
                    r.finished,
                    r.global_step,
                    r.train_loss,
                    *(r.metrics.get(c) for c in cols),
                ]
            )
    log.info("sweep summary (%d runs) in %s:\n%s", len(rows), root / "summary.md", md)
    return root / "summary.md"


class SweepSummaryCallback(Callback):
    """Hydra callback (``hydra.callbacks`` in conf/train_*.yaml): the summary table after a multirun.

    A callback rather than code after the sweep because it runs in the launching process whatever
    the launcher (basic, joblib, ray), once every job has finished.
    """

    def on_multirun_end(self, config, **kwargs) -> None:
        write_summary(config.hydra.sweep.dir)
