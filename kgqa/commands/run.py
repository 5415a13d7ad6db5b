"""``kgqa run``: notes -> QA -> values -> linking -> RDF -> triplestore, as a Hydra app.

:func:`execute` is the plain function behind the app (tests call it with a composed config);
``main`` only hands the command line to Hydra. Outputs go to the Hydra run directory
(``hydra.run.dir=…`` moves it): ``graphs.trig`` (every named graph of the run), ``facts.jsonl``,
``notes.jsonl``, ``errors.jsonl``, ``summary.json`` and Hydra's ``.hydra/`` with the resolved config.
The last line printed is one JSON object summarising the run.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import logging
import os
import secrets
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from kgqa import PROJECT_ROOT, __version__
from kgqa.commands._hydra import run_hydra_app
from kgqa.config import RunConfig, masked_yaml, to_object
from kgqa.errors import ConfigError
from kgqa.types import ModelInfo, Note, NoteError, RunInfo

log = logging.getLogger("kgqa.run")


def main(argv: Sequence[str]) -> int:
    return run_hydra_app(argv, _hydra_task, config_name="config", prog="kgqa run")


def _hydra_task(cfg: DictConfig) -> int:
    from hydra.core.hydra_config import HydraConfig

    run_cfg = to_object(cfg, RunConfig)
    out_dir = Path(run_cfg.output.dir or HydraConfig.get().runtime.output_dir)
    summary = execute(run_cfg, out_dir, config_yaml=masked_yaml(cfg))
    print(json.dumps(summary, ensure_ascii=False))
    return 1 if summary["notes"] == 0 and summary["notes_failed"] else 0


class Progress:
    """Logs notes done, rate and ETA at most every ``every_s`` seconds (never note text)."""

    def __init__(self, total: int | None, enabled: bool, every_s: float = 5.0) -> None:
        self.total, self.enabled, self.every_s = total, enabled, every_s
        self.done = 0
        self.t0 = self._last = time.monotonic()

    def update(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and (now - self._last >= self.every_s or (self.total and self.done >= self.total)):
            self._last = now
            rate = self.done / max(now - self.t0, 1e-9)
            eta = f", ETA {((self.total - self.done) / rate):.0f}s" if self.total and rate > 0 else ""
            of = f"/{self.total}" if self.total else ""
            log.info("notes %d%s done, %.2f notes/s%s", self.done, of, rate, eta)


def config_digest(config_yaml: str) -> str:
    return hashlib.sha256(config_yaml.encode("utf-8")).hexdigest()


def ensure_pseudonym_key(cfg: RunConfig) -> None:
    """Give the RDF builder a pseudonymisation key when the environment has none.

    A newcomer's first run must work without setup, and patient ids must still never appear in IRIs:
    a random key is created once in ``.cache/pseudonym.key`` (mode 0600) and reused, so IRIs stay
    stable across runs on this machine. Production sets the environment variable instead.
    """
    if not cfg.rdf.pseudonymise or os.environ.get(cfg.rdf.key_env):
        return
    key_file = PROJECT_ROOT / ".cache" / "pseudonym.key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        log.warning("%s is not set: created a local pseudonymisation key in %s", cfg.rdf.key_env, key_file)
    os.environ[cfg.rdf.key_env] = key_file.read_text().strip()


def build_pipeline(cfg: RunConfig, *, with_reader: bool = True):
    """The configured stages, wired. Imports are local so ``kgqa --help`` stays fast."""
    from kgqa.catalogue import load_catalogue
    from kgqa.linking import Linker
    from kgqa.pipeline import Pipeline
    from kgqa.qa import Reader
    from kgqa.rdf import RdfBuilder
    from kgqa.values import derive, normalise

    ensure_pseudonym_key(cfg)
    catalogue = load_catalogue(cfg.catalogue.path)
    if cfg.catalogue.concepts or cfg.catalogue.groups:
        catalogue = catalogue.select(ids=tuple(cfg.catalogue.concepts), groups=tuple(cfg.catalogue.groups))
    # the Ray driver needs no model of its own (actors load theirs), only the model's identity
    reader = Reader.from_config(cfg.model, cfg.reader) if with_reader else _ModelOnly(describe_model(cfg.model))
    linker = Linker.from_config(cfg.linker)
    builder = RdfBuilder(cfg.rdf, catalogue)
    return Pipeline(
        catalogue=catalogue,
        reader=reader,
        normalise=normalise,
        linker=linker,
        builder=builder,
        derive=derive,
        read_per_note=cfg.runner.read_per_note,
    )


def describe_model(model_cfg) -> ModelInfo:
    """The model's identity (path, weights digest, name) without loading it."""
    from kgqa.qa.checkpoint import weights_sha256
    from kgqa.qa.reader import model_name, resolve_checkpoint

    checkpoint = resolve_checkpoint(model_cfg)
    return ModelInfo(path=str(checkpoint), sha256=weights_sha256(checkpoint), name=model_cfg.name or model_name(checkpoint))


@dataclass(frozen=True)
class _ModelOnly:
    model_info: ModelInfo

    def read(self, notes, concepts):  # pragma: no cover - never called on the driver
        raise RuntimeError("the Ray driver does not read notes")


def make_run_info(cfg: RunConfig, pipeline, config_yaml: str) -> RunInfo:
    started = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    model: ModelInfo = pipeline.reader.model_info
    digest = config_digest(config_yaml or json.dumps(asdict(cfg), sort_keys=True, default=str))
    return RunInfo(
        run_id=cfg.run_id or started.strftime("%Y%m%dT%H%M%SZ") + "-" + digest[:8],
        started_at=started,
        kgqa_version=__version__,
        model=model,
        config_digest=digest,
        config_yaml=config_yaml,
        catalogue_digest=getattr(pipeline.catalogue, "digest", ""),
    )


@dataclass
class RunOutcome:
    """What a runner reports back to :func:`execute`."""

    notes: list[Note] = field(default_factory=list)
    errors: list[NoteError] = field(default_factory=list)
    facts: int = 0
    triples: int = 0
    outputs: dict[str, str] = field(default_factory=dict)
    #: runner-specific figures for the summary (partitions, resumed …)
    extra: dict[str, Any] = field(default_factory=dict)
    #: the note graphs, when the runner keeps them for the TriG/JSON-LD files (runner=local)
    graphs: list = field(default_factory=list)
    #: the run as the runner ended up running it (a resumed Ray run keeps its earlier id)
    run: RunInfo | None = None


def execute(cfg: RunConfig, out_dir: Path, *, config_yaml: str = "") -> dict[str, Any]:
    """Run the whole chain on ``cfg.notes`` with the configured runner and return the run summary."""
    from kgqa.stores import open_store

    if cfg.runner.kind not in RUNNERS:
        raise ConfigError(f"runner.kind={cfg.runner.kind!r}: expected one of {', '.join(RUNNERS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    pipeline = build_pipeline(cfg) if cfg.runner.kind == "local" else build_pipeline(cfg, with_reader=False)
    # the model, catalogue and term index are long-lived: keep the cyclic GC from rescanning them per note
    gc.collect()
    gc.freeze()
    run = make_run_info(cfg, pipeline, config_yaml)
    log.info("run %s: %d concepts, runner %s, store %s", run.run_id, len(pipeline.concepts), cfg.runner.kind, cfg.store.kind)

    with open_store(cfg.store) as store:
        outcome = RUNNERS[cfg.runner.kind](cfg, pipeline, run, store, out_dir)
        run = (outcome.run or run).finished(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
        run_graph = pipeline.builder.run_graph(run, outcome.notes, outcome.errors)
        store.replace_graphs([run_graph])
        outcome.triples += len(run_graph)
        from kgqa.runners.shards import canonical_nquads

        (out_dir / "run.nq").write_text(canonical_nquads([run_graph]), encoding="utf-8")
        if outcome.graphs:
            from kgqa.rdf import write_dataset

            for enabled, fmt, name in ((cfg.output.trig, "trig", "graphs.trig"), (cfg.output.jsonld, "json-ld", "graphs.jsonld")):
                if enabled:
                    outcome.outputs[fmt.replace("-", "")] = str(write_dataset(outcome.graphs + [run_graph], out_dir / name, fmt))
        with (out_dir / "errors.jsonl").open("w", encoding="utf-8") as fh:
            for e in outcome.errors:
                fh.write(json.dumps(asdict(e), ensure_ascii=False) + "\n")
        if cfg.summary_query:
            _print_summary_query(store, cfg.summary_query)

    failed_ids = {e.note_id or e.source for e in outcome.errors}
    summary = {
        "run_id": run.run_id,
        "notes": len(outcome.notes),
        "notes_failed": len(failed_ids),
        "facts": outcome.facts,
        "triples": outcome.triples,
        "store": cfg.store.kind,
        "runner": cfg.runner.kind,
        "model": run.model.name or run.model.path,
        "run_dir": str(out_dir),
        "output": outcome.outputs.get("trig") or outcome.outputs.get("nquads") or "",
        "seconds": round(time.monotonic() - t0, 2),
    }
    summary.update(outcome.extra)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    if outcome.errors:
        log.warning("%d notes failed or were skipped; see %s", len(failed_ids), out_dir / "errors.jsonl")
    return summary


def _run_local(cfg: RunConfig, pipeline, run: RunInfo, store, out_dir: Path) -> RunOutcome:
    """Notes in batches through the pipeline in this process; each batch loaded as soon as it is built."""
    from kgqa.notes import iter_notes
    from kgqa.records_io import fact_to_dict, note_to_dict

    outcome = RunOutcome()
    graphs = []
    progress = Progress(_count_notes(cfg) if cfg.runner.progress else None, cfg.runner.progress)
    batch: list[Note] = []
    with (out_dir / "facts.jsonl").open("w", encoding="utf-8") as facts_fh, (out_dir / "notes.jsonl").open(
        "w", encoding="utf-8"
    ) as notes_fh:

        def flush() -> None:
            if not batch:
                return
            result = pipeline.process(batch, run)
            outcome.errors.extend(result.errors)
            report = store.replace_graphs([r.graph for r in result.results])
            failed = _failed_graphs(report)
            for r in result.results:
                if str(r.graph.identifier) in failed:
                    outcome.errors.append(
                        NoteError(source=r.note.source, note_id=r.note.id, stage="store", reason=failed[str(r.graph.identifier)])
                    )
                    continue
                outcome.notes.append(r.note)
                graphs.append(r.graph)
                outcome.facts += len(r.facts)
                outcome.triples += len(r.graph)
                notes_fh.write(json.dumps(note_to_dict(r.note), ensure_ascii=False) + "\n")
                for fact in r.facts:
                    facts_fh.write(json.dumps(fact_to_dict(fact), ensure_ascii=False, sort_keys=True) + "\n")
            progress.update(len(batch))
            batch.clear()

        seen = 0
        for item in iter_notes(
            cfg.notes.path,
            fmt=cfg.notes.format,
            default_lang=cfg.notes.default_lang,
            encoding=cfg.notes.encoding,
            max_bytes=cfg.notes.max_bytes,
        ):
            if isinstance(item, NoteError):
                log.warning("skipped: %s", item.reason if cfg.debug_phi else item.source)
                outcome.errors.append(item)
                continue
            if cfg.notes.limit and seen >= cfg.notes.limit:
                break
            seen += 1
            batch.append(item)
            if len(batch) >= cfg.runner.notes_per_batch:
                flush()
        flush()

    if cfg.output.nquads:
        from kgqa.runners.shards import canonical_nquads

        path = out_dir / "graphs.nq"
        path.write_text(canonical_nquads(graphs), encoding="utf-8")
        outcome.outputs["nquads"] = str(path)
    outcome.graphs = graphs
    return outcome


def _count_notes(cfg: RunConfig) -> int | None:
    """How many notes the run will read (for the ETA), from metadata only; None when it cannot tell cheaply."""
    from kgqa.runners.partitions import count_notes

    try:
        total = count_notes(cfg.notes.path, cfg.notes.format)
    except Exception:  # noqa: BLE001 - the count only feeds the progress line
        return None
    return min(total, cfg.notes.limit) if cfg.notes.limit else total


def _run_ray(cfg: RunConfig, pipeline, run: RunInfo, store, out_dir: Path) -> RunOutcome:
    """Shards on Ray, then every complete shard loaded into the store through the store interface."""
    from kgqa.runners.partitions import partition_name
    from kgqa.runners.ray_runner import run_ray
    from kgqa.runners.shards import (
        duplicates_across_partitions,
        iter_shard_graphs,
        merge_shards,
        shard_paths,
        skipped_graphs,
    )

    result = run_ray(cfg, out_dir, run)
    outcome = RunOutcome(run=result["run"])
    shard_dir = Path(result["shard_dir"])
    # a note id a previous partition has: left out, as the local runner leaves out a repeated id
    duplicates = duplicates_across_partitions(result["manifests"])
    skip = skipped_graphs(duplicates)
    for manifest in result["manifests"]:
        outcome.errors.extend(NoteError(**e) for e in manifest.errors)
        name = partition_name(manifest.partition)
        nq, _, _ = shard_paths(shard_dir, name)
        report = store.replace_graphs(list(iter_shard_graphs(nq, skip.get(name, ()))))
        for graph_iri, reason in _failed_graphs(report).items():
            outcome.errors.append(NoteError(source=str(nq), stage="store", reason=f"{graph_iri}: {reason}"))
        dropped = [d for d in duplicates if d.partition == manifest.partition]
        outcome.errors.extend(NoteError(source=name, note_id=d.note_id, stage="read", reason=d.reason) for d in dropped)
        outcome.triples += manifest.triples - sum(d.triples for d in dropped)
        # the run graph only needs ids and sources of the notes; their text stays in the shards' inputs
        kept = list(manifest.notes)
        for d in dropped:  # the repeated note's entry, not the first note's (their graph IRIs may agree)
            kept = [n for n in kept if not (n["id"] == d.note_id and n["graph"] == d.graph)]
        outcome.notes.extend(_NoteRef(n["id"], n["sha256"]) for n in kept)  # type: ignore[arg-type]
    for index, reason in result["partitions_failed"].items():
        outcome.errors.append(NoteError(source=partition_name(index), stage="partition", reason=reason))
    if cfg.output.nquads:
        path = out_dir / "graphs.nq"
        merge_shards(shard_dir, result["names"], path, skip)
        outcome.outputs["nquads"] = str(path)
    outcome.extra.update(
        shard_dir=str(shard_dir),
        partitions=result["partitions"],
        partitions_resumed=result["partitions_resumed"],
        partitions_failed=len(result["partitions_failed"]),
    )
    return outcome


@dataclass(frozen=True)
class _NoteRef:
    """What the run graph records of a note the driver never read itself (runner=ray)."""

    id: str
    sha256: str
    source: str = ""


def _failed_graphs(report) -> dict[str, str]:
    failed = getattr(report, "failed", None) or {}
    return {str(iri): str(reason) for iri, reason in failed.items()}


RUNNERS = {"local": _run_local, "ray": _run_ray}


def _print_summary_query(store, name: str) -> None:
    from kgqa.queries import format_result, load_query

    query = load_query(name)
    result = store.query(query.text)
    print(f"\n{name}: {query.purpose}" if getattr(query, "purpose", "") else f"\n{name}:")
    print(format_result(result, "table"))
