"""End-to-end smoke test of the CLI on the bundled sample notes into the embedded store."""

import json
import subprocess
import sys

import pytest

from kgqa import PROJECT_ROOT


def _kgqa(*args, cwd, timeout=900):
    return subprocess.run(
        [sys.executable, "-m", "kgqa", *args],
        cwd=cwd,
        check=False,  # callers assert on the return code and the output
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_help_lists_commands():
    out = _kgqa("--help", cwd=PROJECT_ROOT)
    assert out.returncode == 0
    for command in ("run", "query", "validate", "eval", "report", "train"):
        assert f"  {command} " in out.stdout


def test_unknown_command_fails_clearly():
    out = _kgqa("frobnicate", cwd=PROJECT_ROOT)
    assert out.returncode == 2 and "valid commands" in out.stderr


def test_wrong_override_fails_with_the_key_named(tmp_path):
    out = _kgqa("run", "reader.batch_sise=3", f"hydra.run.dir={tmp_path}", cwd=PROJECT_ROOT)
    assert out.returncode != 0
    assert "batch_sise" in out.stderr


def test_cfg_job_prints_composed_config():
    out = _kgqa("run", "--cfg", "job", "store=memory", cwd=PROJECT_ROOT)
    assert out.returncode == 0, out.stderr
    assert "kind: embedded" in out.stdout and "question_lang:" in out.stdout


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory, tiny_checkpoint):
    run_dir = tmp_path_factory.mktemp("run")
    store_dir = tmp_path_factory.mktemp("store")
    out = _kgqa(
        "run",
        f"hydra.run.dir={run_dir}",
        f"store.path={store_dir}",
        "model=local",
        f"model.path={tiny_checkpoint}",
        "reader.max_answer_tokens=12",
        cwd=PROJECT_ROOT,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    return run_dir, store_dir, out


def test_run_end_to_end_on_sample_notes(sample_run):
    run_dir, _store_dir, out = sample_run
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["notes"] == 7 and summary["notes_failed"] == 0
    assert summary["triples"] > 0 and summary["store"] == "embedded"
    assert summary["run_dir"] == str(run_dir)
    assert (run_dir / "graphs.trig").stat().st_size > 0
    assert (run_dir / ".hydra" / "config.yaml").exists()
    # the note text must not leak into logs by default
    assert "přivezen RZP" not in out.stderr and "P-1001" not in out.stderr


def test_outputs_are_consistent(sample_run):
    import rdflib

    from kgqa.records_io import read_facts_jsonl, read_notes_jsonl

    run_dir, _, _out = sample_run
    notes = {n.id: n for n in read_notes_jsonl(run_dir / "notes.jsonl")}
    assert len(notes) == 7
    for fact in read_facts_jsonl(run_dir / "facts.jsonl"):
        if fact.answer is not None:
            fact.answer.check_against(notes[fact.note_id])  # offsets slice the note exactly
    ds = rdflib.Dataset()
    ds.parse(run_dir / "graphs.trig", format="trig")
    graph_ids = {str(g.identifier) for g in ds.graphs()}
    assert len(graph_ids - {str(rdflib.URIRef("urn:x-rdflib:default"))}) >= 8  # 7 notes + the run


def test_query_over_embedded_store_returns_rows(sample_run):
    _, store_dir, _ = sample_run
    out = _kgqa("query", "facts_per_concept", "--format", "json", f"store.path={store_dir}", cwd=PROJECT_ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = json.loads(out.stdout.strip().splitlines()[-1] if out.stdout.strip().startswith("[") is False else out.stdout)
    assert rows


def test_rerun_replaces_graphs_instead_of_piling_up(sample_run, tiny_checkpoint, tmp_path):
    import pyoxigraph

    _, store_dir, _ = sample_run

    def note_quads():
        store = pyoxigraph.Store.read_only(str(store_dir))
        return sum(1 for q in store.quads_for_pattern(None, None, None, None) if "/run/" not in str(q.graph_name))

    before = note_quads()
    out = _kgqa(
        "run",
        f"hydra.run.dir={tmp_path}",
        f"store.path={store_dir}",
        "model=local",
        f"model.path={tiny_checkpoint}",
        "reader.max_answer_tokens=12",
        "summary_query=",
        cwd=PROJECT_ROOT,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert note_quads() == before


def test_summary_counts_the_pairs_the_reader_did_not_ask(tmp_path, tiny_checkpoint):
    """A concept whose null threshold no span can exceed is not asked, and the summary says how often."""
    out = _kgqa(
        "run", f"hydra.run.dir={tmp_path / 'run'}", "store=memory", "model=local", f"model.path={tiny_checkpoint}",
        "catalogue.concepts=[age,nihss_score]", "+reader.null_thresholds.nihss_score=1e6", "summary_query=",
        cwd=PROJECT_ROOT,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["notes"] == 7 and summary["pairs_not_asked"] == 7  # nihss_score, once per note
