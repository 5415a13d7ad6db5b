"""Render a :class:`~kgqa.report.model.ReportView` to static HTML with Jinja2.

Autoescaping is always on: note text, ids, values and IRIs are untrusted. The only markup
built in Python is :func:`note_text`, which escapes every piece of text it wraps.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from itertools import groupby
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from kgqa.report.config import DEFAULT_CONFIG, ReportConfig
from kgqa.report.figures import png_data_uri, summary_png
from kgqa.report.model import NoteView, ReportView

log = logging.getLogger(__name__)

#: light, mutually distinguishable highlight colours (concept group i gets PALETTE[i % len])
#: (16: the RES-Q catalogue has 14 groups, so none share a colour)
PALETTE: tuple[str, ...] = (
    "#ffe08a", "#a8e6a1", "#9fd3f5", "#f7b2c4", "#d3b8f5", "#ffc48a", "#b7efe6", "#e5e59a",
    "#f5b8a3", "#c2d0f0", "#d9f0a3", "#f0c2e8", "#c9b99a", "#9ee0c0", "#f2d0a9", "#b0b8ff",
)

# Characters that are invisible yet change what the reviewer sees or what the offsets count:
# bidi embeddings/overrides/isolates/marks, zero-width space and BOM, C0/C1 controls (not \t \n \r).
_INVISIBLE = re.compile("[\u061c\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SHORT_NAMES = {
    "\u061c": "ALM", "\u200b": "ZWSP", "\u200e": "LRM", "\u200f": "RLM", "\u202a": "LRE", "\u202b": "RLE",
    "\u202c": "PDF", "\u202d": "LRO", "\u202e": "RLO", "\u2066": "LRI", "\u2067": "RLI", "\u2068": "FSI",
    "\u2069": "PDI", "\ufeff": "BOM",
}


def _escape(text: str) -> Markup:
    # HTML parsers turn CR LF into LF; a character reference keeps the CR in the DOM, so the
    # page's text has the same code points (and offsets) as the note.
    return escape(text).replace("\r", Markup("&#13;"))


def note_text(text: str) -> Markup:
    """Escape note text, wrapping each invisible character in a badge (the character itself is kept)."""
    parts: list[str] = []
    last = 0
    for match in _INVISIBLE.finditer(text):
        char = match.group()
        code = f"U+{ord(char):04X}"
        name = unicodedata.name(char, code)
        parts.append(_escape(text[last : match.start()]))
        parts.append(Markup('<span class="ctl" data-name="{}" title="{} {}">{}</span>').format(
            _SHORT_NAMES.get(char, code), code, name, char))
        last = match.end()
    parts.append(_escape(text[last:]))
    return Markup("").join(parts)


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("kgqa.report", "templates"),
        autoescape=True,  # every template is HTML; never decide by file name
        undefined=StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters["note_text"] = note_text
    return env


def _script() -> tuple[Markup, str]:
    source = resources.files("kgqa.report").joinpath("templates/report.js").read_text(encoding="utf-8")
    if "</script" in source.lower():
        raise ValueError("report.js must not contain '</script'")
    digest = base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii")
    # The CSP allows this exact script and nothing else.
    return Markup(source), f"sha256-{digest}"


@dataclass(frozen=True)
class RenderedReport:
    index: Path
    notes: dict[str, Path]  # note id -> page


class ReportRenderer:
    """Renders pages; one instance can render many reports."""

    def __init__(self, cfg: ReportConfig = DEFAULT_CONFIG) -> None:
        self.cfg = cfg
        self.env = _environment()
        script, script_hash = _script()
        self.common = {"palette": PALETTE, "script": script, "script_hash": script_hash, "title": cfg.title, "cfg": cfg}

    def note_page(self, view: NoteView, groups: tuple[str, ...], group_titles: Mapping[str, str] | None = None) -> str:
        row_groups = [(group, list(rows)) for group, rows in groupby(view.rows, key=lambda r: r.group)]
        labels = {r.concept_id: r.label for r in view.rows}
        return self.env.get_template("note.html.jinja").render(
            **self.common, view=view, facts=view.facts_by_key, groups=groups, row_groups=row_groups,
            concept_labels=labels, group_titles=group_titles or {},
        )

    def index_page(self, report: ReportView) -> str:
        figure_uri = png_data_uri(summary_png(report)) if self.cfg.figure and report.notes else ""
        totals = {
            "facts": sum(v.fact_count for v in report.notes),
            "low": sum(v.low_confidence_count for v in report.notes),
            "rejected": sum(v.rejected_count for v in report.notes),
        }
        run_items = [(str(k), str(v)) for k, v in report.run.items() if v not in (None, "", [], {})]
        return self.env.get_template("index.html.jinja").render(
            **self.common, report=report, figure_uri=figure_uri, totals=totals, run_items=run_items
        )

    def write(self, report: ReportView, out_dir: str | Path) -> RenderedReport:
        """Write ``index.html`` and ``notes/*.html`` under ``out_dir`` (created if needed)."""
        out = Path(out_dir)
        (out / "notes").mkdir(parents=True, exist_ok=True)
        pages: dict[str, Path] = {}
        for view in report.notes:
            path = out / view.filename
            path.write_text(self.note_page(view, report.groups, report.group_titles), encoding="utf-8")
            pages[view.note.id] = path
        index = out / "index.html"
        index.write_text(self.index_page(report), encoding="utf-8")
        log.info("report: %d note pages and index written to %s", len(pages), out)
        return RenderedReport(index, pages)
