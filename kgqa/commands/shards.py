"""``kgqa shards load DIR [--server-import] [--parallel N] [overrides]``: load sharded N-Quads into the store.

Overrides select the store as for ``kgqa run`` (``store=graphdb store.url=…``). ``--server-import``
uses GraphDB's server-side import; the shard files must already lie in GraphDB's import directory.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="kgqa shards", description=__doc__)
    sub = parser.add_subparsers(dest="action", required=True)
    load = sub.add_parser("load", help="load complete shards of a directory into the configured store")
    load.add_argument("shard_dir", type=Path)
    load.add_argument("--server-import", action="store_true", help="GraphDB server-side import (store=graphdb)")
    load.add_argument("--parallel", type=int, default=2, help="shards loaded at once through the store interface")
    load.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. store=oxigraph")
    args = parser.parse_args(list(argv))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    from kgqa.config import RunConfig, compose, to_object
    from kgqa.runners.loading import complete_shards, graphdb_server_import, load_shards

    cfg = to_object(compose(args.overrides), RunConfig)
    names = complete_shards(args.shard_dir)
    if not names:
        print(f"kgqa shards: no complete shard in {args.shard_dir}", file=sys.stderr)
        return 1
    if args.server_import:
        if cfg.store.kind != "graphdb":
            print("kgqa shards: --server-import needs store=graphdb", file=sys.stderr)
            return 2
        report = graphdb_server_import(cfg.store, args.shard_dir, names)
    else:
        from kgqa.stores import open_store

        with open_store(cfg.store) as store:
            report = load_shards(store, args.shard_dir, names, parallel=args.parallel)
    print(json.dumps({"shards_loaded": len(report.shards_loaded), "shards_failed": report.shards_failed, "graphs": report.graphs,
                      "duplicates": report.duplicates}, ensure_ascii=False))
    return 0 if report.ok else 1
