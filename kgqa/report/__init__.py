"""Static HTML review report: each note with its evidence spans highlighted, the concepts in
questionnaire order beside it, and an index of the run with a summary figure.

The core works on records (Note, Fact, Concept) so it does not care where they came from:
``kgqa.report.sources`` reads them from a run directory or from a triplestore.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping, Sequence

from kgqa.report.config import ReportConfig
from kgqa.report.model import ReportView, build_note_view, build_report_view
from kgqa.report.render import RenderedReport, ReportRenderer
from kgqa.types import Concept, Fact, Note, NoteError

__all__ = [
    "ReportConfig",
    "ReportRenderer",
    "ReportView",
    "RenderedReport",
    "build_note_view",
    "build_report_view",
    "write_report",
]


def write_report(
    notes: Sequence[Note],
    facts: Sequence[Fact],
    concepts: Iterable[Concept],
    out_dir: str | Path,
    cfg: ReportConfig = ReportConfig(),
    *,
    errors: Sequence[NoteError] = (),
    run: Mapping[str, object] | None = None,
) -> RenderedReport:
    """Build and write the report (``index.html`` + ``notes/*.html``) for ``notes`` and their ``facts``."""
    view = build_report_view(notes, facts, tuple(concepts), cfg, errors=errors, run=run)
    return ReportRenderer(cfg).write(view, out_dir)
