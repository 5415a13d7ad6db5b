"""Store fixtures: real Oxigraph servers on 127.0.0.1 (started here, killed at teardown) and the fake GraphDB."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fake_graphdb import FakeGraphDB

from kgqa.stores.testing import OxigraphServer, oxigraph_binary


@pytest.fixture
def oxigraph_factory(tmp_path) -> Iterator[Callable[..., OxigraphServer]]:
    if not oxigraph_binary():
        pytest.skip("the `oxigraph` server binary (PyPI package oxigraph) is not installed")
    started: list[OxigraphServer] = []

    def start(name: str = "ox", port: int | None = None) -> OxigraphServer:
        server = OxigraphServer(tmp_path / name, port).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


@pytest.fixture
def oxigraph(oxigraph_factory) -> OxigraphServer:
    return oxigraph_factory()


@pytest.fixture
def fake_graphdb() -> Iterator[FakeGraphDB]:
    with FakeGraphDB() as server:
        yield server
