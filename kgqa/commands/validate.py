"""``kgqa validate``: SHACL-validate kgqa's graphs with the RES-Q PLUS shapes and kgqa's own.

Files (TriG, N-Quads, JSON-LD) or a run directory (its ``graphs.trig``)::

    kgqa validate outputs/2026-11-25/13-00-00
    kgqa validate graphs.trig more.nq --strict

The configured triplestore (``key=value`` arguments are Hydra overrides of conf/config.yaml)::

    kgqa validate --store store=oxigraph store.query_url=http://127.0.0.1:7878/query

Shapes: ``rdf.kgqa_shapes`` (ontologies/shapes.ttl, always) and ``rdf.resq_shapes`` (the published
RES-Q PLUS shacl_valid.ttl, default ../shared/data/resq_plus/shacl_valid.ttl). kgqa does not ship the
RES-Q PLUS shapes: get ValidationScripts/shacl_valid.ttl from https://github.com/Ontotext-AD/resq_plus
and pass ``--resq-shapes PATH`` (or ``rdf.resq_shapes=PATH``). Without them only kgqa's shapes are
checked and the verdict says so ("conforms to kgqa's shapes; NOT checked against the RES-Q PLUS
shapes"); ``--require-resq`` makes their absence an error (exit 2). Violations are printed with
their focus node, path, value and message. Cases whose notes state none of a fact the shapes
make mandatory (a stroke type, an arrival time) are listed as *incomplete*: kgqa never invents
facts, so they do not fail validation unless ``--strict`` is given.

Exit status: 0 conforms, 1 violations (or incomplete cases with --strict), 2 usage or input error.
The last line printed is one JSON object with the counts.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from kgqa.errors import KgqaError

log = logging.getLogger("kgqa.validate")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kgqa validate", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("args", nargs="*", metavar="FILE | RUN_DIR | key=value",
                   help="dataset files or run directories, and/or Hydra overrides (rdf.*, store.*)")
    p.add_argument("--store", action="store_true", help="validate the union of the configured store's named graphs")
    p.add_argument("--resq-shapes", metavar="PATH",
                   help="RES-Q PLUS shapes, ValidationScripts/shacl_valid.ttl of github.com/Ontotext-AD/resq_plus "
                        "(default: rdf.resq_shapes)")  # fmt: skip
    p.add_argument("--require-resq", action="store_true",
                   help="fail (exit 2) when the RES-Q PLUS shapes are not found instead of checking kgqa's alone")
    p.add_argument("--kgqa-shapes", metavar="PATH", help="kgqa's shapes (default: rdf.kgqa_shapes)")
    p.add_argument("--strict", action="store_true", help="incomplete cases fail validation too")
    p.add_argument("--limit", type=int, default=50, metavar="N", help="print at most N findings of each kind")
    return p


def _configs(overrides: Sequence[str], need_store: bool):
    """(RdfConfig, StoreConfig | None): defaults, or the composed run config when there are overrides."""
    from kgqa.rdf.config import RdfConfig

    if not overrides and not need_store:
        return RdfConfig(), None
    from hydra import compose, initialize_config_dir

    from kgqa.config import CONF_DIR, HYDRA_VERSION_BASE, RunConfig, register_configs, to_object

    register_configs()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=HYDRA_VERSION_BASE):
        cfg = compose(config_name="config", overrides=list(overrides))
    run_cfg = to_object(cfg, RunConfig)
    return run_cfg.rdf, run_cfg.store


def _files(paths: Sequence[str]) -> list[Path]:
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            candidates = [path / name for name in ("graphs.trig", "graphs.nq", "graphs.jsonld")]
            found = [c for c in candidates if c.is_file()]
            if not found:
                raise KgqaError(f"{path}: a run directory without graphs.trig, graphs.nq or graphs.jsonld")
            out.append(found[0])
        elif path.is_file():
            out.append(path)
        else:
            raise KgqaError(f"{path}: no such file or directory")
    return out


def _load_files(files: Sequence[Path]):
    from rdflib import Dataset

    from kgqa.rdf.serialise import read_dataset

    ds = Dataset()
    for path in files:
        try:
            part = read_dataset(path)
        except KgqaError:
            raise
        except Exception as exc:  # parser errors carry line numbers; name the file too
            raise KgqaError(f"{path}: cannot parse: {exc}") from exc
        for quad in part.quads((None, None, None, None)):
            ds.add(quad)
    return ds


def _load_store(store_cfg):
    from kgqa.stores import open_store

    with open_store(store_cfg) as store:
        result = store.query("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
    if result.graph is None:
        raise KgqaError(f"store {store_cfg.kind}: CONSTRUCT returned no graph")
    return result.graph


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    overrides = [a for a in args.args if "=" in a and not Path(a).exists()]
    paths = [a for a in args.args if a not in overrides]
    if args.store == bool(paths):
        print("kgqa validate: give dataset files / run directories, or --store (see --help)", file=sys.stderr)
        return 2
    try:
        from dataclasses import replace

        from kgqa.rdf.validation import validate_graph

        rdf_cfg, store_cfg = _configs(overrides, args.store)
        if args.resq_shapes:
            rdf_cfg = replace(rdf_cfg, resq_shapes=args.resq_shapes)
        if args.kgqa_shapes:
            rdf_cfg = replace(rdf_cfg, kgqa_shapes=args.kgqa_shapes)
        data = _load_store(store_cfg) if args.store else _load_files(_files(paths))
        report = validate_graph(data, rdf_cfg)
        if args.require_resq and not report.resq_checked:
            raise KgqaError(f"--require-resq: {'; '.join(report.skipped)}")
    except KgqaError as exc:
        print(f"kgqa validate: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    print(report.render(limit=args.limit))
    failed = not report.conforms or (args.strict and bool(report.incomplete))
    print(json.dumps({
        "conforms": report.conforms,
        "violations": len(report.violations),
        "warnings": len(report.warnings),
        "incomplete_cases": len(report.incomplete),
        "shape_sets": list(report.shape_sets),
        "resq_checked": report.resq_checked,
        "skipped": list(report.skipped),
        "triples": report.triples,
    }))
    return 1 if failed else 0
