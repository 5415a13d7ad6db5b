"""The run's summary figure: concept coverage per language and the confidence histogram.

Drawn with matplotlib's Agg backend (no display) into PNG bytes that the index embeds
as a ``data:`` URI, so the report stays one self-contained set of files.
"""

from __future__ import annotations

import base64
import io
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")  # before pyplot: the report is drawn on servers and in CI without a display

import matplotlib.pyplot as plt
import numpy as np

from kgqa.report.model import UNKNOWN_GROUP, ReportView


def coverage_table(report: ReportView) -> tuple[list[str], list[str], np.ndarray]:
    """(groups, languages, matrix): share of catalogue concepts found, per concept group and note language."""
    groups = [g for g in report.groups if g != UNKNOWN_GROUP]
    langs = list(report.languages)
    found: dict[tuple[str, str], int] = defaultdict(int)
    asked: dict[tuple[str, str], int] = defaultdict(int)
    for view in report.notes:
        for row in view.rows:
            if row.group == UNKNOWN_GROUP:
                continue
            asked[row.group, view.note.lang] += 1
            found[row.group, view.note.lang] += row.state == "found"
    matrix = np.full((len(groups), len(langs)), np.nan)
    for i, group in enumerate(groups):
        for j, lang in enumerate(langs):
            if asked[group, lang]:
                matrix[i, j] = found[group, lang] / asked[group, lang]
    return groups, langs, matrix


def summary_png(report: ReportView, dpi: int = 96) -> bytes:
    groups, langs, matrix = coverage_table(report)
    accepted = [f.confidence for v in report.notes for f in v.facts if f.confidence is not None and not f.rejected]
    rejected = [f.confidence for v in report.notes for f in v.facts if f.confidence is not None and f.rejected]
    height = max(3.2, 0.28 * len(groups) + 1.4)
    fig, (ax_cov, ax_hist) = plt.subplots(1, 2, figsize=(11, height), gridspec_kw={"width_ratios": [1.2, 1]})
    try:
        if groups and langs:
            image = ax_cov.imshow(np.nan_to_num(matrix, nan=0.0), vmin=0, vmax=1, cmap="viridis", aspect="auto")
            ax_cov.set_xticks(range(len(langs)), langs)
            ax_cov.set_yticks(range(len(groups)), groups, fontsize=8)
            for i in range(len(groups)):
                for j in range(len(langs)):
                    if not np.isnan(matrix[i, j]):
                        ax_cov.text(j, i, f"{matrix[i, j]:.0%}", ha="center", va="center", fontsize=7,
                                    color="white" if matrix[i, j] < 0.6 else "black")
            fig.colorbar(image, ax=ax_cov, fraction=0.046, pad=0.04, label="concepts found")
        else:
            ax_cov.text(0.5, 0.5, "no notes", ha="center", va="center")
            ax_cov.set_axis_off()
        ax_cov.set_title("Concept coverage per group and language")
        bins = np.linspace(0, 1, 21)
        ax_hist.hist([accepted, rejected], bins=bins, stacked=True, color=["#4c72b0", "#dd8452"],
                     label=[f"accepted values ({len(accepted)})", f"rejected / unparsed ({len(rejected)})"])
        ax_hist.set_xlim(0, 1)
        ax_hist.set_xlabel("reader confidence")
        ax_hist.set_ylabel("facts")
        ax_hist.set_title("Confidence of extracted facts")
        ax_hist.legend(loc="upper left", fontsize=8)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    return buffer.getvalue()


def png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
