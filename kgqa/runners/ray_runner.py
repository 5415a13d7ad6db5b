"""``runner=ray``: extraction over many notes with Ray Data and an actor pool.

The driver plans partitions from metadata (:mod:`kgqa.runners.partitions`), skips the ones whose
shard is already complete (resume), and hands the rest to a Ray Data ``map_batches`` over an actor
pool: each actor loads the reader model once and, per partition, reads its notes, runs the same
:class:`~kgqa.pipeline.Pipeline` as the local runner and writes a shard + manifest. A failing note
ends up in its partition's error report; a failing partition does not stop the others.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kgqa.config import RunConfig
from kgqa.runners.partitions import Partition, plan_partitions, read_partition
from kgqa.runners.shards import Manifest, read_manifest, write_shard
from kgqa.types import Note, NoteError, RunInfo

log = logging.getLogger(__name__)


def _partition_to_json(part: Partition) -> str:
    return json.dumps(asdict(part))


def _partition_from_json(text: str) -> Partition:
    d = json.loads(text)
    return Partition(index=d["index"], fmt=d["fmt"], root=d["root"], items=tuple(tuple(i) if isinstance(i, list) else i for i in d["items"]))


def process_partition(pipeline, cfg: RunConfig, run: RunInfo, part: Partition, shard_dir: Path) -> Manifest:
    """Read, extract and shard one partition (pure of Ray: the local tests call it directly too)."""
    notes: list[Note] = []
    errors: list[NoteError] = []
    for item in read_partition(
        part, default_lang=cfg.notes.default_lang, encoding=cfg.notes.encoding, max_bytes=cfg.notes.max_bytes
    ):
        (notes if isinstance(item, Note) else errors).append(item)
    graphs = []
    step = max(1, cfg.runner.notes_per_batch)
    for k in range(0, len(notes), step):
        result = pipeline.process(notes[k : k + step], run)
        errors.extend(result.errors)
        graphs.extend((r.note.id, r.graph) for r in result.results)
    return write_shard(shard_dir, part.name, part.index, graphs, errors)


class PartitionWorker:
    """A Ray actor: one pipeline (one model) reused for every partition it is given."""

    def __init__(self, cfg: RunConfig, run: RunInfo, shard_dir: str) -> None:
        from kgqa.cli import set_offline
        from kgqa.commands.run import build_pipeline
        from kgqa.config import register_configs

        set_offline()
        register_configs()
        self.cfg, self.run, self.shard_dir = cfg, run, Path(shard_dir)
        self.pipeline = build_pipeline(cfg)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        out: dict[str, list] = {"partition": [], "notes": [], "failed": [], "triples": [], "error": []}
        for text in batch["partition"]:
            part = _partition_from_json(str(text))
            try:
                manifest = process_partition(self.pipeline, self.cfg, self.run, part, self.shard_dir)
                row = (part.index, len(manifest.notes), len(manifest.errors), manifest.triples, "")
            except Exception as exc:  # noqa: BLE001 - the partition fails, the run goes on
                log.exception("partition %s failed", part.name)
                row = (part.index, 0, 0, 0, f"{type(exc).__name__}: {exc}")
            for key, value in zip(out, row):
                out[key].append(value)
        return out


def run_ray(cfg: RunConfig, out_dir: Path, run: RunInfo) -> dict[str, Any]:
    """Run the partitions not yet sharded on Ray; return counts over all partitions (old and new)."""
    import ray

    shard_dir = Path(cfg.runner.shard_dir or out_dir / "shards")
    parts = plan_partitions(cfg.notes.path, cfg.runner.partition_size, cfg.notes.format)
    if cfg.notes.limit:
        log.warning("notes.limit is ignored by runner=ray (partitions are planned over the whole input)")
    done = {p.index: m for p in parts if (m := read_manifest(shard_dir, p.name)) is not None}
    todo = [p for p in parts if p.index not in done]
    log.info("%d partitions: %d already complete (resumed), %d to run", len(parts), len(done), len(todo))
    failed_partitions: dict[int, str] = {}
    if todo:
        if not ray.is_initialized():
            ray.init(
                address=cfg.runner.address or None,
                include_dashboard=False,
                log_to_driver=False,
                ignore_reinit_error=True,
                configure_logging=False,
            )
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = cfg.runner.progress
        ds = ray.data.from_items([{"partition": _partition_to_json(p)} for p in todo], override_num_blocks=len(todo))
        results = ds.map_batches(
            PartitionWorker,
            fn_constructor_kwargs={"cfg": cfg, "run": run, "shard_dir": str(shard_dir)},
            batch_size=1,
            batch_format="numpy",
            concurrency=max(1, min(cfg.runner.actors, len(todo))),
            num_cpus=cfg.runner.cpus_per_actor,
            num_gpus=cfg.runner.gpus_per_actor or None,
        )
        for row in results.iter_rows():
            if row["error"]:
                failed_partitions[int(row["partition"])] = str(row["error"])
    manifests = {p.index: read_manifest(shard_dir, p.name) for p in parts}
    complete = [m for m in manifests.values() if m is not None]
    return {
        "shard_dir": str(shard_dir),
        "partitions": len(parts),
        "partitions_resumed": len(done),
        "partitions_failed": failed_partitions,
        "manifests": sorted(complete, key=lambda m: m.partition),
        "names": [p.name for p in parts if manifests[p.index] is not None],
    }
