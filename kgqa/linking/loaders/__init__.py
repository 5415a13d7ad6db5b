"""Loaders: one file in, term fragments out. A name → loader registry, chosen per file in a source spec."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from kgqa.errors import ConfigError
from kgqa.linking.loaders.babelon import load_babelon, load_robot_template
from kgqa.linking.loaders.obo import load_obo
from kgqa.linking.loaders.rdf import load_rdf
from kgqa.linking.loaders.sssom import load_sssom
from kgqa.linking.loaders.tabular import load_terms_table, load_wide_table
from kgqa.linking.terms import Term

Loader = Callable[..., Iterator[Term]]

LOADERS: dict[str, Loader] = {
    "obo": load_obo,
    "rdf": load_rdf,  # OWL, SKOS, Turtle, RDF/XML … anything rdflib parses
    "terms": load_terms_table,  # kgqa's own TSV/CSV term table (drugs, ICD-10-CM, learned synonyms)
    "wide": load_wide_table,  # one row per term, one column per language (ontologies/drugs.tsv)
    "sssom": load_sssom,
    "babelon": load_babelon,
    "robot": load_robot_template,
}


def get_loader(name: str) -> Loader:
    try:
        return LOADERS[name]
    except KeyError:
        raise ConfigError(f"unknown ontology loader {name!r}; valid: {', '.join(sorted(LOADERS))}") from None


def load_file(loader: str, path: Path, **options) -> Iterator[Term]:
    return get_loader(loader)(Path(path), **options)


__all__ = ["LOADERS", "Loader", "get_loader", "load_file"]
