"""``kgqa query NAME [param=value …] [--format table|csv|json] [Hydra overrides]``.

Runs a named query from ``queries/`` on the configured store and prints the result. An argument
``key=value`` whose key is a parameter of the query binds that parameter; ``store=…`` and
``store.*=…`` are Hydra overrides of the store config, e.g. ``store=oxigraph`` or
``store.path=/data/kg``. Any other key is an error that names the query's parameters (a misspelt
parameter never runs the query with its default), and so is Hydra's ``+key=value``::

    kgqa query door_to_needle_share max_minutes=45
    kgqa query fact_evidence fact=https://… --format json store=graphdb
    kgqa query --list
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence

from kgqa.errors import ConfigError, KgqaError, QueryError, StoreError


def compose_store_config(overrides: Sequence[str]):
    """The ``store`` section of the run config, composed by Hydra with the given overrides."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from kgqa.config import CONF_DIR, HYDRA_VERSION_BASE, register_configs, to_object
    from kgqa.stores.config import StoreConfig

    register_configs()
    try:
        with initialize_config_dir(
            config_dir=str(CONF_DIR), version_base=HYDRA_VERSION_BASE, job_name="kgqa"
        ):
            cfg = compose(config_name="config", overrides=list(overrides))
        return to_object(cfg.store, StoreConfig)
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(f"config overrides {' '.join(overrides) or '(none)'}: {exc}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kgqa query",
        description="Run a named SPARQL query (queries/NAME.rq) on the configured store.",
        epilog="key=value arguments bind the query's parameters (--describe lists them); store=… and "
        "store.*=… are Hydra overrides (store=oxigraph, store.path=DIR …); any other key is an error.",
    )
    parser.add_argument("name", nargs="?", help="query name (file stem in queries/)")
    parser.add_argument(
        "assignments", nargs="*", metavar="key=value", help="query parameters and Hydra overrides"
    )
    parser.add_argument("--format", "-f", choices=("table", "csv", "json"), default="table")
    parser.add_argument("--list", action="store_true", help="list the queries and their purpose")
    parser.add_argument("--describe", action="store_true", help="print the query's parameters and columns")
    return parser


def describe(query) -> str:
    lines = [f"{query.name}: {query.purpose}", "parameters:"]
    lines += [
        f"  {p.name} ({p.type}{', required' if p.required else f', default {p.default}' if p.default else ''}): "
        f"{p.description}"
        for p in query.parameters
    ] or ["  none"]
    lines.append("columns:")
    lines += [f"  {name}: {desc}" for name, desc in query.columns]
    return "\n".join(lines)


#: the only config a query uses: anything else given as key=value would be composed and then ignored
_OVERRIDE_ROOT = "store"


def _known_parameters(query) -> str:
    names = [p.name for p in query.parameters]
    return f"its parameters: {', '.join(names)}" if names else "it has no parameters"


def split_assignments(query, assignments: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """(query parameters, Hydra overrides of the store config).

    A key that is neither a parameter of the query nor a ``store``/``store.*`` override is an error
    naming the query's parameters: a misspelt parameter must never run the query with its default.
    Hydra's ``+key``/``++key``/``~key`` forms are refused for the same reason.
    """
    declared = {p.name for p in query.parameters}
    params: dict[str, str] = {}
    overrides: list[str] = []
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep and not key.startswith("~"):
            raise QueryError(f"expected key=value, got {item!r}")
        bare = key.lstrip("+~")
        if bare != key:
            raise QueryError(
                f"{item!r}: adding or deleting config keys ({key[: len(key) - len(bare)]}key) is not allowed in kgqa "
                f"query; query {query.name!r} takes parameters as name=value ({_known_parameters(query)})"
            )
        if key in declared:
            params[key] = value
        elif key == _OVERRIDE_ROOT or key.startswith(_OVERRIDE_ROOT + "."):
            overrides.append(item)
        else:
            close = difflib.get_close_matches(key, sorted(declared), n=1)
            hint = f"; did you mean {close[0]}={value}?" if close else ""
            raise QueryError(
                f"unknown parameter {key!r} for query {query.name!r} ({_known_parameters(query)}){hint} "
                f"— other key=value arguments must be store overrides (store=…, store.path=…)"
            )
    return params, overrides


def main(argv: Sequence[str]) -> int:
    from kgqa.queries import format_result, list_queries, load_query
    from kgqa.stores import open_store

    args = _parser().parse_intermixed_args(list(argv))
    try:
        if args.list or not args.name:
            width = max((len(n) for n in list_queries()), default=0)
            for name in list_queries():
                print(f"{name.ljust(width)}  {load_query(name).purpose}")
            return 0
        query = load_query(args.name)
        if args.describe:
            print(describe(query))
            return 0
        params, overrides = split_assignments(query, args.assignments)
        bindings = query.bindings(params)  # refuse a bad parameter before touching the store
        with open_store(compose_store_config(overrides)) as store:
            result = store.query(query.text, bindings)
        print(format_result(result, args.format))
        return 0
    except (QueryError, ConfigError) as exc:
        print(f"kgqa query: {exc}", file=sys.stderr)
        return 2
    except (StoreError, KgqaError) as exc:
        print(f"kgqa query: {exc}", file=sys.stderr)
        return 1


__all__ = ["compose_store_config", "main"]
