"""``runner=ray``: extraction over many notes with Ray Data and an actor pool.

The driver plans partitions from metadata (:mod:`kgqa.runners.partitions`), skips the ones whose
shard is already complete (resume), and hands the rest to a Ray Data ``map_batches`` over an actor
pool: each actor loads the reader model once and, per partition, reads its notes, runs the same
:class:`~kgqa.pipeline.Pipeline` as the local runner and writes a shard + manifest. A failing note
ends up in its partition's error report; a failing partition does not stop the others.

Resuming is decided as ``runner=local`` decides it: the extraction settings, the model, the catalogue
and the pseudonymisation key's fingerprint (:func:`config_key`), then per note its id and text
digest — a partition cut short keeps the notes it did in its checkpoint
(:class:`~kgqa.runners.shards.Checkpoint`). SIGINT/SIGTERM stop the driver's wait, the Ray workers
are stopped, and the partitions complete by then are loaded and summarised.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import logging
import signal
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from kgqa.config import RunConfig
from kgqa.errors import ConfigError
from kgqa.records_io import fact_to_dict, note_to_dict
from kgqa.runners.partitions import Partition, plan_partitions, read_partition
from kgqa.runners.shards import (
    Checkpoint,
    Manifest,
    ShardEntry,
    checkpoint_path,
    duplicates_across_partitions,
    merge_records,
    read_checkpoint,
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


def config_key(run: RunInfo, cfg: RunConfig) -> str:
    """What decides a note's graph and records besides the run id — what ``runner=local``'s resume
    compares: the extraction settings (:func:`kgqa.commands.run.extraction_digest`; not the runner's,
    the store's or the outputs', which may change between an interrupted run and its resumption), the
    model, the catalogue and the pseudonymisation key's fingerprint."""
    from kgqa.commands.run import extraction_digest, run_key_fingerprint

    payload = json.dumps([extraction_digest(cfg), run.model.sha256, run.catalogue_digest, run_key_fingerprint(run)])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def resume_digest(run: RunInfo, cfg: RunConfig) -> str:
    """The salt of every shard fingerprint and checkpoint of this run (settings, model, key, run id)."""
    return hashlib.sha256(f"{config_key(run, cfg)}\x00{run.run_id}".encode()).hexdigest()


def resume_run(shard_dir: Path, run: RunInfo, cfg: RunConfig, run_id_fixed: bool) -> RunInfo:
    """Continue the run recorded in ``shard_dir`` when it was made with the same settings, else start afresh.

    A resumed run keeps its run id and start time, so the facts of old and new shards name the same
    ``prov:Activity``. Shards of another run are stale: their fingerprints differ and they are recomputed.
    ``runner.resume=false`` always starts afresh.
    """
    state = shard_dir / "run.json"
    key = config_key(run, cfg)
    if state.exists() and cfg.runner.resume:
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


def process_partition(
    pipeline, cfg: RunConfig, run: RunInfo, part: Partition, shard_dir: Path, salt: str
) -> tuple[Manifest, int]:
    """Read, extract and shard one partition (pure of Ray: the local tests call it directly too); the
    manifest and how many notes an earlier attempt's checkpoint gave (not extracted again)."""
    notes: list[Note] = []
    errors: list[NoteError] = []
    for item in read_partition(
        part, default_lang=cfg.notes.default_lang, encoding=cfg.notes.encoding, max_bytes=cfg.notes.max_bytes
    ):
        (notes if isinstance(item, Note) else errors).append(item)
    checkpoint = Checkpoint(shard_dir, part.name, salt, resume=cfg.runner.resume)
    entries: dict[str, ShardEntry] = {}  # note id -> entry, in the partition's order at the end
    todo = []
    for note in notes:
        entry = checkpoint.done.get((note.id, note.sha256))
        if entry is not None:
            entries[note.id] = entry
        else:
            todo.append(note)
    step = max(1, cfg.runner.notes_per_batch)
    for k in range(0, len(todo), step):
        result = pipeline.process(todo[k : k + step], run)
        errors.extend(result.errors)
        done = [ShardEntry(r.note.id, r.note.sha256, r.graph, note_to_dict(r.note), tuple(fact_to_dict(f) for f in r.facts))
                for r in result.results]  # fmt: skip
        checkpoint.append(done)
        entries.update((e.note_id, e) for e in done)
    ordered = [entries[n.id] for n in notes if n.id in entries]
    manifest = write_shard(shard_dir, part.name, part.index, ordered, errors, fingerprint=part.fingerprint(salt))
    checkpoint.remove()
    return manifest, len(notes) - len(todo)


class PartitionWorker:
    """A Ray actor: one pipeline (one model) reused for every partition it is given."""

    def __init__(self, cfg: RunConfig, run: RunInfo, shard_dir: str, salt: str) -> None:
        from kgqa.cli import set_offline
        from kgqa.commands.run import build_pipeline
        from kgqa.config import register_configs

        set_offline()
        register_configs()
        self.cfg, self.run, self.shard_dir, self.salt = cfg, run, Path(shard_dir), salt
        self.pipeline = build_pipeline(cfg)
        gc.collect()
        gc.freeze()  # the model and indexes live as long as the actor

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        out: dict[str, list] = {"partition": [], "notes": [], "failed": [], "triples": [], "resumed": [], "error": []}
        for text in batch["partition"]:
            part = _partition_from_json(str(text))
            try:
                manifest, resumed = process_partition(self.pipeline, self.cfg, self.run, part, self.shard_dir, self.salt)
                row = (part.index, len(manifest.notes), len(manifest.errors), manifest.triples, resumed, "")
            except Exception as exc:
                log.exception("partition %s failed", part.name)
                row = (part.index, 0, 0, 0, 0, f"{type(exc).__name__}: {exc}")
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
    SIGINT/SIGTERM (kgqa.commands.run's handler) stop the wait for partitions: the Ray work is
    stopped, and the counts cover the partitions complete by then (``interrupted`` says which signal;
    ``notes_checkpointed`` the notes of unfinished partitions a re-run will not extract again).
    """
    from kgqa.commands.run import interruptible

    ray = import_ray()
    shard_dir = Path(cfg.runner.shard_dir or out_dir / "shards")
    run = resume_run(shard_dir, run, cfg, run_id_fixed=bool(cfg.run_id))
    parts = plan_partitions(cfg.notes.path, cfg.runner.partition_size, cfg.notes.format)
    if cfg.notes.limit:
        log.warning("notes.limit is ignored by runner=ray (partitions are planned over the whole input)")
    salt = resume_digest(run, cfg)
    done = {p.index: m for p in parts if cfg.runner.resume and (m := read_manifest(shard_dir, p.name, p.fingerprint(salt)))}
    todo = [p for p in parts if p.index not in done]
    log.info("%d partitions: %d already complete (resumed), %d to run", len(parts), len(done), len(todo))
    failed_partitions: dict[int, str] = {}
    notes_resumed = sum(len(m.notes) for m in done.values())
    interrupted: int | None = None
    if todo:
        owns_ray = not ray.is_initialized()
        rows = None
        try:
            with interruptible():
                if owns_ray:
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
                    fn_constructor_kwargs={"cfg": cfg, "run": run, "shard_dir": str(shard_dir), "salt": salt},
                    batch_size=1,
                    batch_format="numpy",
                    compute=ray.data.ActorPoolStrategy(size=max(1, min(cfg.runner.actors, len(todo)))),
                    num_cpus=cfg.runner.cpus_per_actor,
                    num_gpus=cfg.runner.gpus_per_actor or None,
                )
                rows = iter(results.iter_rows())
                for finished, row in enumerate(rows, 1):
                    if row["error"]:
                        failed_partitions[int(row["partition"])] = str(row["error"])
                    notes_resumed += int(row["resumed"])
                    if cfg.runner.progress:
                        log.info("partition %d/%d done: %d notes, %d failed", finished, len(todo), int(row["notes"]),
                                 int(row["failed"]))  # fmt: skip
        except BaseException as exc:
            interrupted = _interrupted_by(exc)
            if interrupted is None:
                raise
            log.warning("interrupted by %s: stopping the Ray workers", signal.Signals(interrupted).name)
            _stop_ray(ray, rows, owns_ray)
    manifests = {p.index: read_manifest(shard_dir, p.name, p.fingerprint(salt)) for p in parts}
    complete = sorted((m for m in manifests.values() if m is not None), key=lambda m: m.partition)
    for p in parts:
        if manifests[p.index] is not None:  # a worker stopped between its shard and removing its checkpoint
            checkpoint_path(shard_dir, p.name).unlink(missing_ok=True)
    skip: dict[int, set[str]] = {}
    for d in duplicates_across_partitions(complete):
        skip.setdefault(d.partition, set()).add(d.note_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    _, facts = merge_records(shard_dir, complete, out_dir, skip)
    checkpointed = sum(len(read_checkpoint(shard_dir, p.name, salt, entries=False)) for p in parts if manifests[p.index] is None)
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
        #: notes not extracted again: those of complete partitions resumed, and those checkpoints gave
        "notes_resumed": notes_resumed,
        #: notes of unfinished partitions kept in their checkpoints (an interrupted run)
        "notes_checkpointed": checkpointed,
        "interrupted": interrupted,
    }


def _interrupted_by(exc: BaseException) -> int | None:
    """The signal ``exc`` stands for, now handled: a KeyboardInterrupt (ours, or one Ray raised from its
    wait), or any error Ray raises from a wait a signal cut short (a worker that got the signal too)."""
    from kgqa.commands.run import interrupt_pending, take_interrupt

    if isinstance(exc, KeyboardInterrupt) or (isinstance(exc, Exception) and interrupt_pending()):
        return take_interrupt(exc)
    return None


def _stop_ray(ray, rows, owns_ray: bool) -> None:
    """Stop the partitions in flight: close Ray Data's iterator (its executor stops the actor pool) and,
    when this run started Ray, shut it down (its workers end). A partition cut short keeps its checkpoint."""
    close = getattr(rows, "close", None)
    try:
        if close is not None:
            close()
    except Exception as exc:  # noqa: BLE001 - stopping goes on: the shutdown below ends the workers anyway
        log.debug("closing the Ray Data iterator: %s", exc)
    if owns_ray and ray.is_initialized():
        ray.shutdown()
