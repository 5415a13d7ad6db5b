"""``kgqa review`` and ``kgqa review export`` from a run directory, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest
import review_fixtures as rf
from conftest import csrf_of, decide, keys_of, make_client

from kgqa.cli import main as kgqa
from kgqa.records_io import write_notes_jsonl
from kgqa.review.store import ReviewStore
from kgqa.stores import StoreConfig, open_store
from kgqa.stores.testing import free_port
from training.squad import load_squad


@pytest.fixture
def run_dir(tmp_path, extraction, notes, cat):
    """What `kgqa run` leaves behind, its graphs loaded into an embedded store on disk."""
    run = tmp_path / "run"
    (run / ".hydra").mkdir(parents=True)
    store_path = tmp_path / "store"
    concepts = ",".join(rf.CONCEPT_IDS)
    (run / ".hydra" / "overrides.yaml").write_text(
        f"- store.path={store_path}\n- catalogue.concepts=[{concepts}]\n", encoding="utf-8")
    (run / "summary.json").write_text(json.dumps({"run_id": rf.RUN.run_id}), encoding="utf-8")
    write_notes_jsonl(notes, run / "notes.jsonl")
    with open_store(StoreConfig(kind="embedded", path=str(store_path))) as store:
        assert store.replace_graphs(extraction.graphs).ok
        with make_client(ReviewStore(store, notes, tuple(cat), run_iri=None), cat) as client:
            token = csrf_of(client)
            for concept, key in keys_of(client, 0).items():
                body = {"action": "reject", "reason": "wrong_span"} if concept == "nihss_score" else {"action": "accept"}
                assert decide(client, token, fact=key, **body).status_code == 200
    return run


def test_review_export_from_a_run_directory(run_dir, tmp_path, capsys):
    out = tmp_path / "export"
    assert kgqa(["review", "export", str(run_dir), "-o", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["questions"] == 6 and summary["unanswerable"] == 1 and summary["gold_notes"] == 1
    examples, report = load_squad(out / "squad" / "review.en.json", "review", "en")
    assert len(examples) == 6 and report.answers_ok == 5
    assert sorted(summary["files"]) == sorted([str(out / "squad" / "review.en.json"), str(out / "review.gold.jsonl")])


def test_usage_errors_exit_2(run_dir, capsys, monkeypatch):
    monkeypatch.delenv("KGQA_REVIEW_TOKEN", raising=False)
    assert kgqa(["review", str(run_dir), "--reviewer", "rev-1", "--host", "0.0.0.0"]) == 2
    assert "needs a token" in capsys.readouterr().err
    monkeypatch.delenv("KGQA_REVIEWER", raising=False)
    assert kgqa(["review", str(run_dir)]) == 2
    assert "reviewer id" in capsys.readouterr().err
    assert kgqa(["review", "a", "b", "--reviewer", "x"]) == 2


def test_export_of_an_unknown_run_directory_exits_1(tmp_path, capsys):
    assert kgqa(["review", "export", "--notes", str(tmp_path / "missing.jsonl"),
                 f"store.path={tmp_path / 's'}"]) == 1
    assert "kgqa review:" in capsys.readouterr().err


@pytest.mark.integration
def test_kgqa_review_serves_the_run(run_dir, tmp_path):
    port = free_port()
    env = {**os.environ, "KGQA_REVIEWER": "rev-9"}
    proc = subprocess.Popen([sys.executable, "-m", "kgqa", "review", str(run_dir), "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                page = httpx.get(base + "/", timeout=5)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"kgqa review did not start: {proc.stdout.read()}") from None
                time.sleep(0.3)
        assert page.status_code == 200 and "rev-9" in page.text and 'id="run-decided">6 / 9<' in page.text
        state = httpx.get(base + "/api/notes/0/state", timeout=10).json()
        assert {f["concept"]: f["state"] for f in state["facts"]}["nihss_score"] == "reject"
    finally:
        proc.terminate()
        log, _ = proc.communicate(timeout=30)
    # the access log names notes by number; never their ids, text or patients
    assert "GET /api/notes/0/state" in log
    for secret in ("note-en", "P-001", "Man, 71"):
        assert secret not in log
