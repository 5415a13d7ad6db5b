"""``kgqa run``: notes -> QA -> values -> linking -> RDF -> triplestore, as a Hydra app.

:func:`execute` is the plain function behind the app (tests call it with a composed config);
``main`` only hands the command line to Hydra. Outputs go to the Hydra run directory
(``hydra.run.dir=…`` moves it): ``graphs.trig`` (every named graph of the run), ``facts.jsonl``,
``notes.jsonl``, ``errors.jsonl``, ``summary.json`` and Hydra's ``.hydra/`` with the resolved config.
The last line printed is one JSON object summarising the run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Sequence

from omegaconf import DictConfig

from kgqa import __version__
from kgqa.commands._hydra import run_hydra_app
from kgqa.config import RunConfig, masked_yaml, to_object
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


def build_pipeline(cfg: RunConfig):
    """The configured stages, wired. Imports are local so ``kgqa --help`` stays fast."""
    from kgqa.catalogue import load_catalogue
    from kgqa.linking import Linker
    from kgqa.pipeline import Pipeline
    from kgqa.qa import Reader
    from kgqa.rdf import RdfBuilder
    from kgqa.values import derive, normalise

    catalogue = load_catalogue(cfg.catalogue.path)
    if cfg.catalogue.concepts or cfg.catalogue.groups:
        catalogue = catalogue.select(ids=tuple(cfg.catalogue.concepts), groups=tuple(cfg.catalogue.groups))
    reader = Reader.from_config(cfg.model, cfg.reader)
    linker = Linker.from_config(cfg.linker)
    builder = RdfBuilder(cfg.rdf, catalogue)
    return Pipeline(catalogue=catalogue, reader=reader, normalise=normalise, linker=linker, builder=builder, derive=derive)


def execute(cfg: RunConfig, out_dir: Path, *, config_yaml: str = "") -> dict[str, Any]:
    """Run the whole chain on ``cfg.notes`` and return the run summary."""
    from kgqa.notes import iter_notes
    from kgqa.rdf import write_dataset
    from kgqa.records_io import fact_to_dict, note_to_dict
    from kgqa.stores import open_store

    out_dir.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    pipeline = build_pipeline(cfg)
    model: ModelInfo = pipeline.reader.model_info
    digest = config_digest(config_yaml or json.dumps(asdict(cfg), sort_keys=True, default=str))
    run = RunInfo(
        run_id=started.strftime("%Y%m%dT%H%M%SZ") + "-" + digest[:8],
        started_at=started,
        kgqa_version=__version__,
        model=model,
        config_digest=digest,
        config_yaml=config_yaml,
        catalogue_digest=getattr(pipeline.catalogue, "digest", ""),
    )
    log.info("run %s: model %s, %d concepts, store %s", run.run_id, model.name or model.path, len(pipeline.concepts), cfg.store.kind)

    notes_read: list[Note] = []
    errors: list[NoteError] = []
    graphs = []
    n_facts = n_triples = 0
    load_failures: list[str] = []
    progress = Progress(None, cfg.runner.progress)
    batch: list[Note] = []

    with open_store(cfg.store) as store, (out_dir / "facts.jsonl").open("w", encoding="utf-8") as facts_fh, (
        out_dir / "notes.jsonl"
    ).open("w", encoding="utf-8") as notes_fh:

        def flush() -> None:
            nonlocal n_facts, n_triples
            if not batch:
                return
            result = pipeline.process(batch, run)
            errors.extend(result.errors)
            report = store.replace_graphs([r.graph for r in result.results])
            failed_graphs = {str(g) for g in getattr(report, "failed", {}) or {}}
            for r in result.results:
                if str(r.graph.identifier) in failed_graphs:
                    errors.append(NoteError(source=r.note.source, note_id=r.note.id, stage="store", reason=str(report.failed[str(r.graph.identifier)]) if isinstance(report.failed, dict) else "load failed"))
                    load_failures.append(r.note.id)
                    continue
                graphs.append(r.graph)
                n_facts += len(r.facts)
                n_triples += len(r.graph)
                notes_fh.write(json.dumps(note_to_dict(r.note), ensure_ascii=False) + "\n")
                for fact in r.facts:
                    facts_fh.write(json.dumps(fact_to_dict(fact), ensure_ascii=False, sort_keys=True) + "\n")
            progress.update(len(batch))
            batch.clear()

        for item in iter_notes(
            cfg.notes.path,
            fmt=cfg.notes.format,
            default_lang=cfg.notes.default_lang,
            encoding=cfg.notes.encoding,
            max_bytes=cfg.notes.max_bytes,
        ):
            if isinstance(item, NoteError):
                log.warning("skipped: %s", item.reason)
                errors.append(item)
                continue
            if cfg.notes.limit and len(notes_read) >= cfg.notes.limit:
                break
            notes_read.append(item)
            batch.append(item)
            if len(batch) >= cfg.runner.notes_per_batch:
                flush()
        flush()

        run = run.finished(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
        run_graph = pipeline.builder.run_graph(run, notes_read, errors)
        store.replace_graphs([run_graph])
        graphs.append(run_graph)
        n_triples += len(run_graph)

        outputs = {}
        if cfg.output.trig:
            outputs["trig"] = str(write_dataset(graphs, out_dir / "graphs.trig", "trig"))
        if cfg.output.nquads:
            outputs["nquads"] = str(write_dataset(graphs, out_dir / "graphs.nq", "nquads"))
        if cfg.output.jsonld:
            outputs["jsonld"] = str(write_dataset(graphs, out_dir / "graphs.jsonld", "json-ld"))
        with (out_dir / "errors.jsonl").open("w", encoding="utf-8") as fh:
            for e in errors:
                fh.write(json.dumps(asdict(e), ensure_ascii=False) + "\n")

        if cfg.summary_query:
            _print_summary_query(store, cfg.summary_query)

    failed_ids = {e.note_id or e.source for e in errors}
    summary = {
        "run_id": run.run_id,
        "notes": len(notes_read) - len({e.note_id for e in errors if e.note_id and e.stage != "read"}),
        "notes_failed": len(failed_ids),
        "facts": n_facts,
        "triples": n_triples,
        "store": cfg.store.kind,
        "model": model.name or model.path,
        "run_dir": str(out_dir),
        "output": outputs.get("trig") or next(iter(outputs.values()), ""),
        "seconds": round(time.monotonic() - progress.t0, 2),
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    if errors:
        log.warning("%d notes failed or were skipped; see %s", len(failed_ids), out_dir / "errors.jsonl")
    return summary


def _print_summary_query(store, name: str) -> None:
    from kgqa.queries import format_result, load_query

    query = load_query(name)
    result = store.query(query.text)
    print(f"\n{name}: {query.purpose}" if getattr(query, "purpose", "") else f"\n{name}:")
    print(format_result(result, "table"))
