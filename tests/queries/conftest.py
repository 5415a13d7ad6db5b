"""Fixture data for the named queries: three hand-made cases built with RdfBuilder, in an embedded store."""

from __future__ import annotations

import pytest
from query_cases import Fixture, build

from kgqa.stores import StoreConfig, open_store


@pytest.fixture(scope="session")
def cases() -> Fixture:
    return build()


@pytest.fixture(scope="session")
def fact_store(cases):
    with open_store(StoreConfig(kind="embedded")) as store:
        report = store.replace_graphs(cases.graphs)
        assert report.ok, report.failed
        yield store
