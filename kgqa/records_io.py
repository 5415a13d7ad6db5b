"""JSON(L) round-trip of kgqa's records (the run directory's ``notes.jsonl`` and ``facts.jsonl``).

Conversions happen only here, at the edge: stages pass records, files hold JSON.
Typed scalars keep their type through a tagged encoding (``{"$date": "2025-12-24"}`` …) so
``read(write(x)) == x`` holds for every record.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import fields, is_dataclass
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from kgqa.errors import KgqaError
from kgqa.types import Answer, Assertion, Fact, Link, Note, Value, ValueKind, ValueStatus

_TAGS = {
    "$date": dt.date.fromisoformat,
    "$time": dt.time.fromisoformat,
    "$datetime": dt.datetime.fromisoformat,
    "$decimal": Decimal,
}


def encode_scalar(value: Any) -> Any:
    # datetime before date: a datetime is a date
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$time": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, Enum):
        return value.value
    return value


def decode_scalar(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        (tag, raw), = value.items()
        if tag in _TAGS:
            return _TAGS[tag](raw)
    return value


def _record_to_dict(record: Any) -> dict:
    out = {}
    for f in fields(record):
        v = getattr(record, f.name)
        if is_dataclass(v):
            v = _record_to_dict(v)
        elif isinstance(v, tuple) and v and is_dataclass(v[0]):
            v = [_record_to_dict(x) for x in v]
        elif isinstance(v, Mapping):
            v = {k: encode_scalar(x) for k, x in v.items()}
        elif isinstance(v, tuple):
            v = list(v)
        else:
            v = encode_scalar(v)
        out[f.name] = v
    return out


def note_to_dict(note: Note) -> dict:
    return _record_to_dict(note)


def note_from_dict(d: Mapping[str, Any]) -> Note:
    d = dict(d)
    if d.get("admission_date"):
        d["admission_date"] = decode_scalar(d["admission_date"])
    d["metadata"] = {k: decode_scalar(v) for k, v in (d.get("metadata") or {}).items()}
    return Note(**d)


def fact_to_dict(fact: Fact) -> dict:
    return _record_to_dict(fact)


def fact_from_dict(d: Mapping[str, Any]) -> Fact:
    value = dict(d["value"])
    value["value"] = decode_scalar(value["value"])
    value["kind"] = ValueKind(value["kind"])
    value["status"] = ValueStatus(value["status"])
    value["assertion"] = Assertion(value["assertion"])
    answer = Answer(**d["answer"]) if d.get("answer") else None
    return Fact(
        note_id=d["note_id"],
        concept_id=d["concept_id"],
        value=Value(**value),
        answer=answer,
        links=tuple(Link(**link) for link in d.get("links", ())),
        derived_from=tuple(d.get("derived_from", ())),
    )


def _write_jsonl(rows: Iterable[dict], path: Path) -> int:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True))
            fh.write("\n")
            n += 1
    return n


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    with Path(path).open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield lineno, json.loads(line)
                except json.JSONDecodeError as exc:
                    raise KgqaError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from exc


def write_notes_jsonl(notes: Iterable[Note], path: str | Path) -> int:
    return _write_jsonl((note_to_dict(n) for n in notes), Path(path))


def read_notes_jsonl(path: str | Path) -> list[Note]:
    return [note_from_dict(d) for _, d in _read_jsonl(Path(path))]


def write_facts_jsonl(facts: Iterable[Fact], path: str | Path) -> int:
    return _write_jsonl((fact_to_dict(f) for f in facts), Path(path))


def read_facts_jsonl(path: str | Path) -> list[Fact]:
    out = []
    for lineno, d in _read_jsonl(Path(path)):
        try:
            out.append(fact_from_dict(d))
        except (KeyError, TypeError, ValueError) as exc:
            raise KgqaError(f"{path}:{lineno}: not a kgqa fact ({exc})") from exc
    return out
