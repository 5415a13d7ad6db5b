"""Reading notes: a directory of ``.txt`` (+ optional ``.json`` sidecars), a ``.jsonl`` file, or brat folders.

Text is kept exactly as read (bytes decoded, nothing else: CRLF, tabs, BOM-less UTF-8), because
every offset kgqa emits refers to it. Bad input never stops a batch: each problem becomes a
:class:`~kgqa.types.NoteError` naming the file (and line), and the reader carries on.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import json
import logging
import os
import re
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

from kgqa.errors import ConfigError, NoteReadError, RecordError
from kgqa.records_io import decode_scalar
from kgqa.types import LANGUAGES, Note, NoteError

log = logging.getLogger(__name__)

NoteOrError = Note | NoteError

#: sidecar / jsonl keys that become Note fields; everything else goes to metadata. ``source``,
#: ``lang_source`` and ``sha256`` are the fields of kgqa's own note records (``notes.jsonl`` of a run,
#: ``kgqa synth``'s notes, :mod:`kgqa.records_io`), so those files read back as they were written
_NOTE_KEYS = {"id", "patient_id", "lang", "text", "admission_date", "metadata", "source", "lang_source", "sha256"}


@dataclass
class NoteBatch:
    notes: list[Note] = field(default_factory=list)
    errors: list[NoteError] = field(default_factory=list)

    def summary(self) -> str:
        s = f"{len(self.notes)} notes read"
        if self.errors:
            s += f", {len(self.errors)} skipped: " + "; ".join(log_reason(e) for e in self.errors[:10])
            if len(self.errors) > 10:
                s += f"; … ({len(self.errors) - 10} more)"
        return s


# --------------------------------------------------------------------------- logging without PHI


def source_tag(source: str) -> str:
    """A stable pseudonym of an input's source for logs (``input-3f9a1c0b2e``): file names may carry
    patient names, so logs name a digest of the source and errors.jsonl names the file itself."""
    return "input-" + hashlib.sha256(source.encode("utf-8", "surrogateescape")).hexdigest()[:10]


def log_reason(error: NoteError, debug_phi: bool = False) -> str:
    """The console/log line for a skipped input: its reason, with the file name and note id replaced
    by :func:`source_tag` unless ``debug_phi`` (the full reason stays in errors.jsonl)."""
    if debug_phi:
        return error.reason
    tag = source_tag(error.source)
    why = error.reason
    if why.startswith(error.source):
        why = why[len(error.source) :].lstrip(": ")
    # what else can name the patient: the file's other spellings, a sidecar, the note id, a first source
    why = re.sub(r" \(first read from .*\)$", " (first read from another input)", why)
    path = Path(error.source.split("#", 1)[0])
    sidecar = path.with_suffix(".json")
    # whole names only (a stem such as "binary" is also a word of the reason); ids as they are quoted
    secrets = {error.source, str(path), str(sidecar), path.name, sidecar.name, repr(path.stem)}
    if error.note_id:
        secrets.add(repr(error.note_id))
    for secret in sorted((s for s in secrets if len(s) > 2), key=len, reverse=True):
        why = why.replace(secret, "…")
    return f"{tag}: {why}"


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


#: byte-order marks kgqa recognises, longest first (UTF-32 LE starts with the UTF-16 LE mark)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
#: ``notes.encoding`` value that reads UTF-8, or UTF-8/16/32 announced by a byte-order mark
AUTO_ENCODING = "auto"


def bom_encoding(data: bytes) -> str | None:
    """The codec a byte-order mark at the start of ``data`` announces (one that drops the mark), if any."""
    return next((codec for bom, codec in _BOMS if data.startswith(bom)), None)


def check_encoding(encoding: str) -> None:
    """ConfigError unless ``encoding`` is ``auto`` or a codec Python knows."""
    if encoding == AUTO_ENCODING:
        return
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ConfigError(f"notes.encoding={encoding!r}: not a known text encoding (e.g. utf-8, cp1250, auto)") from None


def decode_note_bytes(data: bytes, source: str, encoding: str = "utf-8", max_bytes: int = 0) -> str:
    """Bytes of one note -> text, or NoteReadError naming ``source`` and the reason.

    ``encoding="auto"`` reads UTF-8, or the UTF-8/16/32 a byte-order mark announces (the mark itself
    is not part of the text, so offsets start at the first character). With a fixed encoding, a note
    that starts with another encoding's byte-order mark is refused with that reason, not read as garbage.
    """
    if max_bytes and len(data) > max_bytes:
        raise NoteReadError(f"{source}: {len(data)} bytes is over the limit of {max_bytes} (notes.max_bytes)")
    announced = bom_encoding(data)
    if encoding == AUTO_ENCODING:
        encoding = announced or "utf-8"
    elif announced is not None and not codecs.lookup(encoding).name.startswith(announced.removesuffix("-sig")):
        raise NoteReadError(
            f"{source}: starts with a {announced.upper().replace('-SIG', '')} byte-order mark but notes.encoding is "
            f"{encoding}; set notes.encoding=auto (or {announced})"
        )
    if announced is None and b"\x00" in data[:8192]:
        if _looks_like_utf16(data[:8192]):
            raise NoteReadError(
                f"{source}: looks like UTF-16 without a byte-order mark (NUL bytes between characters); "
                "re-save it as UTF-8 or set notes.encoding=utf-16-le / utf-16-be"
            )
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


def _looks_like_utf16(head: bytes) -> bool:
    """Every other byte NUL, on one side: ASCII-range text in UTF-16 without a mark."""
    even, odd = head[0::2], head[1::2]
    return len(head) >= 4 and (even.count(0) >= 0.9 * len(even) or odd.count(0) >= 0.9 * len(odd)) and (
        even.count(0) == 0 or odd.count(0) == 0
    )


def read_note_file(path: Path, source: str, encoding: str, max_bytes: int) -> str:
    """The text of one note file; the size is checked before anything is read (``notes.max_bytes``)."""
    with path.open("rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if max_bytes and size > max_bytes:
            raise NoteReadError(f"{source}: {size} bytes is over the limit of {max_bytes} (notes.max_bytes)")
        # at most one byte over the limit: a file that grew since the stat is still refused, never read whole
        data = fh.read(max_bytes + 1) if max_bytes else fh.read()
    return decode_note_bytes(data, source, encoding, max_bytes)


def _parse_date(value: Any, source: str) -> dt.date | None:
    """A plain ISO date string, or kgqa's tagged record encoding (``{"$date": "2025-03-12"}``)."""
    if value in (None, ""):
        return None
    if isinstance(value, dict):
        try:
            value = decode_scalar(value)
        except (TypeError, ValueError):
            raise NoteReadError(f"{source}: admission_date {value!r} is not an ISO date (YYYY-MM-DD)") from None
    if isinstance(value, dt.datetime):
        return value.date()
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
    if lang_source == "declared" and meta.get("lang_source") == "detected":
        lang_source = "detected"  # a record kgqa wrote keeps how its language was decided
    raw_metadata = meta.get("metadata") or {}
    if not isinstance(raw_metadata, Mapping):
        raise NoteReadError(f"{source}: field 'metadata' must be an object")
    metadata = {k: decode_scalar(v) for k, v in raw_metadata.items()}
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
            # a record's digest is checked against its text: a note edited after kgqa wrote it is refused
            sha256=str(meta.get("sha256") or ""),
        )
    except RecordError as exc:
        raise NoteReadError(f"{source}: {exc}") from None


# --------------------------------------------------------------------------- formats


_SKIP_SUFFIXES = (".json", ".ann", ".md")


def list_note_files(root: Path) -> list[Path]:
    """Note entries under ``root`` in the stable order every runner uses.

    Every entry that is not a plain directory is listed, not only regular files: a dangling symbolic
    link, a FIFO or a directory named like a note (``x.txt``) is then reported by
    :func:`iter_txt_files` with its reason instead of vanishing from the run without a word.
    """
    return sorted(p for p in root.rglob("*") if not p.is_dir() or p.suffix == ".txt")


def is_note_candidate(path: Path) -> bool:
    """False for sidecars, brat annotations, READMEs and hidden files (read alongside notes or never)."""
    return path.suffix not in _SKIP_SUFFIXES and not path.name.startswith(".")


def _not_a_regular_file(path: Path) -> str | None:
    """Why ``path`` cannot be a note file although it is listed, or None when it is a regular file."""
    try:
        mode = path.stat().st_mode  # follows symbolic links
    except FileNotFoundError:
        return "a dangling symbolic link (its target does not exist)" if path.is_symlink() else "vanished while read"
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if stat.S_ISDIR(mode):
        return "a directory, not a note file"
    if not stat.S_ISREG(mode):
        return "not a regular file (a FIFO, socket or device)"
    return None


def iter_txt_files(
    root: Path, paths: list[Path], encoding: str, max_bytes: int, default_lang: str
) -> Iterator[NoteOrError]:
    for path in paths:
        if not is_note_candidate(path):
            continue  # sidecars, brat annotations, READMEs
        source = str(path)
        try:
            if (why := _not_a_regular_file(path)) is not None:
                raise NoteReadError(f"{source}: {why}")
            if path.suffix != ".txt":
                raise NoteReadError(f"{source}: not a .txt note (only .txt, .json sidecars and brat .ann are read)")
            text = read_note_file(path, source, encoding, max_bytes)
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


@dataclass(frozen=True)
class OversizedLine:
    """A ``.jsonl`` line longer than ``notes.max_bytes``: only its size was kept, never its bytes."""

    size: int


_CHUNK = 1 << 20


def iter_raw_lines(
    fh: BinaryIO, max_bytes: int, first_line: int = 1, end: int | None = None
) -> Iterator[tuple[int, bytes | OversizedLine]]:
    """Numbered raw lines of a binary file, none held longer than ``max_bytes`` (+ its newline).

    A longer line is read through in chunks and yielded as :class:`OversizedLine`, so a 1 GB line
    costs a megabyte of memory, not a gigabyte. ``end``: stop at this byte offset (a partition's end).
    """
    lineno = first_line
    limit = max_bytes + 2 if max_bytes else -1  # the line, a CR and its LF
    while end is None or fh.tell() < end:
        raw = fh.readline(limit)
        if not raw:
            return
        if max_bytes and len(raw) == limit and not raw.endswith(b"\n"):
            size = len(raw)
            while not raw.endswith(b"\n"):
                raw = fh.readline(_CHUNK)
                if not raw:
                    break
                size += len(raw)
            yield lineno, OversizedLine(size)
        else:
            yield lineno, raw
        lineno += 1


def _iter_jsonl(path: Path, max_bytes: int, default_lang: str) -> Iterator[NoteOrError]:
    with path.open("rb") as fh:
        yield from iter_jsonl_lines(str(path), iter_raw_lines(fh, max_bytes), max_bytes, default_lang)


def iter_jsonl_lines(
    name: str, lines: Iterable[tuple[int, bytes | OversizedLine]], max_bytes: int, default_lang: str
) -> Iterator[NoteOrError]:
    """Notes from numbered raw ``.jsonl`` lines (a whole file, or one partition of it)."""
    for lineno, raw in lines:
        source = f"{name}:{lineno}"
        if isinstance(raw, OversizedLine):
            reason = f"{source}: {raw.size} bytes is over the limit of {max_bytes} (notes.max_bytes)"
            yield NoteError(source=source, reason=reason)
            continue
        if not raw.strip():
            continue
        try:
            line = decode_note_bytes(raw, source, "utf-8", max_bytes)
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise NoteReadError(f"{source}: not valid JSON ({exc.msg} at column {exc.colno})") from None
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
    check_encoding(encoding)
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt in ("txt", "brat"):
        root, paths = (path.parent, [path]) if path.is_file() else (path, list_note_files(path))
        items = iter_txt_files(root, paths, encoding, max_bytes, default_lang)
    elif fmt == "jsonl":
        items = _iter_jsonl(path, max_bytes, default_lang)
    elif fmt == "parquet":
        from kgqa.runners.partitions import iter_parquet_notes

        items = iter_parquet_notes(path, default_lang, max_bytes)
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
    debug_phi: bool = False,
) -> NoteBatch:
    batch = NoteBatch()
    for item in iter_notes(path, fmt=fmt, default_lang=default_lang, encoding=encoding, max_bytes=max_bytes):
        if isinstance(item, Note):
            if limit and len(batch.notes) >= limit:
                break
            batch.notes.append(item)
        else:
            log.warning("skipped: %s", log_reason(item, debug_phi))
            batch.errors.append(item)
    return batch
