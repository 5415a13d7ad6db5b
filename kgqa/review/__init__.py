"""The review loop: reviewers accept, reject or correct facts in a local web app; each decision is
a PROV activity in the note's review graph in the store; ``kgqa review export`` turns the
decisions into SQuAD training data and ``kgqa eval`` gold. See docs/review.md.

Modules: ``vocab`` (the ``kgqar:`` terms), ``decisions`` (records and their RDF, pure),
``correct`` (a correction read by the values stage, pure), ``store`` (facts with IRIs and
decisions, to and from the store), ``view`` (what the pages show, pure), ``server`` (the
Starlette app), ``export`` (decisions -> SQuAD / gold, pure, and their files).
"""

from __future__ import annotations

from pathlib import Path

#: SHACL shapes of the review layer (used with ontologies/shapes.ttl)
SHAPES = Path(__file__).with_name("shapes.ttl")

__all__ = ["SHAPES"]
