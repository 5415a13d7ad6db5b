"""``kgqa report``: write the static HTML review report of a run or of selected notes.

From a run directory (the output of ``kgqa run``)::

    kgqa report outputs/2025-01-01/12-00-00                 # -> outputs/…/report/index.html
    kgqa report RUN_DIR --note n1 --note n2 -o /tmp/review  # only these notes

From the triplestore (facts and evidence queried there; note texts from a notes source,
since the store keeps only their digests)::

    kgqa report --store --notes samples/notes store=oxigraph store.query_url=http://…
    kgqa report --store RUN_DIR                              # the run's store config and notes

Extra ``key=value`` arguments are Hydra overrides of ``conf/config.yaml`` (store, catalogue, notes …).
The last line printed is one JSON object: the index path and counts.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from kgqa.errors import KgqaError

log = logging.getLogger("kgqa.report")


def _parser() -> argparse.ArgumentParser:
    head, _, examples = (__doc__ or "").partition("\n\n")
    p = argparse.ArgumentParser(prog="kgqa report", description=head, epilog=examples,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("args", nargs="*", metavar="RUN_DIR | key=value",
                   help="the run's output directory and/or Hydra overrides (store mode)")
    p.add_argument("-o", "--out", help="output directory (default: RUN_DIR/report, or ./kgqa-report)")
    p.add_argument("--note", action="append", default=[], metavar="ID", help="only this note (repeatable)")
    p.add_argument("--store", action="store_true", help="read facts from the triplestore instead of facts.jsonl")
    p.add_argument("--run-id", help="store mode: only notes last written by this run")
    p.add_argument("--notes", metavar="PATH", help="store mode: where the note texts are (dir, .jsonl, brat)")
    p.add_argument("--catalogue", metavar="PATH", help="concept catalogue (default: the run's, else catalogue.path)")
    p.add_argument("--low-confidence", type=float, default=0.5, metavar="P",
                   help="flag facts whose confidence is below P (default 0.5)")
    p.add_argument("--title", default="", help="title of the index page")
    p.add_argument("--no-figure", action="store_true", help="leave out the summary figure")
    return p


def compose_run_config(overrides: Sequence[str], run_dir: Path | None):
    """The run config: conf/config.yaml + the run's own overrides (if a run dir is given) + ``overrides``."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from kgqa.config import CONF_DIR, HYDRA_VERSION_BASE, RunConfig, register_configs, to_object

    register_configs()
    recorded: list[str] = []
    if run_dir is not None and (run_dir / ".hydra" / "overrides.yaml").is_file():
        recorded = list(OmegaConf.load(run_dir / ".hydra" / "overrides.yaml"))
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=HYDRA_VERSION_BASE):
        cfg = compose(config_name="config", overrides=[*recorded, *overrides])
    return to_object(cfg, RunConfig)


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    overrides = [a for a in args.args if "=" in a]
    positional = [a for a in args.args if "=" not in a]
    if len(positional) > 1:
        print(f"kgqa report: one run directory at most, got {positional}", file=sys.stderr)
        return 2
    if overrides and not args.store:
        print("kgqa report: key=value overrides apply to --store mode only", file=sys.stderr)
        return 2
    if not positional and not args.store:
        print("kgqa report: give a run directory, or --store (see --help)", file=sys.stderr)
        return 2
    run_dir = Path(positional[0]) if positional else None
    try:
        summary = execute(args, run_dir, overrides)
    except KgqaError as exc:
        print(f"kgqa report: {exc}", file=sys.stderr)  # once: not also through the log handler
        return 1
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def _load_catalogue(path: str | None, ids: Sequence[str], groups: Sequence[str]):
    from omegaconf import OmegaConf

    from kgqa.catalogue import load_catalogue
    from kgqa.config import CatalogueConfig, register_configs

    if not path:
        register_configs()  # the default path interpolates ${kgqa_root:}
        path = OmegaConf.to_object(OmegaConf.structured(CatalogueConfig)).path  # type: ignore[union-attr]
    catalogue = load_catalogue(path)
    return catalogue.select(ids=tuple(ids), groups=tuple(groups)) if ids or groups else catalogue


def _store_input(args: argparse.Namespace, run_dir: Path | None, overrides: Sequence[str]):
    """Store mode: facts from the store, note texts from --notes / the run's notes.jsonl / notes.path."""
    from kgqa.notes import read_notes
    from kgqa.rdf.iris import IriMinter
    from kgqa.records_io import read_notes_jsonl
    from kgqa.report.sources import ReportInput, read_run_id
    from kgqa.report.store_source import read_run, read_run_errors, read_store
    from kgqa.stores import open_store

    cfg = compose_run_config(overrides, run_dir)
    if args.notes:
        notes_from = args.notes
        notes = read_notes(args.notes, fmt=cfg.notes.format, default_lang=cfg.notes.default_lang,
                           encoding=cfg.notes.encoding, max_bytes=cfg.notes.max_bytes, debug_phi=cfg.debug_phi).notes
    elif run_dir is not None and (run_dir / "notes.jsonl").is_file():
        notes_from = str(run_dir / "notes.jsonl")
        notes = read_notes_jsonl(run_dir / "notes.jsonl")
    else:
        notes_from = cfg.notes.path
        notes = read_notes(cfg.notes.path, fmt=cfg.notes.format, default_lang=cfg.notes.default_lang,
                           encoding=cfg.notes.encoding, max_bytes=cfg.notes.max_bytes, debug_phi=cfg.debug_phi).notes
    log.info("note texts from %s (%d notes)", notes_from, len(notes))
    catalogue = _load_catalogue(args.catalogue or cfg.catalogue.path, cfg.catalogue.concepts, cfg.catalogue.groups)
    run_id = args.run_id or (read_run_id(run_dir) if run_dir is not None else None)
    run_iri = IriMinter(base=cfg.rdf.base_iri, pseudonymise_cases=False).run(run_id) if run_id else None
    with open_store(cfg.store) as store:
        data = read_store(store, notes, tuple(catalogue), note_ids=args.note, run_iri=run_iri)
        run: dict = {"run": run_id, **read_run(store, run_iri)} if run_iri is not None else {}
        errors = [*read_run_errors(store, run_iri), *data.errors] if run_iri is not None else list(data.errors)
    run["store"] = cfg.store.kind
    return ReportInput(data.notes, data.facts, tuple(errors), run), catalogue


def execute(args: argparse.Namespace, run_dir: Path | None, overrides: Sequence[str]) -> dict:
    from kgqa.report import ReportConfig, write_report
    from kgqa.report.sources import read_run_dir

    cfg = ReportConfig(low_confidence=args.low_confidence, title=args.title or ReportConfig.title,
                       figure=not args.no_figure)
    if args.store:
        data, catalogue = _store_input(args, run_dir, overrides)
    else:
        assert run_dir is not None
        data = read_run_dir(run_dir, note_ids=args.note)
        catalogue = _load_catalogue(args.catalogue or data.catalogue_path, data.catalogue_concepts,
                                    data.catalogue_groups)
    out = Path(args.out) if args.out else (run_dir / "report" if run_dir else Path("kgqa-report"))
    rendered = write_report(data.notes, data.facts, catalogue, out, cfg, errors=data.errors, run=data.run)
    return {"index": str(rendered.index), "notes": len(rendered.notes), "facts": len(data.facts),
            "errors": len(data.errors)}
