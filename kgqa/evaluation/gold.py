"""Gold annotations: the records ``kgqa eval`` scores against, and their JSONL file format.

kgqa's gold format (documented in docs/demo-model.md) is JSON Lines, one note per line::

    {"note": {<kgqa.records_io note dict: id, text, lang, patient_id, ...>},
     "split": "heldout",                       # template split of synthetic notes ("" for real notes)
     "phrasings": ["en.bp.3", ...],            # template ids used (synthetic notes only)
     "annotations": [
        {"concept": "nihss_admission", "start": 120, "end": 122, "text": "12",
         "value": 12, "assertion": "present"},
        {"concept": "thrombolysis_done", "start": 300, "end": 315, "text": "No thrombolysis",
         "value": false, "assertion": "negated"},
        {"concept": "discharge_date", ..., "value": {"$date": "2024-03-18"}, ...}]}

``[start, end)`` are code-point offsets with ``note.text[start:end] == text``. Values are canonical:
numbers, ``{"$date"|"$time"|"$datetime": ISO}``, booleans, enumeration member ids, drug INNs
(English, lower case). A concept with no annotation in a note is *absent*: a reader should
return no answer for it. A list concept (cardinality many) has one annotation per item.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kgqa.errors import KgqaError, RecordError
from kgqa.records_io import decode_scalar, encode_scalar, note_from_dict, note_to_dict
from kgqa.types import Note

ASSERTIONS = ("present", "negated")


@dataclass(frozen=True)
class GoldAnnotation:
    concept_id: str
    start: int
    end: int
    text: str
    value: Any
    assertion: str = "present"

    def __post_init__(self) -> None:
        if not (0 <= self.start < self.end) or len(self.text) != self.end - self.start:
            raise RecordError(f"gold {self.concept_id!r}: bad span [{self.start}, {self.end}) for {self.text!r}")
        if self.assertion not in ASSERTIONS:
            raise RecordError(f"gold {self.concept_id!r}: assertion {self.assertion!r} not in {ASSERTIONS}")


@dataclass(frozen=True)
class GoldNote:
    note: Note
    annotations: tuple[GoldAnnotation, ...]
    split: str = ""
    phrasings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "annotations", tuple(self.annotations))
        object.__setattr__(self, "phrasings", tuple(self.phrasings))
        for a in self.annotations:
            if self.note.text[a.start : a.end] != a.text:
                raise RecordError(
                    f"gold {a.concept_id!r} does not slice note {self.note.id!r} at [{a.start}, {a.end})"
                )

    def for_concept(self, concept_id: str) -> tuple[GoldAnnotation, ...]:
        return tuple(a for a in self.annotations if a.concept_id == concept_id)


def gold_to_dict(gold: GoldNote) -> dict:
    return {
        "note": note_to_dict(gold.note),
        "split": gold.split,
        "phrasings": list(gold.phrasings),
        "annotations": [
            {"concept": a.concept_id, "start": a.start, "end": a.end, "text": a.text,
             "value": encode_scalar(a.value), "assertion": a.assertion}
            for a in gold.annotations
        ],
    }


def gold_from_dict(d: dict) -> GoldNote:
    return GoldNote(
        note=note_from_dict(d["note"]),
        annotations=tuple(
            GoldAnnotation(a["concept"], a["start"], a["end"], a["text"], decode_scalar(a["value"]),
                           a.get("assertion", "present"))
            for a in d.get("annotations", ())
        ),
        split=d.get("split", ""),
        phrasings=tuple(d.get("phrasings", ())),
    )


def write_gold_jsonl(golds: Iterable[GoldNote], path: str | Path) -> int:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for g in golds:
            fh.write(json.dumps(gold_to_dict(g), ensure_ascii=False, sort_keys=True) + "\n")
            n += 1
    return n


def read_gold_jsonl(path: str | Path) -> Iterator[GoldNote]:
    with Path(path).open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield gold_from_dict(json.loads(line))
            except (KeyError, TypeError, ValueError, json.JSONDecodeError) as exc:
                raise KgqaError(f"{path}:{lineno}: not a kgqa gold note ({exc})") from exc
