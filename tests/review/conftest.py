"""Fixtures of the review tests: an extraction loaded into a store, the review app over it, a client."""

from __future__ import annotations

import re

import pytest
import review_fixtures as rf
from starlette.testclient import TestClient

from kgqa.review.server import ReviewSettings, create_app
from kgqa.review.store import ReviewStore
from kgqa.stores import StoreConfig, open_store


@pytest.fixture
def cat():
    return rf.catalogue()


@pytest.fixture
def notes():
    return rf.notes()


@pytest.fixture
def extraction(cat, notes):
    return rf.extract(cat, notes)


@pytest.fixture
def store(extraction):
    with open_store(StoreConfig(kind="embedded")) as s:
        assert s.replace_graphs(extraction.graphs).ok
        yield s


@pytest.fixture
def review(store, notes, cat):
    return ReviewStore(store, notes, tuple(cat))


def make_client(review, cat, reviewer="rev-1", **settings) -> TestClient:
    app = create_app(review, cat, ReviewSettings(reviewer=reviewer, **settings))
    return TestClient(app, base_url="http://127.0.0.1")


@pytest.fixture
def client(review, cat):
    with make_client(review, cat) as c:
        yield c


def csrf_of(client: TestClient, path: str = "/notes/0") -> str:
    page = client.get(path)
    assert page.status_code == 200
    return re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text).group(1)


def keys_of(client: TestClient, index: int = 0) -> dict[str, str]:
    """concept -> fact key of the note's facts (one fact per concept in the fixtures)."""
    return {f["concept"]: f["key"] for f in client.get(f"/api/notes/{index}/state").json()["facts"]}


def decide(client: TestClient, token: str, index: int = 0, **body):
    return client.post(f"/api/notes/{index}/decisions", json=body, headers={"X-CSRF-Token": token})
