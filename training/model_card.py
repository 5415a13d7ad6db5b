"""The model card (README.md) saved next to a trained checkpoint: data, languages, metrics, config, version."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import kgqa

#: metrics shown in the card's table, in this order
CARD_METRICS = ("total", "exact", "f1", "HasAns_f1", "NoAns_f1", "best_exact", "best_f1")


def _table(rows: Mapping[str, Mapping[str, float]], columns: Sequence[str]) -> str:
    present = [c for c in columns if any(c in r for r in rows.values())]
    lines = ["| slice | " + " | ".join(present) + " |", "|---" * (len(present) + 1) + "|"]
    for name, row in rows.items():
        cells = []
        for c in present:
            v = row.get(c)
            cells.append("" if v is None else (f"{int(v)}" if c.endswith("total") else f"{v:.2f}"))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_model_card(
    *,
    title: str,
    task: str,
    base_model: str,
    datasets: Sequence[Mapping[str, Any]],
    languages: Sequence[str],
    metrics: Mapping[str, Mapping[str, float]] | None,
    training: Mapping[str, Any],
    config_yaml: str,
    notes: Sequence[str] = (),
) -> str:
    """Markdown with a YAML front matter (the Hugging Face model-card convention)."""
    langs = sorted(set(languages))
    front = (
        ["---", "language:"]
        + [f"- {lang}" for lang in langs]
        + [
            f"pipeline_tag: {'question-answering' if task == 'qa' else 'fill-mask'}",
            "library_name: transformers",
            "tags:",
            "- kgqa",
            "---",
        ]
    )
    body = [
        f"# {title}",
        "",
        (
            f"Trained with kgqa {kgqa.__version__} (`training/`, task `{task}`) on "
            f"{dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}."
        ),
        f"Started from: {base_model}.",
        "",
        "## Data",
        "",
        "| dataset | role | language | file | examples | notes |",
        "|---|---|---|---|---|---|",
    ]
    for d in datasets:
        body.append(
            f"| {d.get('name', '')} | {d.get('role', 'train')} | {d.get('lang', '')} | `{d.get('path', '')}` | "
            f"{d.get('examples', '')} | "
            f"{d.get('notes', '')} |"
        )
    body += ["", f"Languages: {', '.join(langs) or 'unspecified'}.", "", "## Training", ""]
    body += [f"- {k}: {v}" for k, v in training.items()]
    if metrics:
        body += ["", "## Evaluation (official SQuAD EM/F1, %)", "", _table(metrics, CARD_METRICS)]
    if notes:
        body += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    body += ["", "## Resolved configuration", "", "```yaml", config_yaml.rstrip(), "```", ""]
    return "\n".join(front + body)


def flat_metrics(metrics: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """``{"all": {"f1": …}, "lang=es": {…}}`` -> ``{"f1": …, "lang=es/f1": …}`` (for Trainer logs and sweeps)."""
    out = {}
    for group, values in metrics.items():
        for k, v in values.items():
            out[k if group == "all" else f"{group}/{k}"] = float(v)
    return out
