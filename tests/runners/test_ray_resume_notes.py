"""runner=ray resumes note by note, as runner=local does (issue 24, items 6 and 7), without a Ray cluster:
a partition cut short keeps the notes it did in its checkpoint, and a re-run extracts only the others,
deciding by note id and text digest under the same settings, model and pseudonymisation key."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
import rdflib

from kgqa.config import RunConfig, compose, to_object
from kgqa.pipeline import BatchResult, NoteResult
from kgqa.runners.partitions import plan_partitions
from kgqa.runners.ray_runner import config_key, process_partition
from kgqa.runners.shards import checkpoint_path, read_checkpoint, read_manifest, record_paths, shard_paths
from kgqa.types import ModelInfo, RunInfo

EX = rdflib.Namespace("https://example.org/")
RUN = RunInfo(run_id="r", started_at=dt.datetime(2025, 1, 1), kgqa_version="0", model=ModelInfo("p", "s"),
              config_digest="d", config_yaml="notes: {}\npseudonym_fingerprint: 0123456789abcdef\n")  # fmt: skip


class FakePipeline:
    """One small graph per note (a language-tagged and a typed literal); KeyboardInterrupt on call ``stop_on``."""

    def __init__(self, stop_on: int | None = None) -> None:
        self.stop_on, self.calls, self.asked = stop_on, 0, []

    def process(self, notes, run):
        self.calls += 1
        if self.calls == self.stop_on:
            raise KeyboardInterrupt
        self.asked.extend(n.id for n in notes)
        results = []
        for n in notes:
            graph = rdflib.Graph(identifier=EX[f"graph/{n.id}"])
            graph.add((EX[n.id], rdflib.RDFS.label, rdflib.Literal(n.text[:12], lang="en")))
            graph.add((EX[n.id], EX.length, rdflib.Literal(len(n.text))))
            results.append(NoteResult(note=n, facts=(), graph=graph))
        return BatchResult(results=results)


@pytest.fixture
def cfg() -> RunConfig:
    return to_object(compose(["runner=ray", "runner.notes_per_batch=2"]), RunConfig)


@pytest.fixture
def part(tmp_path):
    path = tmp_path / "notes.jsonl"
    path.write_text("".join(json.dumps({"id": f"n{i}", "lang": "en", "text": f"Note {i}: NIHSS {i + 3} ✓."}) + "\n"
                            for i in range(7)), encoding="utf-8")  # fmt: skip
    (partition,) = plan_partitions(path, 10, "jsonl")
    return partition


def _shard(shard_dir) -> tuple[bytes, str]:
    nq, _, _ = shard_paths(shard_dir, "part-00000")
    return nq.read_bytes(), record_paths(shard_dir, "part-00000")[0].read_text(encoding="utf-8")


def test_a_partition_cut_short_resumes_note_by_note(cfg, part, tmp_path):
    shards = tmp_path / "shards"
    with pytest.raises(KeyboardInterrupt):
        process_partition(FakePipeline(stop_on=3), cfg, RUN, part, shards, "salt")
    assert read_manifest(shards, part.name) is None  # not complete
    assert len(read_checkpoint(shards, part.name, "salt")) == 4  # two batches of two done

    again = FakePipeline()
    manifest, resumed = process_partition(again, cfg, RUN, part, shards, "salt")
    assert resumed == 4 and again.asked == ["n4", "n5", "n6"]
    assert manifest.note_ids == [f"n{i}" for i in range(7)]
    assert not checkpoint_path(shards, part.name).exists()  # the shard is complete: the checkpoint goes

    reference = tmp_path / "reference"
    process_partition(FakePipeline(), cfg, RUN, part, reference, "salt")
    assert _shard(shards) == _shard(reference)  # byte for byte what an uninterrupted partition writes


def test_another_salt_a_torn_line_and_resume_false(cfg, part, tmp_path):
    shards = tmp_path / "shards"
    with pytest.raises(KeyboardInterrupt):
        process_partition(FakePipeline(stop_on=2), cfg, RUN, part, shards, "salt")
    with checkpoint_path(shards, part.name).open("a", encoding="utf-8") as fh:
        fh.write('{"id": "n2", "sha256": "')  # a worker killed mid-line
    assert len(read_checkpoint(shards, part.name, "salt")) == 2
    assert read_checkpoint(shards, part.name, "other settings") == {}

    with pytest.raises(KeyboardInterrupt):  # the torn line is dropped when the partition runs again
        process_partition(FakePipeline(stop_on=1), cfg, RUN, part, shards, "salt")
    assert len(read_checkpoint(shards, part.name, "salt")) == 2

    pipeline = FakePipeline()
    no_resume = dataclasses.replace(cfg, runner=dataclasses.replace(cfg.runner, resume=False))
    assert process_partition(pipeline, no_resume, RUN, part, shards, "salt")[1] == 0 and len(pipeline.asked) == 7


def test_what_decides_a_resume_is_what_runner_local_compares(cfg):
    key = config_key(RUN, cfg)
    same = to_object(compose(["runner=ray", "runner.actors=7", "runner.partition_size=3", "store=memory",
                              "output.nquads=true", "summary_query=", "notes.path=/elsewhere.jsonl"]), RunConfig)  # fmt: skip
    assert config_key(RUN, same) == key  # where notes come from, the store, the runner, the outputs: not a note's graph
    other = to_object(compose(["runner=ray", "reader.max_answer_tokens=5"]), RunConfig)
    assert config_key(RUN, other) != key
    assert config_key(dataclasses.replace(RUN, model=ModelInfo("p", "t")), cfg) != key
    another_key = dataclasses.replace(RUN, config_yaml="notes: {}\npseudonym_fingerprint: fedcba9876543210\n")
    assert config_key(another_key, cfg) != key
