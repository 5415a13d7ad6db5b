"""runner=ray without a Ray job: the install hint, the merged run records, Ray Data's console noise,
and ``kgqa report``'s single error line."""

from __future__ import annotations

import json
import logging
import sys

import pytest
import rdflib

from kgqa.errors import ConfigError
from kgqa.records_io import note_to_dict, read_facts_jsonl, read_notes_jsonl
from kgqa.runners import ray_runner
from kgqa.runners.shards import (
    ShardEntry,
    duplicates_across_partitions,
    merge_records,
    read_manifest,
    write_shard,
)
from kgqa.types import Note, NoteError


def test_missing_ray_is_one_line_with_the_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # what an environment without the extra gives
    with pytest.raises(ConfigError) as info:
        ray_runner.import_ray()
    assert "pip install 'kgqa[ray]'" in str(info.value) and "\n" not in str(info.value)


def _entry(note_id: str, facts: int) -> ShardEntry:
    note = Note(id=note_id, text=f"Note {note_id} text.", lang="en")
    graph = rdflib.Graph(identifier=rdflib.URIRef(f"https://example.org/graph/{note_id}"))
    graph.add((rdflib.URIRef(f"https://example.org/{note_id}"), rdflib.RDFS.label, rdflib.Literal(note_id)))
    fact = {"note_id": note_id, "concept_id": "age", "derived_from": ["age_source"], "links": [], "answer": None,
            "value": {"kind": "integer", "value": 70, "status": "ok", "assertion": "present"}}
    return ShardEntry(note_id, note.sha256, graph, note_to_dict(note), tuple(dict(fact) for _ in range(facts)))


def test_partition_records_merge_into_the_run_directory(tmp_path):
    shards = tmp_path / "shards"
    write_shard(shards, "part-00000", 0, [_entry("a", 2), _entry("b", 1)], [])
    write_shard(shards, "part-00001", 1, [_entry("c", 3), _entry("a", 4)], [NoteError(source="x", reason="bad")])
    manifests = [read_manifest(shards, f"part-0000{i}") for i in (0, 1)]
    assert [m.facts for m in manifests] == [3, 7]
    skip: dict[int, set[str]] = {}
    for d in duplicates_across_partitions(manifests):
        skip.setdefault(d.partition, set()).add(d.note_id)
    assert skip == {1: {"a"}}
    assert merge_records(shards, manifests, tmp_path, skip) == (3, 6)
    assert [n.id for n in read_notes_jsonl(tmp_path / "notes.jsonl")] == ["a", "b", "c"]
    facts = read_facts_jsonl(tmp_path / "facts.jsonl")
    assert [f.note_id for f in facts] == ["a", "a", "b", "c", "c", "c"]


def test_a_shard_without_records_still_merges(tmp_path):
    shards = tmp_path / "shards"
    write_shard(shards, "part-00000", 0, [_entry("a", 1)], [])
    for path in shards.glob("part-00000.*.jsonl"):
        if not path.name.endswith("errors.jsonl"):
            path.unlink()  # a shard written before kgqa kept records
    assert merge_records(shards, [read_manifest(shards, "part-00000")], tmp_path, {}) == (0, 0)
    assert (tmp_path / "facts.jsonl").read_text(encoding="utf-8") == ""


def test_ray_data_console_keeps_warnings_but_not_progress_or_starvation():
    pytest.importorskip("ray", reason="Ray is an optional extra")
    ray_runner.quiet_ray_data(progress_bars=True)
    import ray.data

    assert ray.data.DataContext.get_current().enable_progress_bars is sys.stderr.isatty()
    consoles = [h for h in logging.getLogger("ray.data").handlers if "File" not in type(h).__name__]
    assert consoles

    def record(level, msg):
        return logging.LogRecord("ray.data", level, __file__, 1, msg, (), None)

    starving = record(logging.WARNING, "Cluster resources are not enough … The job may hang forever unless …")
    progress = record(logging.INFO, "Total Progress: 0/?")
    real = record(logging.WARNING, "Actor died unexpectedly")
    for handler in consoles:
        assert not handler.filter(starving) and not handler.filter(progress)
        assert handler.filter(real)


def test_report_prints_its_error_once(tmp_path, capsys, caplog):
    from kgqa.commands import report

    with caplog.at_level(logging.INFO):
        assert report.main([str(tmp_path / "missing")]) == 1
    err = capsys.readouterr().err
    assert err.count("not a directory") == 1 and err.startswith("kgqa report: ")
    assert not [r for r in caplog.records if "not a directory" in r.getMessage()]


def test_ray_runs_report_reads_the_merged_records(tmp_path):
    """A run directory made by runner=ray (records merged, summary, no local graphs) is a report source."""
    from kgqa.report.sources import read_run_dir

    shards = tmp_path / "shards"
    write_shard(shards, "part-00000", 0, [_entry("a", 2)], [])
    merge_records(shards, [read_manifest(shards, "part-00000")], tmp_path, {})
    (tmp_path / "summary.json").write_text(json.dumps({"run_id": "r", "runner": "ray"}), encoding="utf-8")
    data = read_run_dir(tmp_path)
    assert [n.id for n in data.notes] == ["a"] and len(data.facts) == 2
