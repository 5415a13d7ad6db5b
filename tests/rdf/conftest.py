"""Fixtures of the RDF tests: the builder over the fixture concepts, and the graphs of the fixture notes."""

from __future__ import annotations

import pytest

from kgqa.rdf import RdfBuilder, RdfConfig

from .rdf_factories import CONCEPTS, TEST_ENV, build_graphs


@pytest.fixture
def builder() -> RdfBuilder:
    return RdfBuilder(RdfConfig(), CONCEPTS, environ=TEST_ENV)


@pytest.fixture
def graphs(builder):
    return build_graphs(builder)


@pytest.fixture
def resq_shapes(shared_data):
    path = shared_data / "resq_plus" / "shacl_valid.ttl"
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    return path
