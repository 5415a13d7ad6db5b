"""``kgqa run`` whose store refuses every load (issue 24, items 4 and 12): nothing extracted is lost, the
run exits 1 and says how to load the run directory later, and ``kgqa store load RUN_DIR`` does it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from store_servers import FaultProxy

from kgqa import PROJECT_ROOT
from kgqa.commands import store as store_cmd
from kgqa.errors import EXIT_OK, EXIT_PARTIAL
from kgqa.stores import StoreConfig, open_store

pytestmark = pytest.mark.integration


def _store_args(base: str) -> list[str]:
    return ["store=oxigraph", f"store.query_url={base}/query", f"store.update_url={base}/update",
            f"store.graph_store_url={base}/store", "store.retries=1", "store.backoff_s=0.01"]  # fmt: skip


def test_a_store_that_refuses_loads_loses_no_fact(oxigraph, tmp_path, tiny_checkpoint, capsys):
    run_dir = tmp_path / "run"
    with FaultProxy(oxigraph.base) as proxy:
        proxy.state.fail(400, "Bad Request: no writes today", times=10**6, method="PUT")
        proxy.state.fail(400, "Bad Request: no writes today", times=10**6, path="/update")
        args = [f"hydra.run.dir={run_dir}", "model=local", f"model.path={tiny_checkpoint}", "notes.limit=3",
                "catalogue.concepts=[age,nihss_score]", "runner.notes_per_batch=2", "summary_query="]  # fmt: skip
        out = subprocess.run(
            [sys.executable, "-m", "kgqa", "run", *args, *_store_args(proxy.base)],
            cwd=PROJECT_ROOT,
            check=False,  # asserted below
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert out.returncode == EXIT_PARTIAL, out.stderr[-3000:]
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["notes"] == 3 and summary["notes_failed"] == 0
    assert summary["store_failures"] == 4  # 3 note graphs + the run graph, counted per graph
    assert summary["load_later"] == f"kgqa store load {run_dir}"
    notes = [json.loads(line) for line in (run_dir / "notes.jsonl").read_text().splitlines()]
    assert len(notes) == 3
    errors = [json.loads(line) for line in (run_dir / "errors.jsonl").read_text().splitlines()]
    assert [e["stage"] for e in errors] == ["store"] * 3 and "no writes today" in errors[0]["reason"]
    assert (run_dir / "graphs.trig").stat().st_size > 0 and (run_dir / "facts.jsonl").exists()

    with open_store(StoreConfig(kind="sparql", query_url=f"{oxigraph.base}/query")) as store:
        assert store.count() == 0
    # later, with the store back: the run directory loads whole
    assert store_cmd.main(["load", str(run_dir), *_store_args(oxigraph.base)]) == EXIT_OK
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["loaded"] == 4 and not report["failed"]
    with open_store(StoreConfig(kind="sparql", query_url=f"{oxigraph.base}/query")) as store:
        assert len(store.graphs()) == 4
