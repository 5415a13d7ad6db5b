"""Reliability of confidences: binned accuracy, expected calibration error, and its diagram (PNG)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def reliability_bins(pairs: Sequence[tuple[float, bool]], n_bins: int = 10) -> dict[str, Any]:
    """Equal-width confidence bins with mean confidence and accuracy each, and the ECE."""
    bins: list[dict[str, Any]] = []
    total = len(pairs)
    ece = 0.0
    for i in range(n_bins):
        lo, hi = i / n_bins, (i + 1) / n_bins
        # the last bin is closed so that a confidence of exactly 1.0 is counted
        members = [(c, ok) for c, ok in pairs if lo <= c < hi or (i == n_bins - 1 and c == 1.0)]
        if not members:
            bins.append({"low": lo, "high": hi, "count": 0, "confidence": None, "accuracy": None})
            continue
        conf = sum(c for c, _ in members) / len(members)
        acc = sum(ok for _, ok in members) / len(members)
        ece += len(members) / total * abs(acc - conf)
        bins.append({"low": lo, "high": hi, "count": len(members), "confidence": conf, "accuracy": acc})
    return {"bins": bins, "ece": ece if total else None, "count": total}


#: confidence thresholds of the coverage/accuracy curve: what an operator could set ``reader.min_confidence`` to
CURVE_THRESHOLDS: tuple[float, ...] = tuple(i / 10 for i in range(10))


def coverage_curve(
    pairs: Sequence[tuple[float, bool]], support: int, thresholds: Sequence[float] = CURVE_THRESHOLDS
) -> list[dict[str, Any]]:
    """What keeping only answers of confidence >= t gives, per threshold t.

    ``pairs`` are (confidence, correct) per answer given; ``support`` the gold facts they are judged against.
    Per threshold: answers kept, coverage (their share of all answers), accuracy (correct share of those kept:
    the precision an operator gets) and recall (correct kept per gold fact). Thresholds are where an operator
    sets ``reader.min_confidence``; with well calibrated confidences accuracy rises with the threshold.
    """
    curve = []
    for t in thresholds:
        kept = [ok for c, ok in pairs if c >= t]
        correct = sum(kept)
        curve.append({
            "threshold": t,
            "answered": len(kept),
            "coverage": len(kept) / len(pairs) if pairs else None,
            "accuracy": correct / len(kept) if kept else None,
            "recall": correct / support if support else None,
        })
    return curve


def calibration_summary(pairs: Sequence[tuple[float, bool]], support: int) -> dict[str, Any]:
    """ECE and reliability bins of ``pairs`` plus their coverage/accuracy curve (one language, or all)."""
    return {**reliability_bins(pairs), "curve": coverage_curve(pairs, support)}


def plot_reliability(summary: dict[str, Any], path: str | Path, title: str = "kgqa reliability") -> Path:
    """Write the reliability diagram (accuracy per confidence bin against the diagonal) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=100)
    filled = [b for b in summary["bins"] if b["count"]]
    width = 1.0 / max(1, len(summary["bins"]))
    ax.bar([b["low"] for b in filled], [b["accuracy"] for b in filled], width=width, align="edge",
           edgecolor="black", alpha=0.7, label="accuracy")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence")
    ax.set_ylabel("share of correct values")
    ece = summary.get("ece")
    ax.set_title(f"{title}\nECE {ece:.3f} (n={summary['count']})" if ece is not None else title)
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
