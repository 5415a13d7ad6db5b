"""Human-readable tables and the one-line JSON summary of an evaluation report (pure)."""

from __future__ import annotations

from typing import Any


def _fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:5.3f}"


def table(title: str, rows: dict[str, dict[str, Any]]) -> str:
    """One line per bucket: support, value P/R/F1, span exact/overlap F1, value/linking/null accuracy."""
    head = (f"{title:<28} {'gold':>5} {'pred':>5}  {'val-P':>5} {'val-R':>5} {'val-F1':>6}  "
            f"{'exF1':>5} {'ovF1':>5}  {'valAc':>5} {'link':>5} {'null':>5}")
    lines: list[str] = [head, "-" * len(head)]
    for name, m in rows.items():
        lines.append(
            f"{name:<28} {m['support']:>5} {m['predicted']:>5}  {_fmt(m['value']['precision'])} "
            f"{_fmt(m['value']['recall'])} {_fmt(m['value']['f1']):>6}  {_fmt(m['span_exact']['f1'])} "
            f"{_fmt(m['span_overlap']['f1'])}  {_fmt(m['value_accuracy'])} {_fmt(m['linking_accuracy'])} "
            f"{_fmt(m['null_accuracy'])}"
        )
    return "\n".join(lines)


def render(report: dict[str, Any]) -> str:
    parts = [
        table("overall", {"all": report["overall"]}),
        table("language", report["by_lang"]),
        table("concept group", report["by_group"]),
        table("concept", report["by_concept"]),
    ]
    cal = report.get("calibration") or {}
    if cal.get("ece") is not None:
        parts.append(f"calibration: ECE {cal['ece']:.3f} over {cal['count']} answers")
    if cal.get("curve"):
        parts.append(curve_table({"all": cal, **(report.get("calibration_by_lang") or {})}))
    return "\n\n".join(parts)


def curve_table(by_name: dict[str, dict[str, Any]]) -> str:
    """Accuracy / recall of the answers kept at each confidence threshold, one line per language (and all)."""
    thresholds = [p["threshold"] for p in next(iter(by_name.values()))["curve"]]
    head = f"{'accuracy/recall at conf >=':<28} {'ECE':>5}  " + " ".join(f"{t:>11.1f}" for t in thresholds)
    lines = [head, "-" * len(head)]
    for name, cal in by_name.items():
        cells = " ".join(
            f"{_fmt(p['accuracy']).strip():>5}/{_fmt(p['recall']).strip():<5}" for p in cal["curve"]
        )
        lines.append(f"{name:<28} {_fmt(cal.get('ece'))}  {cells}")
    return "\n".join(lines)


def summary_line(report: dict[str, Any]) -> dict[str, Any]:
    """The command's last line: overall and per-language micro-F1 of extracted values."""
    return {
        "micro_f1": report["overall"]["value"]["f1"],
        "per_lang": {lang: m["value"]["f1"] for lang, m in report["by_lang"].items()},
        "notes": report["notes"],
    }
