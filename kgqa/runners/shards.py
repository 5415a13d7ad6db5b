"""Sharded N-Quads output: one shard + manifest per partition, canonical so runners compare byte for byte.

Canonical N-Quads = every quad line of the note graphs, sorted. The order then depends neither on
how notes were partitioned nor on rdflib's set ordering, so ``runner=local`` and ``runner=ray``
give identical files for the same input and config (IRIs are deterministic; see docs/rdf.md).

A shard is complete when its manifest exists and the shard file's sha256 matches the manifest;
files are written to a temporary name and renamed, manifest last, so a killed worker leaves
either a complete shard or one that a re-run redoes — note by note: while a partition runs, each
batch of its notes done is appended to the partition's checkpoint (:class:`Checkpoint`), which a
re-run reads to skip those notes, and which is removed once the shard is complete.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import rdflib
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

from kgqa.runners.partitions import partition_name
from kgqa.types import NoteError


def graph_nquads_lines(graph: rdflib.Graph) -> list[str]:
    """The quads of one named graph as sorted N-Quads lines (no trailing newline)."""
    ds = rdflib.Dataset()
    target = ds.graph(graph.identifier)
    for triple in graph:
        target.add(triple)
    return sorted(line for line in ds.serialize(format="nquads").splitlines() if line.strip())


def canonical_nquads(graphs: Iterable[rdflib.Graph]) -> str:
    lines: list[str] = []
    for graph in graphs:
        lines.extend(graph_nquads_lines(graph))
    lines.sort()
    return "".join(line + "\n" for line in lines)


def _atomic_write(path: Path, data: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(data, encoding="utf-8")
    os.replace(tmp, path)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class Manifest:
    partition: int
    notes: list[dict] = field(default_factory=list)  # {"id", "sha256", "graph", "triples", "facts"}
    errors: list[dict] = field(default_factory=list)  # NoteError as dict
    triples: int = 0
    nquads_sha256: str = ""
    #: what the shard was computed from (partition, input file stats, config); a mismatch means stale
    fingerprint: str = ""
    #: facts of the partition's notes (written to ``{name}.facts.jsonl`` beside the shard)
    facts: int = 0

    @property
    def note_ids(self) -> list[str]:
        return [n["id"] for n in self.notes]


def shard_paths(shard_dir: Path, name: str) -> tuple[Path, Path, Path]:
    return shard_dir / f"{name}.nq", shard_dir / f"{name}.manifest.json", shard_dir / f"{name}.errors.jsonl"


def record_paths(shard_dir: Path, name: str) -> tuple[Path, Path]:
    """The partition's note and fact records (kgqa.records_io lines), merged into the run's
    ``notes.jsonl`` and ``facts.jsonl`` so ``kgqa report`` reads a Ray run as it reads a local one."""
    return shard_dir / f"{name}.notes.jsonl", shard_dir / f"{name}.facts.jsonl"


class ShardEntry(NamedTuple):
    note_id: str
    note_sha256: str
    graph: rdflib.Graph
    #: the note's record and its facts' records (records_io dicts); empty for shards made without them
    note_record: dict | None = None
    fact_records: tuple[dict, ...] = ()


def write_shard(
    shard_dir: Path,
    name: str,
    partition: int,
    entries: list[ShardEntry],
    errors: list[NoteError],
    fingerprint: str = "",
) -> Manifest:
    """Write one partition's shard, error report and (last) manifest."""
    shard_dir.mkdir(parents=True, exist_ok=True)
    nq, manifest_path, errors_path = shard_paths(shard_dir, name)
    notes_path, facts_path = record_paths(shard_dir, name)
    _atomic_write(nq, canonical_nquads(e.graph for e in entries))
    _atomic_write(errors_path, "".join(json.dumps(asdict(e), ensure_ascii=False) + "\n" for e in errors))
    _atomic_write(notes_path, "".join(_json_line(e.note_record) for e in entries if e.note_record is not None))
    _atomic_write(facts_path, "".join(_json_line(f) for e in entries for f in e.fact_records))
    manifest = Manifest(
        partition=partition,
        notes=[
            {"id": e.note_id, "sha256": e.note_sha256, "graph": str(e.graph.identifier), "triples": len(e.graph),
             "facts": len(e.fact_records)}
            for e in entries
        ],
        errors=[asdict(e) for e in errors],
        triples=sum(len(e.graph) for e in entries),
        nquads_sha256=sha256_file(nq),
        fingerprint=fingerprint,
        facts=sum(len(e.fact_records) for e in entries),
    )
    _atomic_write(manifest_path, json.dumps(asdict(manifest), ensure_ascii=False, indent=1))
    return manifest


def _json_line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"


def merge_records(
    shard_dir: Path, manifests: Iterable[Manifest], out_dir: Path, skip_notes: Mapping[int, Collection[str]]
) -> tuple[int, int]:
    """Concatenate the partitions' note and fact records into ``out_dir/notes.jsonl`` and
    ``facts.jsonl`` (partition order; line by line, so the driver never holds the note texts),
    leaving out ``skip_notes[partition]`` (note ids another partition had first). Returns (notes, facts).
    A shard written before kgqa kept records contributes none (its notes are in the store and the N-Quads)."""
    counts = [0, 0]
    with (out_dir / "notes.jsonl").open("w", encoding="utf-8") as notes_out, (out_dir / "facts.jsonl").open(
        "w", encoding="utf-8"
    ) as facts_out:
        for manifest in sorted(manifests, key=lambda m: m.partition):
            skip = frozenset(skip_notes.get(manifest.partition, ()))
            for k, (path, out) in enumerate(zip(record_paths(shard_dir, partition_name(manifest.partition)),
                                                (notes_out, facts_out))):
                if not path.is_file():
                    continue
                key = "id" if k == 0 else "note_id"
                with path.open(encoding="utf-8") as fh:
                    for line in fh:
                        if line.strip() and (not skip or json.loads(line)[key] not in skip):
                            out.write(line)
                            counts[k] += 1
    return counts[0], counts[1]


def read_manifest(shard_dir: Path, name: str, fingerprint: str | None = None) -> Manifest | None:
    """The shard's manifest if the shard is complete (manifest present, shard digest matching and, when
    ``fingerprint`` is given, computed from the same input and config), else None."""
    nq, manifest_path, _ = shard_paths(shard_dir, name)
    if not manifest_path.exists() or not nq.exists():
        return None
    try:
        data = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest = Manifest(**data)
    except (json.JSONDecodeError, TypeError):
        return None
    if fingerprint is not None and manifest.fingerprint != fingerprint:
        return None
    return manifest if sha256_file(nq) == manifest.nquads_sha256 else None


@dataclass(frozen=True)
class DuplicateNote:
    """A note whose id an earlier partition already has: its graph is left out, as the local runner
    leaves out the second note of an id (workers never see each other's notes; the driver sees the
    manifests)."""

    partition: int
    note_id: str
    graph: str
    triples: int
    first_partition: int

    @property
    def reason(self) -> str:
        return (
            f"duplicate note id {self.note_id!r} in partition {self.partition} (first in partition "
            f"{self.first_partition}); its graph was not loaded"
        )


def skipped_graphs(
    duplicates: Iterable[DuplicateNote], name_of: Callable[[int], str] = partition_name
) -> dict[str, set[str]]:
    """Shard name (``name_of(partition)``) -> graph IRIs of the duplicates to leave out of that shard."""
    out: dict[str, set[str]] = {}
    for d in duplicates:
        out.setdefault(name_of(d.partition), set()).add(d.graph)
    return out


def duplicates_across_partitions(manifests: Iterable[Manifest]) -> list[DuplicateNote]:
    """Notes of a later partition whose id an earlier partition has (within a partition they are already
    errors, see :func:`kgqa.notes.dedupe`)."""
    first: dict[str, int] = {}
    dupes = []
    for manifest in sorted(manifests, key=lambda m: m.partition):
        for note in manifest.notes:
            if note["id"] in first:
                dupes.append(DuplicateNote(manifest.partition, note["id"], note["graph"], note["triples"], first[note["id"]]))
            else:
                first[note["id"]] = manifest.partition
    return dupes


def _graph_of(line: str) -> str:
    """The graph IRI of a canonical N-Quads line ("<s> <p> <o> <g> .")."""
    return line.rsplit(" ", 2)[-2].strip("<>")


def merge_shards(
    shard_dir: Path, names: Iterable[str], out: Path, skip_graphs: Mapping[str, Collection[str]] | None = None
) -> int:
    """Merge shards into one canonical N-Quads file (globally sorted lines), leaving out the quads of
    ``skip_graphs[shard name]`` (:func:`duplicates_across_partitions`; per shard, because a repeated
    note may mint the very graph IRI of the note it repeats); returns the line count."""
    lines: list[str] = []
    for name in names:
        nq, _, _ = shard_paths(shard_dir, name)
        skip = frozenset((skip_graphs or {}).get(name, ()))
        lines.extend(
            line for line in nq.read_text(encoding="utf-8").splitlines()
            if line.strip() and not (skip and _graph_of(line) in skip)
        )
    lines.sort()
    _atomic_write(out, "".join(line + "\n" for line in lines))
    return len(lines)


def iter_shard_graphs(nq_path: Path, skip_graphs: Collection[str] = ()) -> Iterator[rdflib.Graph]:
    """The named graphs of one shard file (for loading it through the store interface), except ``skip_graphs``."""
    ds = rdflib.Dataset()
    ds.parse(nq_path, format="nquads")
    for graph in ds.graphs():
        if len(graph) and graph.identifier != DATASET_DEFAULT_GRAPH_ID and str(graph.identifier) not in skip_graphs:
            standalone = rdflib.Graph(identifier=graph.identifier)
            for triple in graph:
                standalone.add(triple)
            yield standalone


# ---------------------------------------------------------------------- per-note checkpoints


def checkpoint_path(shard_dir: Path, name: str) -> Path:
    return shard_dir / f"{name}.partial.jsonl"


def _entry_line(entry: ShardEntry) -> str:
    return _json_line({"id": entry.note_id, "sha256": entry.note_sha256, "graph": str(entry.graph.identifier),
                       "nquads": "".join(line + "\n" for line in graph_nquads_lines(entry.graph)),
                       "note": entry.note_record, "facts": list(entry.fact_records)})  # fmt: skip


def _entry_of(record: dict) -> ShardEntry:
    ds = rdflib.Dataset()
    ds.parse(data=record["nquads"], format="nquads")
    graph = rdflib.Graph(identifier=rdflib.URIRef(record["graph"]))
    for triple in ds.graph(graph.identifier):
        graph.add(triple)
    return ShardEntry(record["id"], record["sha256"], graph, record.get("note"), tuple(record.get("facts") or ()))


def read_checkpoint(shard_dir: Path, name: str, salt: str, *, entries: bool = True) -> dict[tuple[str, str], ShardEntry | None]:
    """(note id, text sha256) -> the note's entry, for each note the partition's checkpoint holds; empty when
    there is none or it was written for another ``salt`` (another run, settings, model or key). A line cut
    short by a killed worker is left out. ``entries=False`` only counts (values None)."""
    path = checkpoint_path(shard_dir, name)
    out: dict[tuple[str, str], ShardEntry | None] = {}
    try:
        fh = path.open(encoding="utf-8")
    except OSError:
        return out
    with fh:
        for i, line in enumerate(fh):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if i == 0:
                if record.get("salt") != salt:
                    return out
                continue
            if isinstance(record, dict) and "nquads" in record:
                out[(record["id"], record["sha256"])] = _entry_of(record) if entries else None
    return out


class Checkpoint:
    """The notes of one partition done so far (runner=ray), appended a batch at a time.

    Opened for a partition about to run: the entries an earlier attempt left under the same ``salt``
    are :attr:`done` (a note is skipped when its id and text digest match, as ``runner=local`` skips a
    stored note), and the file is rewritten with just those; :meth:`append` adds each batch done;
    :meth:`remove` once the partition's shard is complete. ``resume=False`` starts it empty.
    """

    def __init__(self, shard_dir: Path, name: str, salt: str, *, resume: bool = True) -> None:
        shard_dir.mkdir(parents=True, exist_ok=True)
        self.path = checkpoint_path(shard_dir, name)
        self.done = read_checkpoint(shard_dir, name, salt) if resume else {}
        _atomic_write(self.path, _json_line({"salt": salt}) + "".join(_entry_line(e) for e in self.done.values() if e))

    def append(self, entries: Iterable[ShardEntry]) -> None:
        text = "".join(_entry_line(e) for e in entries)
        if text:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(text)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
