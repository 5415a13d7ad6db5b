"""``kgqa review``: accept, reject or correct a run's facts in a local web app; export the decisions.

Serve the review app (facts from the store, note texts from the run or a notes source)::

    kgqa review outputs/2025-01-01/12-00-00 --reviewer jd        # http://127.0.0.1:8765/
    KGQA_REVIEWER=jd kgqa review --notes notes.jsonl store=oxigraph store.query_url=http://…
    KGQA_REVIEW_TOKEN=… kgqa review RUN_DIR --host 0.0.0.0 --allow-host review.example.org   # needs a token

Export the decisions as SQuAD training data and kgqa eval gold::

    kgqa review export RUN_DIR -o review-data/
    kgqa train qa train/qa_data=squad data.train.main.path=review-data/squad/review.en.json data.train.main.lang=en
    kgqa eval review-data/review.gold.jsonl

Extra ``key=value`` arguments are Hydra overrides of ``conf/config.yaml`` (store, catalogue, notes …),
applied after the run's own overrides. Exit status 0, 1 (input or store error), 2 (usage).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from kgqa.errors import KgqaError

log = logging.getLogger("kgqa.review")

REVIEWER_ENV = "KGQA_REVIEWER"
TOKEN_ENV = "KGQA_REVIEW_TOKEN"


def _parser(export: bool) -> argparse.ArgumentParser:
    head, _, examples = (__doc__ or "").partition("\n\n")
    p = argparse.ArgumentParser(prog="kgqa review export" if export else "kgqa review", description=head,
                                epilog=examples, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("args", nargs="*", metavar="RUN_DIR | key=value",
                   help="the run's output directory and/or Hydra overrides (store=…, store.path=…)")
    p.add_argument("--notes", metavar="PATH", help="where the note texts are (default: RUN_DIR/notes.jsonl, else notes.path)")
    p.add_argument("--run-id", help="only notes this run wrote (default: the run dir's summary.json, else all)")
    p.add_argument("--catalogue", metavar="PATH", help="concept catalogue (default: the run's)")
    if export:
        p.add_argument("-o", "--out", help="output directory (default: RUN_DIR/review-export, or ./review-export)")
    else:
        p.add_argument("--reviewer", help=f"your reviewer id (default: ${REVIEWER_ENV}); an id, not a name")
        p.add_argument("--host", default="127.0.0.1",
                       help=f"address to listen on (default 127.0.0.1; another one needs ${TOKEN_ENV})")
        p.add_argument("--port", type=int, default=8765)
        p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                       help="a Host name or address clients reach the server by (repeatable; needed with "
                            "--host 0.0.0.0, since only the bound address and loopback names are accepted)")
        p.add_argument("--low-confidence", type=float, default=0.5, metavar="P",
                       help="flag facts whose confidence is below P (default 0.5)")
    return p


def _inputs(args: argparse.Namespace, run_dir: Path | None, overrides: Sequence[str]):
    """The composed config, the notes, the catalogue and the run IRI (or None)."""
    from kgqa.catalogue import load_catalogue
    from kgqa.commands.report import compose_run_config  # the run's recorded overrides, then these
    from kgqa.notes import read_notes
    from kgqa.rdf.iris import IriMinter
    from kgqa.records_io import read_notes_jsonl
    from kgqa.report.sources import read_run_id

    cfg = compose_run_config(overrides, run_dir)
    if args.notes:
        notes = read_notes(args.notes, fmt=cfg.notes.format, default_lang=cfg.notes.default_lang,
                           encoding=cfg.notes.encoding, max_bytes=cfg.notes.max_bytes).notes
    elif run_dir is not None and (run_dir / "notes.jsonl").is_file():
        notes = read_notes_jsonl(run_dir / "notes.jsonl")
    else:
        notes = read_notes(cfg.notes.path, fmt=cfg.notes.format, default_lang=cfg.notes.default_lang,
                           encoding=cfg.notes.encoding, max_bytes=cfg.notes.max_bytes).notes
    catalogue = load_catalogue(args.catalogue or cfg.catalogue.path)
    if cfg.catalogue.concepts or cfg.catalogue.groups:
        catalogue = catalogue.select(ids=tuple(cfg.catalogue.concepts), groups=tuple(cfg.catalogue.groups))
    run_id = args.run_id or (read_run_id(run_dir) if run_dir is not None else None)
    run_iri = str(IriMinter(base=cfg.rdf.base_iri, pseudonymise_cases=False).run(run_id)) if run_id else None
    return cfg, notes, catalogue, run_iri


def settings_from(args: argparse.Namespace, environ=os.environ):
    """The server's settings; a ReviewError (bad reviewer id, network address without a token) is a usage error."""
    from kgqa.review.server import ReviewSettings

    return ReviewSettings(reviewer=args.reviewer or environ.get(REVIEWER_ENV, ""), host=args.host, port=args.port,
                          token=environ.get(TOKEN_ENV) or None, low_confidence=args.low_confidence,
                          allowed_hosts=tuple(args.allow_host))


def serve(args: argparse.Namespace, run_dir: Path | None, overrides: Sequence[str], settings) -> int:
    import uvicorn

    from kgqa.review.server import create_app
    from kgqa.review.store import ReviewStore
    from kgqa.stores import open_store

    cfg, notes, catalogue, run_iri = _inputs(args, run_dir, overrides)
    with open_store(cfg.store) as store:
        review = ReviewStore(store, notes, tuple(catalogue), run_iri)
        count = len(review.notes())
        if not count:
            raise KgqaError("no note in the store has a text in the notes source (--notes / RUN_DIR)")
        app = create_app(review, catalogue, settings)
        print(f"kgqa review: {count} notes; reviewer {settings.reviewer}; "
              f"http://{settings.host}:{settings.port}/ (Ctrl-C stops)", file=sys.stderr)
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")
    return 0


def export(args: argparse.Namespace, run_dir: Path | None, overrides: Sequence[str]) -> dict:
    from kgqa.report.config import ReportConfig
    from kgqa.review.export import write_export
    from kgqa.review.store import ReviewStore
    from kgqa.review.view import build_review_note
    from kgqa.stores import open_store

    cfg, notes, catalogue, run_iri = _inputs(args, run_dir, overrides)
    concepts = tuple(catalogue)
    with open_store(cfg.store) as store:
        review = ReviewStore(store, notes, concepts, run_iri)
        reviewed = [build_review_note(i, n, review.facts(n), review.decisions(n), review.seen(n), concepts,
                                      ReportConfig()) for i, n in enumerate(review.notes())]
    out = Path(args.out) if args.out else (run_dir / "review-export" if run_dir else Path("review-export"))
    return write_export(reviewed, concepts, out).as_dict()


def main(argv: Sequence[str]) -> int:
    argv = list(argv)
    is_export = bool(argv) and argv[0] == "export"
    args = _parser(is_export).parse_args(argv[1:] if is_export else argv)
    overrides = [a for a in args.args if "=" in a]
    positional = [a for a in args.args if "=" not in a]
    if len(positional) > 1:
        print(f"kgqa review: one run directory at most, got {positional}", file=sys.stderr)
        return 2
    run_dir = Path(positional[0]) if positional else None
    from kgqa.review.decisions import ReviewError

    settings = None
    if not is_export:
        try:
            settings = settings_from(args)
        except ReviewError as exc:
            print(f"kgqa review: {exc}", file=sys.stderr)
            return 2
    try:
        if is_export:
            print(json.dumps(export(args, run_dir, overrides), ensure_ascii=False))
            return 0
        return serve(args, run_dir, overrides, settings)
    except KgqaError as exc:
        log.error("%s", exc)
        print(f"kgqa review: {exc}", file=sys.stderr)
        return 1
