"""Named graphs -> TriG, N-Quads or JSON-LD (with the Web Annotation context embedded).

Output is deterministic: TriG is written by rdflib's sorted Turtle-family serialiser, N-Quads
lines are sorted, JSON-LD nodes are sorted by id. No network: the W3C Web Annotation JSON-LD
context (https://www.w3.org/ns/anno.jsonld) is embedded from ``anno_context.json``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from rdflib import Dataset, Graph

from kgqa.errors import ConfigError
from kgqa.rdf.vocab import BIND_PREFIXES, bind_prefixes

#: format name -> (rdflib format, file suffix)
FORMATS: dict[str, tuple[str, str]] = {
    "trig": ("trig", ".trig"),
    "nquads": ("nquads", ".nq"),
    "json-ld": ("json-ld", ".jsonld"),
}
_ALIASES = {"jsonld": "json-ld", "nq": "nquads", "n-quads": "nquads"}
_SUFFIXES = {suffix: name for name, (_, suffix) in FORMATS.items()} | {".json": "json-ld", ".nquads": "nquads"}


def format_name(fmt: str) -> str:
    name = _ALIASES.get(fmt.lower(), fmt.lower())
    if name not in FORMATS:
        raise ConfigError(f"RDF format {fmt!r} is not one of {', '.join(FORMATS)}")
    return name


def guess_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise ConfigError(f"{path}: cannot tell the RDF format from {suffix!r}; use one of {', '.join(_SUFFIXES)}")
    return _SUFFIXES[suffix]


@lru_cache(maxsize=1)
def annotation_context() -> dict[str, Any]:
    """The W3C Web Annotation JSON-LD context (the object under its "@context")."""
    text = resources.files("kgqa.rdf").joinpath("anno_context.json").read_text(encoding="utf-8")
    return json.loads(text)["@context"]


def jsonld_context() -> list[dict[str, Any]]:
    """Web Annotation terms first, then kgqa's prefixes for the domain and provenance terms."""
    anno = annotation_context()
    return [anno, {k: v for k, v in BIND_PREFIXES.items() if k not in anno}]


def to_dataset(graphs: Iterable[Graph]) -> Dataset:
    """A Dataset with one named graph per input graph (same identifiers; merged if repeated)."""
    ds = Dataset()
    bind_prefixes(ds)
    for g in graphs:
        named = ds.graph(g.identifier)
        named.addN((s, p, o, named) for s, p, o in g)
    return ds


def _trig(graphs: list[Graph]) -> str:
    """TriG with the named graphs in IRI order (rdflib orders them by hash, which varies per process)."""
    prefixes: set[str] = set()
    blocks: list[str] = []
    merged = to_dataset(graphs)
    for identifier in sorted({g.identifier for g in graphs}, key=str):
        single = Dataset()
        bind_prefixes(single)
        named = single.graph(identifier)
        named.addN((s, p, o, named) for s, p, o in merged.graph(identifier))
        text = single.serialize(format="trig")
        lines = text.split("\n")
        prefixes.update(line for line in lines if line.startswith("@prefix "))
        blocks.append("\n".join(line for line in lines if not line.startswith("@prefix ")).strip("\n") + "\n")
    return "\n".join(sorted(prefixes)) + "\n\n" + "\n".join(blocks)


def _canonical_json(node: Any, key: str = "") -> Any:
    """Sort JSON-LD arrays (sets in RDF: rdflib emits them in hash order) and keys; @list stays ordered."""
    if isinstance(node, dict):
        return {k: _canonical_json(v, k) for k, v in sorted(node.items())}
    if isinstance(node, list):
        items = [_canonical_json(v) for v in node]
        if key in ("@list", "@context"):
            return items
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
    return node


def serialise(graphs: Iterable[Graph], fmt: str = "trig") -> str:
    name = format_name(fmt)
    graphs = list(graphs)
    if name == "trig":
        return _trig(graphs)
    ds = to_dataset(graphs)
    if name == "nquads":
        # split on "\n" only: str.splitlines would also break at U+001E, U+2028 … inside literals
        lines = ds.serialize(format="nquads").split("\n")
        return "".join(sorted(line + "\n" for line in lines if line.strip()))
    text = ds.serialize(format="json-ld", context=jsonld_context(), auto_compact=True)
    return json.dumps(_canonical_json(json.loads(text)), ensure_ascii=False, indent=2) + "\n"


def write_dataset(graphs: Iterable[Graph], path: str | Path, format: str = "trig") -> Path:
    """Write the graphs as one dataset file; returns the path written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = serialise(graphs, format)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # a reader never sees half a file
    return path


def read_dataset(path: str | Path, format: str | None = None) -> Dataset:
    """Parse a TriG / N-Quads / JSON-LD file (a plain Turtle/N-Triples file lands in the default graph)."""
    path = Path(path)
    name = format_name(format) if format else guess_format(path)
    ds = Dataset()
    ds.parse(path, format=FORMATS[name][0])
    return ds
