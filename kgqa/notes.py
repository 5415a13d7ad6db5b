"""Reading notes: a directory of ``.txt`` (+ optional ``.json`` sidecars), a ``.jsonl`` file, or brat folders.

Text is kept exactly as read (bytes decoded, nothing else: CRLF, tabs, BOM-less UTF-8), because
every offset kgqa emits refers to it. Bad input never stops a batch: each problem becomes a
:class:`~kgqa.types.NoteError` naming the file (and line), and the reader carries on.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from kgqa.errors import ConfigError, NoteReadError, RecordError
from kgqa.types import LANGUAGES, Note, NoteError

log = logging.getLogger(__name__)

NoteOrError = Note | NoteError

#: sidecar / jsonl keys that become Note fields; everything else goes to metadata
_NOTE_KEYS = {"id", "patient_id", "lang", "text", "admission_date", "metadata"}


@dataclass
class NoteBatch:
    notes: list[Note] = field(default_factory=list)
    errors: list[NoteError] = field(default_factory=list)

    def summary(self) -> str:
        s = f"{len(self.notes)} notes read"
        if self.errors:
            s += f", {len(self.errors)} skipped: " + "; ".join(f"{e.source}: {e.reason}" for e in self.errors[:10])
            if len(self.errors) > 10:
                s += f"; … ({len(self.errors) - 10} more)"
        return s


# --------------------------------------------------------------------------- language detection


@lru_cache(maxsize=1)
def _detector():
    # Restricting lingua to kgqa's seven languages makes it both faster and more accurate on short notes.
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [getattr(IsoCode639_1, lang.upper()) for lang in LANGUAGES]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()


def detect_language(text: str) -> str | None:
    """The most likely of kgqa's languages for ``text``, or None when the detector cannot tell."""
    lang = _detector().detect_language_of(text[:5000])
    return None if lang is None else lang.iso_code_639_1.name.lower()


# --------------------------------------------------------------------------- decoding and checks


def decode_note_bytes(data: bytes, source: str, encoding: str = "utf-8", max_bytes: int = 0) -> str:
    """Bytes of one note -> text, or NoteReadError naming ``source`` and the reason."""
    if max_bytes and len(data) > max_bytes:
        raise NoteReadError(f"{source}: {len(data)} bytes is over the limit of {max_bytes} (notes.max_bytes)")
    if b"\x00" in data[:8192]:
        raise NoteReadError(f"{source}: looks like a binary file (NUL bytes), not a text note")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise NoteReadError(
            f"{source}: cannot be decoded as {encoding} at byte {exc.start} (notes.encoding)"
        ) from None
    if not text.strip():
        raise NoteReadError(f"{source}: empty note")
    return text


def _parse_date(value: Any, source: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise NoteReadError(f"{source}: admission_date {value!r} is not an ISO date (YYYY-MM-DD)") from None


def make_note(
    note_id: str,
    text: str,
    meta: Mapping[str, Any],
    source: str,
    default_lang: str,
) -> Note:
    """Build a Note, deciding its language (declared, else default, else detected)."""
    lang = meta.get("lang") or meta.get("language")
    lang_source = "declared"
    if not lang and default_lang != "detect":
        lang = default_lang
    if not lang:
        lang = detect_language(text)
        lang_source = "detected"
        if lang is None:
            raise NoteReadError(f"{source}: language could not be detected; declare it (\"lang\") or set notes.default_lang")
    if lang not in LANGUAGES:
        raise NoteReadError(f"{source}: language {lang!r} is not one of {', '.join(LANGUAGES)}")
    metadata = dict(meta.get("metadata") or {})
    metadata.update({k: v for k, v in meta.items() if k not in _NOTE_KEYS and k != "language"})
    try:
        return Note(
            id=str(note_id),
            text=text,
            lang=lang,
            patient_id=str(meta["patient_id"]) if meta.get("patient_id") not in (None, "") else None,
            admission_date=_parse_date(meta.get("admission_date"), source),
            source=source,
            lang_source=lang_source,
            metadata=metadata,
        )
    except RecordError as exc:
        raise NoteReadError(f"{source}: {exc}") from None


# --------------------------------------------------------------------------- formats


def list_note_files(root: Path) -> list[Path]:
    """Note files under ``root`` in the stable order every runner uses."""
    return sorted(p for p in root.rglob("*") if p.is_file())


def iter_txt_files(
    root: Path, paths: list[Path], encoding: str, max_bytes: int, default_lang: str
) -> Iterator[NoteOrError]:
    for path in paths:
        if path.suffix in (".json", ".ann", ".md") or path.name.startswith("."):
            continue  # sidecars, brat annotations, READMEs
        source = str(path)
        try:
            if path.suffix != ".txt":
                raise NoteReadError(f"{source}: not a .txt note (only .txt, .json sidecars and brat .ann are read)")
            text = decode_note_bytes(path.read_bytes(), source, encoding, max_bytes)
            meta: dict = {}
            sidecar = path.with_suffix(".json")
            if sidecar.exists():
                try:
                    meta = json.loads(sidecar.read_text(encoding="utf-8"))
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    raise NoteReadError(f"{sidecar}: sidecar is not valid JSON ({exc})") from None
                if not isinstance(meta, dict):
                    raise NoteReadError(f"{sidecar}: sidecar must be a JSON object")
            note_id = str(meta.get("id") or path.relative_to(root).with_suffix("").as_posix())
            yield make_note(note_id, text, meta, source, default_lang)
        except NoteReadError as exc:
            yield NoteError(source=source, reason=str(exc))
        except OSError as exc:
            yield NoteError(source=source, reason=f"{source}: cannot be read ({exc.strerror})")


def _iter_jsonl(path: Path, max_bytes: int, default_lang: str) -> Iterator[NoteOrError]:
    with path.open("rb") as fh:
        yield from iter_jsonl_lines(str(path), enumerate(fh, 1), max_bytes, default_lang)


def iter_jsonl_lines(
    name: str, lines: Iterable[tuple[int, bytes]], max_bytes: int, default_lang: str
) -> Iterator[NoteOrError]:
    """Notes from numbered raw ``.jsonl`` lines (a whole file, or one partition of it)."""
    for lineno, raw in lines:
        source = f"{name}:{lineno}"
        if not raw.strip():
            continue
        try:
            line = decode_note_bytes(raw, source, "utf-8", max_bytes)
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise NoteReadError(f"{source}: not valid JSON ({exc.msg})") from None
            if not isinstance(obj, dict):
                raise NoteReadError(f"{source}: expected a JSON object per line")
            yield note_from_mapping(obj, source, default_lang)
        except NoteReadError as exc:
            yield NoteError(source=source, reason=str(exc))


def note_from_mapping(obj: Mapping[str, Any], source: str, default_lang: str) -> Note:
    """A note from a record with id, text and optional patient_id, lang, admission_date, metadata."""
    if not isinstance(obj.get("id"), (str, int)) or obj.get("id") == "":
        raise NoteReadError(f"{source}: field 'id' is missing or not a string")
    if not isinstance(obj.get("text"), str):
        raise NoteReadError(f"{source}: field 'text' is missing or not a string")
    if not obj["text"].strip():
        raise NoteReadError(f"{source}: note {obj['id']!r} has an empty text")
    return make_note(str(obj["id"]), obj["text"], obj, source, default_lang)


def dedupe(items: Iterable[NoteOrError]) -> Iterator[NoteOrError]:
    """Pass items through, turning a repeated note id into an error naming both sources."""
    seen: dict[str, str] = {}
    for item in items:
        if isinstance(item, Note):
            if item.id in seen:
                yield NoteError(
                    source=item.source,
                    note_id=item.id,
                    reason=f"{item.source}: duplicate note id {item.id!r} (first read from {seen[item.id]})",
                )
                continue
            seen[item.id] = item.source
        yield item


def detect_format(path: Path) -> str:
    if path.is_file():
        if path.suffix == ".jsonl":
            return "jsonl"
        if path.suffix == ".parquet":
            return "parquet"
        if path.suffix == ".txt":
            return "txt"
        raise ConfigError(f"notes.path={path}: a file must be .jsonl, .parquet or .txt; give a directory for many notes")
    if path.is_dir():
        if any(path.glob("*.parquet")):
            return "parquet"
        return "brat" if any(path.rglob("*.ann")) else "txt"
    raise ConfigError(f"notes.path={path} does not exist")


def iter_notes(
    path: str | Path,
    *,
    fmt: str = "auto",
    default_lang: str = "detect",
    encoding: str = "utf-8",
    max_bytes: int = 2_000_000,
) -> Iterator[NoteOrError]:
    """Yield each note (or the error that stopped it) in a stable order; duplicate ids become errors."""
    path = Path(path)
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt in ("txt", "brat"):
        root, paths = (path.parent, [path]) if path.is_file() else (path, list_note_files(path))
        items = iter_txt_files(root, paths, encoding, max_bytes, default_lang)
    elif fmt == "jsonl":
        items = _iter_jsonl(path, max_bytes, default_lang)
    elif fmt == "parquet":
        from kgqa.runners.partitions import iter_parquet_notes

        items = iter_parquet_notes(path, default_lang)
    else:
        raise ConfigError(f"notes.format={fmt!r}: expected one of auto, txt, jsonl, brat, parquet")
    yield from dedupe(items)


def read_notes(
    path: str | Path,
    *,
    fmt: str = "auto",
    default_lang: str = "detect",
    encoding: str = "utf-8",
    max_bytes: int = 2_000_000,
    limit: int = 0,
) -> NoteBatch:
    batch = NoteBatch()
    for item in iter_notes(path, fmt=fmt, default_lang=default_lang, encoding=encoding, max_bytes=max_bytes):
        if isinstance(item, Note):
            if limit and len(batch.notes) >= limit:
                break
            batch.notes.append(item)
        else:
            log.warning("skipped: %s", item.reason)
            batch.errors.append(item)
    return batch
