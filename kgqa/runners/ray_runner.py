"""``runner=ray``: extraction over many notes with Ray Data and an actor pool.

The driver plans partitions from metadata (:mod:`kgqa.runners.partitions`), skips the ones whose
shard is already complete (resume), and hands the rest to a Ray Data ``map_batches`` over an actor
pool: each actor loads the reader model once and, per partition, reads its notes, runs the same
:class:`~kgqa.pipeline.Pipeline` as the local runner and writes a shard + manifest. A failing note
ends up in its partition's error report; a failing partition does not stop the others.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import logging
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from kgqa.config import RunConfig
from kgqa.errors import ConfigError
from kgqa.records_io import fact_to_dict, note_to_dict
from kgqa.runners.partitions import Partition, plan_partitions, read_partition
from kgqa.runners.shards import (
    Manifest,
    ShardEntry,
    duplicates_across_partitions,
    merge_records,
    read_manifest,
    write_shard,
)
from kgqa.types import Note, NoteError, RunInfo

log = logging.getLogger(__name__)


def _partition_to_json(part: Partition) -> str:
    return json.dumps(asdict(part))


def _partition_from_json(text: str) -> Partition:
    d = json.loads(text)
    return Partition(index=d["index"], fmt=d["fmt"], root=d["root"], items=tuple(tuple(i) if isinstance(i, list) else i for i in d["items"]))


def config_key(run: RunInfo) -> str:
    """What decides a shard's content besides the run id: the config without the runner's own settings
    (actors, partition size … may change between a killed run and its resumption), the model, the catalogue."""
    import yaml

    try:
        config = yaml.safe_load(run.config_yaml) or {}
    except yaml.YAMLError:
        config = {}
    if isinstance(config, dict):
        config.pop("runner", None)
        config.pop("run_id", None)
    payload = json.dumps([config, run.model.sha256, run.catalogue_digest], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def resume_digest(run: RunInfo) -> str:
    return hashlib.sha256(f"{config_key(run)}\x00{run.run_id}".encode()).hexdigest()


def resume_run(shard_dir: Path, run: RunInfo, run_id_fixed: bool) -> RunInfo:
    """Continue the run recorded in ``shard_dir`` when it was made with the same config, else start afresh.

    A resumed run keeps its run id and start time, so the facts of old and new shards name the same
    ``prov:Activity``. Shards of another run are stale: their fingerprints differ and they are recomputed.
    """
    state = shard_dir / "run.json"
    key = config_key(run)
    if state.exists():
        try:
            saved = json.loads(state.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            saved = {}
        if saved.get("config_key") == key and saved.get("run_id") and (not run_id_fixed or saved["run_id"] == run.run_id):
            log.info("resuming run %s from %s", saved["run_id"], shard_dir)
            return replace(run, run_id=saved["run_id"], started_at=dt.datetime.fromisoformat(saved["started_at"]))
    shard_dir.mkdir(parents=True, exist_ok=True)
    state.write_text(
        json.dumps({"run_id": run.run_id, "started_at": run.started_at.isoformat(), "config_key": key}), encoding="utf-8"
    )
    return run


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
        graphs.extend(
            ShardEntry(r.note.id, r.note.sha256, r.graph, note_to_dict(r.note), tuple(fact_to_dict(f) for f in r.facts))
            for r in result.results
        )
    return write_shard(shard_dir, part.name, part.index, graphs, errors, fingerprint=part.fingerprint(resume_digest(run)))


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
        gc.collect()
        gc.freeze()  # the model and indexes live as long as the actor

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        out: dict[str, list] = {"partition": [], "notes": [], "failed": [], "triples": [], "error": []}
        for text in batch["partition"]:
            part = _partition_from_json(str(text))
            try:
                manifest = process_partition(self.pipeline, self.cfg, self.run, part, self.shard_dir)
                row = (part.index, len(manifest.notes), len(manifest.errors), manifest.triples, "")
            except Exception as exc:
                log.exception("partition %s failed", part.name)
                row = (part.index, 0, 0, 0, f"{type(exc).__name__}: {exc}")
            for key, value in zip(out, row):
                out[key].append(value)
        return out


RAY_MISSING = (
    "runner=ray needs the optional Ray extra, which is not installed: pip install 'kgqa[ray]' "
    "(in a checkout: .venv/bin/pip install -e '.[ray]')"
)


def import_ray():
    """The ``ray`` module, or ConfigError with the one-line install hint (call it before any work)."""
    try:
        import ray
        import ray.data  # the extra is ray[data]
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in ("ray", "pyarrow"):
            raise
        raise ConfigError(RAY_MISSING) from None
    return ray


#: Ray Data warnings that say nothing to a kgqa user: see :class:`_ConsoleFilter`
_UNSHOWN = ("may hang forever", "Progress bars disabled")


class _ConsoleFilter(logging.Filter):
    """Ray Data's console lines kgqa does not pass on: progress and execution-plan INFO lines, and
    the starvation warning that every actor pool gives while its actors still load their model
    ("… The job may hang forever unless the cluster scales up"; kgqa checks the resources itself,
    see :func:`_check_resources`), and the notice that progress bars are off (kgqa logs a line per
    partition instead). Ray's session log file keeps them all."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return record.levelno >= logging.WARNING and not any(s in message for s in _UNSHOWN)


def quiet_ray_data(progress_bars: bool) -> None:
    """Ray Data on kgqa's console: warnings and errors only; progress bars only on a terminal (off a
    terminal Ray logs a progress block every few seconds, hundreds of lines per run)."""
    import ray.data

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = progress_bars and sys.stderr.isatty()
    ctx.print_on_execution_start = False
    for handler in logging.getLogger("ray.data").handlers:
        is_file = isinstance(handler, logging.FileHandler) or "File" in type(handler).__name__
        if not is_file and not any(isinstance(f, _ConsoleFilter) for f in handler.filters):
            handler.addFilter(_ConsoleFilter())


def _check_resources(ray, cfg: RunConfig) -> None:
    """An actor that asks for more CPUs/GPUs than the cluster has would wait forever: say so now."""
    total = ray.cluster_resources()
    for key, asked, name in (("CPU", cfg.runner.cpus_per_actor, "runner.cpus_per_actor"),
                             ("GPU", cfg.runner.gpus_per_actor, "runner.gpus_per_actor")):
        if asked and asked > total.get(key, 0):
            raise ConfigError(
                f"{name}={asked:g}: the Ray cluster has {total.get(key, 0):g} {key}s, so no actor could ever start"
            )


def run_ray(cfg: RunConfig, out_dir: Path, run: RunInfo) -> dict[str, Any]:
    """Run the partitions not yet sharded on Ray; return counts over all partitions (old and new).

    Besides the shards, the run directory gets ``notes.jsonl`` and ``facts.jsonl`` (the partitions'
    records, merged; notes another partition had first left out), as ``runner=local`` writes them.
    """
    ray = import_ray()
    shard_dir = Path(cfg.runner.shard_dir or out_dir / "shards")
    run = resume_run(shard_dir, run, run_id_fixed=bool(cfg.run_id))
    parts = plan_partitions(cfg.notes.path, cfg.runner.partition_size, cfg.notes.format)
    if cfg.notes.limit:
        log.warning("notes.limit is ignored by runner=ray (partitions are planned over the whole input)")
    salt = resume_digest(run)
    done = {p.index: m for p in parts if (m := read_manifest(shard_dir, p.name, p.fingerprint(salt))) is not None}
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
        quiet_ray_data(cfg.runner.progress)
        _check_resources(ray, cfg)
        ds = ray.data.from_items([{"partition": _partition_to_json(p)} for p in todo], override_num_blocks=len(todo))
        results = ds.map_batches(
            PartitionWorker,
            fn_constructor_kwargs={"cfg": cfg, "run": run, "shard_dir": str(shard_dir)},
            batch_size=1,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=max(1, min(cfg.runner.actors, len(todo)))),
            num_cpus=cfg.runner.cpus_per_actor,
            num_gpus=cfg.runner.gpus_per_actor or None,
        )
        for finished, row in enumerate(results.iter_rows(), 1):
            if row["error"]:
                failed_partitions[int(row["partition"])] = str(row["error"])
            if cfg.runner.progress:
                log.info("partition %d/%d done: %d notes, %d failed", finished, len(todo), int(row["notes"]),
                         int(row["failed"]))
    manifests = {p.index: read_manifest(shard_dir, p.name, p.fingerprint(salt)) for p in parts}
    complete = sorted((m for m in manifests.values() if m is not None), key=lambda m: m.partition)
    skip: dict[int, set[str]] = {}
    for d in duplicates_across_partitions(complete):
        skip.setdefault(d.partition, set()).add(d.note_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    _, facts = merge_records(shard_dir, complete, out_dir, skip)
    return {
        "run": run,
        "shard_dir": str(shard_dir),
        "partitions": len(parts),
        "partitions_resumed": len(done),
        "partitions_failed": failed_partitions,
        "manifests": complete,
        "names": [p.name for p in parts if manifests[p.index] is not None],
        #: facts of the notes kept (duplicates across partitions left out), as in facts.jsonl
        "facts": facts,
    }
