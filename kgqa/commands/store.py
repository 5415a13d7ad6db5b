"""``kgqa store init|health|count|graphs|drop|load …`` — triplestore administration.

Every sub-command takes Hydra overrides for the store (``store=graphdb``, ``store.url=…``)::

    kgqa store init store=graphdb            # create the GraphDB repository (POST /rest/repositories)
    kgqa store health store=oxigraph
    kgqa store count [--graph IRI]
    kgqa store graphs
    kgqa store drop IRI [IRI …] | --all --yes
    kgqa store load outputs/…/graphs.trig    # (re)load a run's graphs: each note graph replaced
    kgqa store load RUN_DIR                   # the same for a run directory (its graphs.trig)

Exit codes: 0 done, 1 some graphs failed to load, 2 usage/config error, 3 store error (unreachable,
refused, or a drop that left triples behind).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from kgqa.commands import report_error
from kgqa.errors import EXIT_CONFIG, EXIT_OK, EXIT_PARTIAL, EXIT_STORE, ConfigError, KgqaError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kgqa store", description="Triplestore administration.")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("init", help="create what the store needs (GraphDB: the repository)")
    sub.add_parser("health", help="is the store answering? (exit 3 if not)")
    count = sub.add_parser("count", help="triples in all named graphs, or in one")
    count.add_argument("--graph", help="named graph IRI")
    sub.add_parser("graphs", help="list the named graphs")
    drop = sub.add_parser("drop", help="drop named graphs, or everything")
    drop.add_argument("graphs", nargs="*", metavar="IRI")
    drop.add_argument("--all", action="store_true", help="remove every statement of the store")
    drop.add_argument("--yes", action="store_true", help="confirm --all")
    load = sub.add_parser(
        "load", help="replace the store's graphs with those of a TriG/N-Quads file or run directory"
    )
    load.add_argument("path", type=Path)
    for p in sub.choices.values():
        p.add_argument("overrides", nargs="*", metavar="key=value", help="Hydra overrides (store=graphdb …)")
    return parser


def _split(values: Sequence[str]) -> tuple[list[str], list[str]]:
    """(positional values, key=value overrides): argparse cannot tell them apart by itself."""
    plain = [v for v in values if "=" not in v]
    return plain, [v for v in values if "=" in v]


def _read_graphs(path: Path):
    from rdflib import Dataset

    if path.is_dir():
        found = [path / n for n in ("graphs.trig", "graphs.nq", "graphs.jsonld") if (path / n).is_file()]
        if not found:
            raise ConfigError(f"{path}: a run directory without graphs.trig, graphs.nq or graphs.jsonld")
        path = found[0]
    if not path.is_file():
        raise ConfigError(f"no such file: {path} (give a .trig/.nq file or a run directory with graphs.trig)")
    fmt = {".trig": "trig", ".nq": "nquads", ".nquads": "nquads", ".jsonld": "json-ld"}.get(path.suffix)
    if fmt is None:
        raise ConfigError(f"{path}: unknown format (expected .trig, .nq or .jsonld)")
    dataset = Dataset()
    dataset.parse(path, format=fmt)
    return [g for g in dataset.graphs() if g.identifier != dataset.default_graph.identifier and len(g)]


def main(argv: Sequence[str]) -> int:
    from kgqa.commands.query import compose_store_config
    from kgqa.stores import open_store

    parser = _parser()
    args, extra = parser.parse_known_args(list(argv))
    unknown = [e for e in extra if "=" not in e]
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    overrides = list(args.overrides) + extra
    if args.action == "drop":
        graphs, extra = _split(args.graphs)
        args.graphs, overrides = graphs, extra + overrides
    try:
        cfg = compose_store_config(overrides)
        with open_store(cfg) as store:
            if args.action == "init":
                print(store.init())
                health = store.health()
                print(f"{health.kind} at {health.target}: {'ok' if health.ok else 'NOT OK'} {health.detail}")
                return EXIT_OK if health.ok else EXIT_STORE
            if args.action == "health":
                health = store.health()
                print(f"{health.kind} at {health.target}: {'ok' if health.ok else 'NOT OK'} {health.detail}")
                return EXIT_OK if health.ok else EXIT_STORE
            if args.action == "count":
                print(store.count(args.graph))
                return 0
            if args.action == "graphs":
                for graph in store.graphs():
                    print(graph)
                return 0
            if args.action == "drop":
                if args.all:
                    if not args.yes:
                        print(
                            "kgqa store: drop --all removes every statement; add --yes to confirm",
                            file=sys.stderr,
                        )
                        return 2
                    store.drop_all()
                    # some servers answer 200 to DROP ALL and keep the data (a read-only graph, a
                    # protected system graph): say so only when the store is empty
                    left = store.count()
                    if left:
                        print(f"kgqa store: error: drop --all: the store still holds {left} triples in named "
                              "graphs (the server accepted the request but did not remove them)", file=sys.stderr)  # fmt: skip
                        return EXIT_STORE
                    print("dropped everything (the store now holds 0 triples in named graphs)")
                    return 0
                if not args.graphs:
                    print("kgqa store: name the graph IRIs to drop, or --all --yes", file=sys.stderr)
                    return 2
                for iri in args.graphs:
                    store.drop_graph(iri)
                left = {g: n for g, n in store.counts(args.graphs).items() if n}
                if left:
                    print(f"kgqa store: error: drop: {len(left)} graph(s) still hold triples: {', '.join(left)}",
                          file=sys.stderr)  # fmt: skip
                    return EXIT_STORE
                print(f"dropped {len(args.graphs)} graph(s)")
                return 0
            if args.action == "load":
                report = store.replace_graphs(_read_graphs(args.path))
                print(json.dumps(report.summary(), ensure_ascii=False))
                return EXIT_OK if report.ok else EXIT_PARTIAL
    except (KgqaError, KeyboardInterrupt) as exc:
        return report_error("kgqa store", exc)
    return EXIT_CONFIG
