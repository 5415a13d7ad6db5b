"""Partition planning, partition reading and canonical shards (no Ray needed)."""

import json

import pytest
import rdflib
import rdflib.compare

from kgqa.runners.partitions import plan_partitions, read_partition
from kgqa.runners.shards import (
    ShardEntry,
    canonical_nquads,
    iter_shard_graphs,
    merge_shards,
    read_manifest,
    shard_paths,
    write_shard,
)
from kgqa.types import Note, NoteError

EX = rdflib.Namespace("https://ex.org/")


def _jsonl(tmp_path, n, bad_lines=()):
    lines = []
    for i in range(n):
        lines.append("{broken" if i in bad_lines else json.dumps({"id": f"n{i:03d}", "lang": "en", "text": f"Note {i} text ✓"}))
        if i % 4 == 0:
            lines.append("")  # blank lines are not notes and do not count towards a partition
    path = tmp_path / "notes.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _read_all(parts):
    out = []
    for part in parts:
        out.extend(read_partition(part, default_lang="en", encoding="utf-8", max_bytes=10_000))
    return out


@pytest.mark.parametrize("size", [1, 3, 7, 100])
def test_jsonl_partitions_cover_every_line_once(tmp_path, size):
    path = _jsonl(tmp_path, 23, bad_lines=(5,))
    parts = plan_partitions(path, size)
    items = _read_all(parts)
    notes = [i for i in items if isinstance(i, Note)]
    errors = [i for i in items if isinstance(i, NoteError)]
    assert [n.id for n in notes] == [f"n{i:03d}" for i in range(23) if i != 5]
    assert len(errors) == 1 and "not valid JSON" in errors[0].reason
    # the error names the real line of the file
    lineno = int(errors[0].source.rsplit(":", 1)[1])
    assert path.read_text(encoding="utf-8").splitlines()[lineno - 1] == "{broken"
    assert plan_partitions(path, size) == parts  # deterministic


def test_txt_partitions(tmp_path):
    for i in range(5):
        (tmp_path / f"n{i}.txt").write_text(f"Patient {i} with ischemic stroke.", encoding="utf-8")
        (tmp_path / f"n{i}.json").write_text('{"lang": "en"}', encoding="utf-8")
    parts = plan_partitions(tmp_path, 2)
    assert [len(p.items) for p in parts] == [2, 2, 1]
    assert [n.id for n in _read_all(parts)] == [f"n{i}" for i in range(5)]


def test_parquet_partitions(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rows = [{"id": f"p{i}", "lang": "es", "text": f"Ictus isquémico {i}", "patient_id": f"X{i}"} for i in range(7)]
    rows[3]["text"] = ""
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "notes.parquet")
    parts = plan_partitions(tmp_path / "notes.parquet", 3)
    items = _read_all(parts)
    assert [i.id for i in items if isinstance(i, Note)] == ["p0", "p1", "p2", "p4", "p5", "p6"]
    assert any(isinstance(i, NoteError) and "row=3" in i.source for i in items)


def test_a_huge_jsonl_line_is_planned_counted_and_refused_without_being_held(tmp_path):
    import tracemalloc

    from kgqa.runners.partitions import count_notes

    path = tmp_path / "notes.jsonl"
    lines = [json.dumps({"id": f"n{i}", "lang": "en", "text": f"Note {i}."}) for i in range(5)]
    lines[2] = json.dumps({"id": "huge", "lang": "en", "text": "x" * 20_000_000})
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    tracemalloc.start()
    try:
        parts = plan_partitions(path, 2)
        assert count_notes(path) == 5
        items = _read_all(parts)  # max_bytes=10,000
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [i.id for i in items if isinstance(i, Note)] == ["n0", "n1", "n3", "n4"]
    (error,) = [i for i in items if isinstance(i, NoteError)]
    assert error.source.endswith("notes.jsonl:3") and "over the limit of 10000" in error.reason
    assert peak < 8_000_000


@pytest.mark.parametrize("row_group_size, partition_size", [(2, 3), (3, 2), (1, 4), (10, 3)])
def test_parquet_partitions_across_row_groups(tmp_path, row_group_size, partition_size):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from kgqa.notes import iter_notes

    rows = [{"id": f"p{i}", "lang": "es", "text": f"Ictus isquémico {i}"} for i in range(9)]
    rows[5]["text"] = "x" * 300  # over notes.max_bytes below
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "notes.parquet", row_group_size=row_group_size)
    parts = plan_partitions(tmp_path / "notes.parquet", partition_size)
    items = [i for p in parts for i in read_partition(p, default_lang="en", encoding="utf-8", max_bytes=200)]
    expected = [f"p{i}" for i in range(9) if i != 5]
    assert [i.id for i in items if isinstance(i, Note)] == expected
    (error,) = [i for i in items if isinstance(i, NoteError)]
    assert error.source.endswith("#row=5") and "300 bytes is over the limit of 200" in error.reason
    local = list(iter_notes(tmp_path / "notes.parquet", max_bytes=200))  # the local runner's reading
    assert [i.id for i in local if isinstance(i, Note)] == expected


def _graph(name, n):
    g = rdflib.Graph(identifier=EX[f"graph/{name}"])
    for i in range(n):
        g.add((EX[f"{name}/s{i}"], EX.p, rdflib.Literal(f'va"l\\ue {i}\n✓')))
    return g


def test_canonical_nquads_do_not_depend_on_order_or_partitioning(tmp_path):
    graphs = [_graph(c, 3) for c in "abcde"]
    one = canonical_nquads(graphs)
    assert one == canonical_nquads(list(reversed(graphs)))
    write_shard(tmp_path, "part-00000", 0, [ShardEntry(str(g.identifier), 'x', g) for g in graphs[:2]], [])
    write_shard(tmp_path, "part-00001", 1, [ShardEntry(str(g.identifier), 'x', g) for g in graphs[2:]], [NoteError(source="x", reason="bad")])
    merge_shards(tmp_path, ["part-00001", "part-00000"], tmp_path / "merged.nq")
    assert (tmp_path / "merged.nq").read_text(encoding="utf-8") == one


def test_incomplete_shard_is_not_complete(tmp_path):
    g = _graph("a", 2)
    manifest = write_shard(tmp_path, "part-00000", 0, [ShardEntry("a", "x", g)], [])
    assert read_manifest(tmp_path, "part-00000") == manifest
    nq, manifest_path, _ = shard_paths(tmp_path, "part-00000")
    nq.write_text(nq.read_text(encoding="utf-8")[:-10], encoding="utf-8")  # a torn write
    assert read_manifest(tmp_path, "part-00000") is None
    manifest_path.unlink()
    assert read_manifest(tmp_path, "part-00000") is None


def test_shard_graphs_round_trip(tmp_path):
    graphs = [_graph("a", 2), _graph("b", 3)]
    write_shard(tmp_path, "part-00000", 0, [ShardEntry(str(g.identifier), 'x', g) for g in graphs], [])
    back = {g.identifier: g for g in iter_shard_graphs(shard_paths(tmp_path, "part-00000")[0])}
    assert set(back) == {g.identifier for g in graphs}
    for g in graphs:
        assert rdflib.compare.isomorphic(back[g.identifier], g)


def test_count_notes_from_metadata(tmp_path):
    from kgqa.runners.partitions import count_notes

    path = _jsonl(tmp_path, 9)
    assert count_notes(path) == 9  # blank lines are not notes
    (tmp_path / "d").mkdir()
    for i in range(3):
        (tmp_path / "d" / f"n{i}.txt").write_text("text", encoding="utf-8")
        (tmp_path / "d" / f"n{i}.json").write_text("{}", encoding="utf-8")
    assert count_notes(tmp_path / "d") == 3


def test_a_note_id_an_earlier_partition_has_is_left_out_of_the_merge(tmp_path):
    from kgqa.runners.shards import duplicates_across_partitions, skipped_graphs

    a, b, c, a_again = _graph("a", 2), _graph("b", 3), _graph("c", 1), _graph("a2", 4)
    # partition 1 repeats note id "a" (another text, so another graph); partition 2 repeats it with the
    # very graph IRI of the first "a" (same patient and note id), which must not take the first one with it
    m0 = write_shard(tmp_path, "part-00000", 0, [ShardEntry("a", "x", a), ShardEntry("b", "x", b)], [])
    m1 = write_shard(tmp_path, "part-00001", 1, [ShardEntry("c", "x", c), ShardEntry("a", "y", a_again)], [])
    same_iri = _graph("a", 1)
    same_iri.add((EX.extra, EX.p, rdflib.Literal("other text")))
    m2 = write_shard(tmp_path, "part-00002", 2, [ShardEntry("a", "z", same_iri)], [])
    dupes = duplicates_across_partitions([m2, m1, m0])  # any order in, partition order decides
    assert [(d.partition, d.note_id, d.first_partition, d.triples) for d in dupes] == [(1, "a", 0, 4), (2, "a", 0, 2)]
    assert dupes[0].graph == str(a_again.identifier) and "partition 1" in dupes[0].reason
    skip = skipped_graphs(dupes)
    assert skip == {"part-00001": {str(a_again.identifier)}, "part-00002": {str(a.identifier)}}
    merge_shards(tmp_path, ["part-00000", "part-00001", "part-00002"], tmp_path / "merged.nq", skip)
    assert (tmp_path / "merged.nq").read_text(encoding="utf-8") == canonical_nquads([a, b, c])
    kept = {g.identifier for g in iter_shard_graphs(shard_paths(tmp_path, "part-00001")[0], skip["part-00001"])}
    assert kept == {c.identifier}
    assert duplicates_across_partitions([m0]) == []
