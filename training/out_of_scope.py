"""Out-of-scope notes as unanswerable QA examples (QA dataset ``format: out_of_scope``).

A reader trained only on stroke reports has never seen a note that does not answer its stroke questions: the
demo model asked "Was intravenous thrombolysis given?" of 60 real non-stroke case reports (CodiEsp) answered
every one of them. Real notes that are *about something else* are the cheapest cure: every concept question
whose answer such a note cannot contain becomes an unanswerable (SQuAD v2) example on it.

Which notes and which questions is the user's call, in the dataset's config:

- ``path``: a directory of plain-text notes (``*.txt``, searched recursively, UTF-8), in ``lang``;
- ``concepts``: the catalogue concepts none of these notes may answer (a note about a fracture names no
  thrombolysis, but it may well state the patient's age — leave such concepts out);
- ``exclude_pattern``: a regular expression (case-insensitive); notes it matches are skipped, because they
  might answer after all (e.g. ``ictus|stroke|NIHSS`` for stroke concepts).

The question asked is the catalogue's first phrasing in ``lang`` (what the reader asks a note in that
language); ids are ``<note file stem>::<concept id>`` like kgqa's synthetic exports.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from kgqa.errors import ConfigError
from kgqa.types import Concept
from training.squad import LoadReport, QaExample

#: the ``data.*.<name>.format`` of these datasets
OUT_OF_SCOPE = "out_of_scope"


def load_out_of_scope(
    path: str | Path,
    *,
    dataset: str,
    lang: str,
    concepts: Sequence[str],
    catalogue: Sequence[Concept],
    exclude_pattern: str = "",
    limit: int = 0,
) -> tuple[list[QaExample], LoadReport]:
    """Unanswerable examples: each kept note of ``path`` × each concept of ``concepts``.

    ``limit`` caps the number of notes (0 = all), taken in sorted file order.
    """
    where = f"data.*.{dataset}"
    if not concepts:
        raise ConfigError(f"{where}.concepts is empty: name the concepts these notes cannot answer")
    by_id = {c.id: c for c in catalogue}
    unknown = [c for c in concepts if c not in by_id]
    if unknown:
        raise ConfigError(f"{where}.concepts: {', '.join(unknown)} not in the catalogue")
    questions = {}
    for cid in concepts:
        asked = by_id[cid].questions.get(lang) or ()
        if not asked:
            raise ConfigError(f"{where}.concepts: concept {cid!r} has no question in {lang!r} ({where}.lang)")
        questions[cid] = asked[0]
    try:
        exclude = re.compile(exclude_pattern, re.IGNORECASE) if exclude_pattern else None
    except re.error as exc:
        raise ConfigError(f"{where}.exclude_pattern={exclude_pattern!r} is not a regular expression: {exc}") from None
    root = Path(path)
    if not root.is_dir():
        raise ConfigError(f"{where}.path={str(path)!r} is not a directory of .txt notes")

    report = LoadReport(dataset=dataset, path=str(path))
    examples: list[QaExample] = []
    notes = 0
    for file in sorted(root.rglob("*.txt")):
        if limit and notes >= limit:
            break
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            report.skipped["not UTF-8"] += 1
            continue
        if not text.strip():
            report.skipped["empty note"] += 1
            continue
        if exclude is not None and exclude.search(text):
            report.skipped["matches exclude_pattern"] += 1
            continue
        notes += 1
        note_id = file.relative_to(root).with_suffix("").as_posix()
        for cid, question in questions.items():
            examples.append(
                QaExample(f"{note_id}::{cid}", question, text, (), dataset, lang, (), is_impossible=True)
            )
    if not notes:
        raise ConfigError(f"{where}.path={str(path)!r}: no usable .txt note ({dict(report.skipped) or 'none found'})")
    report.questions = report.examples = report.unanswerable = len(examples)
    return examples, report
