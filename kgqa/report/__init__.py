"""Static HTML review report: each note with its evidence spans highlighted, the concepts in
questionnaire order beside it, and an index of the run with a summary figure.

The core works on records (Note, Fact, Concept) so it does not care where they came from:
``kgqa.report.sources`` reads them from a run directory or from a triplestore.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from kgqa.report.config import DEFAULT_CONFIG, ReportConfig
from kgqa.report.model import ReportView, build_note_view, build_report_view
from kgqa.report.render import RenderedReport, ReportRenderer
from kgqa.types import Concept, Fact, Note, NoteError

__all__ = [
    "RenderedReport",
    "ReportConfig",
    "ReportRenderer",
    "ReportView",
    "build_note_view",
    "build_report_view",
    "write_report",
]


def write_report(
    notes: Sequence[Note],
    facts: Sequence[Fact],
    concepts: Iterable[Concept],
    out_dir: str | Path,
    cfg: ReportConfig = DEFAULT_CONFIG,
    *,
    errors: Sequence[NoteError] = (),
    run: Mapping[str, object] | None = None,
) -> RenderedReport:
    """Build and write the report (``index.html`` + ``notes/*.html``) for ``notes`` and their ``facts``."""
    # a Catalogue carries group descriptions; a plain sequence of concepts does not
    titles = {str(k): str(v) for k, v in (getattr(concepts, "groups", None) or {}).items()}
    view = build_report_view(notes, facts, tuple(concepts), cfg, errors=errors, run=run, group_titles=titles)
    return ReportRenderer(cfg).write(view, out_dir)
