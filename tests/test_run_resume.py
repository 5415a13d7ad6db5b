"""Interrupting and resuming a real ``kgqa run`` (issue 24, item 6): SIGINT and SIGTERM end the run with
summary.json and errors.jsonl of the notes done; ``kgqa run --resume RUN_DIR`` skips the notes whose graph
is stored with the same text digest, settings and model, and the finished run holds every note once."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys

import pytest

from kgqa import PROJECT_ROOT
from kgqa.errors import EXIT_SIGINT, EXIT_SIGTERM

pytestmark = pytest.mark.integration


_DONE = re.compile(r"notes (\d+)/7 done")


def _run_until(args: list[str], stop_after: int | None, signum: int) -> tuple[int, str]:
    """``kgqa run ARGS``; send ``signum`` once a progress line says at least ``stop_after`` notes are done.

    At least, not exactly: progress lines come at most every ``runner.progress_every_s``, so two notes
    that end within that time share one line and a count may never be printed (the signal was then
    never sent, and the run finished). The run's own handler makes the stop itself deterministic.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "kgqa", "run", *args],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        done = _DONE.search(line)
        if stop_after is not None and done and int(done.group(1)) >= stop_after:
            assert int(done.group(1)) < 7, "the run ended before a progress line allowed a signal"
            proc.send_signal(signum)
            stop_after = None
    return proc.wait(timeout=600), "".join(lines)


def _lines(path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_interrupt_then_resume(tmp_path, tiny_checkpoint):
    import pyoxigraph

    run_dir, store_dir = tmp_path / "run", tmp_path / "store"
    args = [f"hydra.run.dir={run_dir}", f"store.path={store_dir}", "model=local", f"model.path={tiny_checkpoint}",
            "reader.max_answer_tokens=12", "runner.notes_per_batch=1", "runner.progress_every_s=0.1", "summary_query="]  # fmt: skip

    # 1. Ctrl-C after two notes: exit 130, the outputs of the notes done
    rc, out = _run_until(args, 2, signal.SIGINT)
    assert rc == EXIT_SIGINT, out[-3000:]
    assert "Traceback" not in out
    first = json.loads((run_dir / "summary.json").read_text())
    assert first["interrupted"] == "SIGINT" and 1 <= first["notes"] < 7
    assert (run_dir / "errors.jsonl").exists() and len(_lines(run_dir / "notes.jsonl")) == first["notes"]
    facts_before = {json.loads(line)["note_id"]: line for line in _lines(run_dir / "facts.jsonl")}

    # 2. resumed, then SIGTERM (the signal a scheduler sends): exit 143; the notes done are skipped
    rc, out = _run_until(["--resume", str(run_dir), "runner.progress_every_s=0.1"], first["notes"] + 1, signal.SIGTERM)
    assert rc == EXIT_SIGTERM, out[-3000:]
    second = json.loads((run_dir / "summary.json").read_text())
    assert second["interrupted"] == "SIGTERM" and second["run_id"] == first["run_id"]
    assert second["notes_resumed"] == first["notes"] and second["notes"] >= first["notes"]

    # 3. resumed to the end: every note once, the earlier notes' facts carried over unchanged
    rc, out = _run_until(["--resume", str(run_dir), "runner.progress=false"], None, signal.SIGINT)
    assert rc == 0, out[-3000:]
    third = json.loads((run_dir / "summary.json").read_text())
    assert third["notes"] == 7 and third["notes_resumed"] == second["notes"] and "interrupted" not in third
    notes = [json.loads(line)["id"] for line in _lines(run_dir / "notes.jsonl")]
    assert len(notes) == len(set(notes)) == 7
    facts_after = {json.loads(line)["note_id"]: line for line in _lines(run_dir / "facts.jsonl")}
    assert {k: facts_after[k] for k in facts_before} == facts_before

    store = pyoxigraph.Store.read_only(str(store_dir))
    graphs = {str(q.graph_name) for q in store.quads_for_pattern(None, None, None, None)}
    assert len([g for g in graphs if "/graph/note/" in g]) == 7
    assert len([g for g in graphs if "/graph/run/" in g]) == 1  # one run, resumed twice

    import rdflib

    ds = rdflib.Dataset()
    ds.parse(run_dir / "graphs.trig", format="trig")
    assert len([g for g in ds.graphs() if "/graph/note/" in str(g.identifier)]) == 7


def test_a_changed_setting_is_not_resumed(tmp_path, tiny_checkpoint):
    run_dir, store_dir = tmp_path / "run", tmp_path / "store"
    args = [f"hydra.run.dir={run_dir}", f"store.path={store_dir}", "model=local", f"model.path={tiny_checkpoint}",
            "catalogue.concepts=[age]", "notes.limit=2", "summary_query=", "runner.progress=false"]  # fmt: skip
    rc, out = _run_until(args, None, signal.SIGINT)
    assert rc == 0, out[-3000:]
    assert json.loads((run_dir / "summary.json").read_text())["notes_resumed"] == 0
    rc, out = _run_until([*args, "reader.max_answer_tokens=5"], None, signal.SIGINT)
    assert rc == 0, out[-3000:]
    assert json.loads((run_dir / "summary.json").read_text())["notes_resumed"] == 0
    assert "other settings" in out
    rc, out = _run_until([*args, "reader.max_answer_tokens=5", "runner.notes_per_batch=3"], None, signal.SIGINT)
    assert json.loads((run_dir / "summary.json").read_text())["notes_resumed"] == 2  # batching is no setting of a note
