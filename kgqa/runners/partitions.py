"""Deterministic partitions of a note collection, and reading the notes of one partition.

A partition is the unit of distribution, sharding, resume and error isolation. It is planned on
the driver from cheap metadata only (file names, line offsets, Parquet row counts) so the driver
never holds millions of note texts; each worker reads its own partition. The same input and
``partition_size`` always give the same partitions, so a re-run finds its finished shards.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kgqa.errors import ConfigError, NoteReadError
from kgqa.notes import (
    NoteOrError,
    OversizedLine,
    dedupe,
    detect_format,
    is_note_candidate,
    iter_jsonl_lines,
    iter_raw_lines,
    iter_txt_files,
    list_note_files,
    note_from_mapping,
)
from kgqa.types import NoteError


def partition_name(index: int) -> str:
    """The shard name of partition ``index`` (``part-00007``)."""
    return f"part-{index:05d}"


@dataclass(frozen=True)
class Partition:
    index: int
    #: txt | jsonl | parquet
    fmt: str
    root: str
    #: txt: note file paths; jsonl: ((first_line_no, byte_start, byte_end),); parquet: ((file, row_start, row_stop), …)
    items: tuple

    @property
    def name(self) -> str:
        return partition_name(self.index)

    def fingerprint(self, salt: str) -> str:
        """Digest of the partition's spec, the size and mtime of every input file it reads, and ``salt``
        (the run's config digest): a shard made from other input or config is not resumed."""
        if self.fmt == "txt":
            files = sorted(set(self.items) | {str(Path(p).with_suffix(".json")) for p in self.items})  # + sidecars
        elif self.fmt == "jsonl":
            files = [self.root]
        else:
            files = sorted({str(i[0]) for i in self.items})
        stats = []
        for f in files:
            try:
                st = os.stat(f)
                stats.append((f, st.st_size, st.st_mtime_ns))
            except OSError:
                stats.append((f, -1, -1))
        payload = json.dumps([self.fmt, self.root, list(self.items), stats, salt], default=str)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def plan_partitions(path: str | Path, partition_size: int, fmt: str = "auto") -> list[Partition]:
    if partition_size < 1:
        raise ConfigError(f"runner.partition_size={partition_size}: must be >= 1")
    path = Path(path)
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt in ("txt", "brat"):
        root = path.parent if path.is_file() else path
        files = _note_files(path)
        return [
            Partition(i, "txt", str(root), tuple(str(f) for f in files[k : k + partition_size]))
            for i, k in enumerate(range(0, len(files), partition_size))
        ]
    if fmt == "jsonl":
        return _plan_jsonl(path, partition_size)
    if fmt == "parquet":
        return _plan_parquet(path, partition_size)
    raise ConfigError(f"notes.format={fmt!r} cannot be partitioned")


def _note_files(path: Path) -> list[Path]:
    """The note files of a .txt note or a directory (sidecars, brat .ann and READMEs excluded)."""
    files = [path] if path.is_file() else list_note_files(path)
    return [f for f in files if is_note_candidate(f)]


def count_notes(path: str | Path, fmt: str = "auto") -> int:
    """Number of note records (files, non-blank lines, rows) from metadata, without reading the notes."""
    path = Path(path)
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt in ("txt", "brat"):
        return len(_note_files(path))
    if fmt == "jsonl":
        return sum(1 for _, _, _, blank in _line_extents(path) if not blank)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(f).metadata.num_rows for f in _parquet_files(path))
    raise ConfigError(f"notes.format={fmt!r} cannot be counted")


def _line_extents(path: Path) -> Iterator[tuple[int, int, int, bool]]:
    """(line number, first byte, end byte, blank?) of every line, read in chunks: planning never holds
    a whole line, so one enormous line costs a megabyte, not its size (it is refused when read)."""
    offset, lineno = 0, 1
    with path.open("rb") as fh:
        while True:
            start, blank = offset, True
            while True:
                chunk = fh.readline(1 << 20)
                offset += len(chunk)
                blank = blank and not chunk.strip()
                if not chunk or chunk.endswith(b"\n"):
                    break
            if offset == start:
                return
            yield lineno, start, offset, blank
            lineno += 1


def _plan_jsonl(path: Path, partition_size: int) -> list[Partition]:
    parts: list[Partition] = []
    offset = 0
    start_line, start_byte, count = 1, 0, 0
    for lineno, line_start, line_end, blank in _line_extents(path):
        if count == 0:
            start_line, start_byte = lineno, line_start
        offset = line_end
        if not blank:
            count += 1
        if count == partition_size:
            parts.append(Partition(len(parts), "jsonl", str(path), ((start_line, start_byte, offset),)))
            count = 0
    if count:
        parts.append(Partition(len(parts), "jsonl", str(path), ((start_line, start_byte, offset),)))
    return parts


def _parquet_files(path: Path) -> list[Path]:
    return [path] if path.is_file() else sorted(path.glob("*.parquet"))


def _plan_parquet(path: Path, partition_size: int) -> list[Partition]:
    import pyarrow.parquet as pq

    parts: list[Partition] = []
    for file in _parquet_files(path):
        rows = pq.ParquetFile(file).metadata.num_rows
        for start in range(0, rows, partition_size):
            parts.append(Partition(len(parts), "parquet", str(path), ((str(file), start, min(rows, start + partition_size)),)))
    return parts


def read_partition(part: Partition, *, default_lang: str, encoding: str, max_bytes: int) -> Iterator[NoteOrError]:
    """The notes of one partition (duplicates inside it become errors; across partitions see docs/scale-out.md)."""
    if part.fmt == "txt":
        items = iter_txt_files(Path(part.root), [Path(p) for p in part.items], encoding, max_bytes, default_lang)
    elif part.fmt == "jsonl":
        ((first_line, start, end),) = part.items
        lines = _lines(Path(part.root), first_line, start, end, max_bytes)
        items = iter_jsonl_lines(part.root, lines, max_bytes, default_lang)
    elif part.fmt == "parquet":
        items = _iter_parquet_rows(part.items, default_lang, max_bytes)
    else:
        raise ConfigError(f"unknown partition format {part.fmt!r}")
    yield from dedupe(items)


def _lines(path: Path, first_line: int, start: int, end: int, max_bytes: int) -> Iterator[tuple[int, bytes | OversizedLine]]:
    with path.open("rb") as fh:
        fh.seek(start)
        yield from iter_raw_lines(fh, max_bytes, first_line, end)


_PARQUET_COLUMNS = ("id", "text", "lang", "patient_id", "admission_date", "metadata")


def _iter_parquet_rows(ranges: tuple, default_lang: str, max_bytes: int = 0) -> Iterator[NoteOrError]:
    """Notes of rows [start, stop) of each file, streamed in record batches from the row groups that
    hold them: a partition reads its own rows, not the whole file (which made P partitions of one
    file cost P whole-file reads), and the local runner never holds every text of a file at once."""
    import pyarrow.parquet as pq

    for file, start, stop in ranges:
        pf = pq.ParquetFile(file)
        columns = [c for c in _PARQUET_COLUMNS if c in pf.schema_arrow.names]
        groups, first_row, row = [], None, 0
        for i in range(pf.metadata.num_row_groups):
            n = pf.metadata.row_group(i).num_rows
            if row < stop and row + n > start:
                groups.append(i)
                first_row = row if first_row is None else first_row
            row += n
        if not groups:
            continue
        index = first_row
        for batch in pf.iter_batches(batch_size=256, row_groups=groups, columns=columns):
            for record in batch.to_pylist():
                index += 1
                if not start <= index - 1 < stop:
                    continue
                source = f"{file}#row={index - 1}"
                try:
                    text = record.get("text")
                    if max_bytes and isinstance(text, str) and len(text.encode("utf-8")) > max_bytes:
                        raise NoteReadError(f"{source}: {len(text.encode('utf-8'))} bytes is over the limit of "
                                            f"{max_bytes} (notes.max_bytes)")
                    yield note_from_mapping(record, source, default_lang)
                except NoteReadError as exc:
                    yield NoteError(source=source, reason=str(exc))
            if index >= stop:
                break


def iter_parquet_notes(path: Path, default_lang: str, max_bytes: int = 0) -> Iterator[NoteOrError]:
    """All notes of a Parquet file or directory, in row order (the local runner's reading)."""
    import pyarrow.parquet as pq

    for file in _parquet_files(Path(path)):
        rows = pq.ParquetFile(file).metadata.num_rows
        yield from _iter_parquet_rows(((str(file), 0, rows),), default_lang, max_bytes)
