"""A signal is never lost by ``kgqa run`` (issue 24, item 6): SIGINT/SIGTERM delivered at each awkward
moment — during a batch's extraction, while a batch is stored, between batches, inside a finaliser that
swallows the KeyboardInterrupt, after the last note, while the final outputs are written, after the
summary — ends the run with summary.json and errors.jsonl written and the documented exit code.

The signals are real (``signal.raise_signal`` in the test's main thread, through the run's own handler);
the run is the real chain on the 7 sample notes with the tiny checkpoint and two concepts."""

from __future__ import annotations

import json
import signal
import sys

import pytest

from kgqa.commands import run as run_module
from kgqa.config import RunConfig, compose, to_object
from kgqa.errors import EXIT_OK, EXIT_SIGINT, EXIT_SIGTERM, Interrupted
from kgqa.pipeline import Pipeline


@pytest.fixture
def cfg(tiny_checkpoint) -> RunConfig:
    overrides = ["store=memory", "model=local", f"model.path={tiny_checkpoint}", "catalogue.concepts=[age,sex]",
                 "summary_query=", "runner.notes_per_batch=2", "runner.progress=false"]  # fmt: skip
    return to_object(compose(overrides), RunConfig)


def _run(cfg: RunConfig, out_dir) -> tuple[dict, int]:
    return run_module.execute_with_signals(cfg, out_dir, config_yaml="test")


def _on_call(n: int, func, signum: int = signal.SIGINT, *, after: bool = False):
    """``func`` wrapped: its ``n``-th call delivers ``signum`` before (or after) doing its work."""
    calls = [0]

    def wrapped(*args, **kwargs):
        calls[0] += 1
        if calls[0] == n and not after:
            signal.raise_signal(signum)
        result = func(*args, **kwargs)
        if calls[0] == n and after:
            signal.raise_signal(signum)
        return result

    return wrapped


def _assert_stopped(out_dir, summary: dict, rc: int, signame: str = "SIGINT") -> None:
    assert summary["interrupted"] == signame
    assert rc == {"SIGINT": EXIT_SIGINT, "SIGTERM": EXIT_SIGTERM}[signame]
    assert json.loads((out_dir / "summary.json").read_text(encoding="utf-8")) == summary
    assert (out_dir / "errors.jsonl").is_file()
    notes = (out_dir / "notes.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(notes) == summary["notes"]


def test_an_uninterrupted_run_exits_0(cfg, tmp_path):
    summary, rc = _run(cfg, tmp_path)
    assert rc == EXIT_OK and "interrupted" not in summary and summary["notes"] == 7


@pytest.mark.parametrize("signum, signame", [(signal.SIGINT, "SIGINT"), (signal.SIGTERM, "SIGTERM")])
def test_during_a_batch(cfg, tmp_path, monkeypatch, signum, signame):
    # the second batch's extraction is cut short: its notes are dropped, the first batch's are reported
    monkeypatch.setattr(Pipeline, "process", _on_call(2, Pipeline.process, signum))
    summary, rc = _run(cfg, tmp_path)
    _assert_stopped(tmp_path, summary, rc, signame)
    assert summary["notes"] == 2


def test_while_a_batch_is_stored(cfg, tmp_path, monkeypatch):
    # a batch being stored is stored and written whole; the run stops after it
    opened = run_module.open_checked_store

    def open_store(c):
        store = opened(c)
        store.replace_graphs = _on_call(2, store.replace_graphs)
        return store

    monkeypatch.setattr(run_module, "open_checked_store", open_store)
    summary, rc = _run(cfg, tmp_path)
    _assert_stopped(tmp_path, summary, rc)
    assert summary["notes"] == 4


def test_between_batches(cfg, tmp_path, monkeypatch):
    read = run_module._iter_input

    def notes(c):
        for i, item in enumerate(read(c)):
            if i == 2:  # the first batch is stored; the third note is not read yet
                signal.raise_signal(signal.SIGINT)
            yield item

    monkeypatch.setattr(run_module, "_iter_input", notes)
    summary, rc = _run(cfg, tmp_path)
    _assert_stopped(tmp_path, summary, rc)
    assert summary["notes"] == 2


def test_an_interrupt_swallowed_by_a_finaliser_still_stops_the_run(cfg, tmp_path, monkeypatch):
    """Python prints "Exception ignored" for a KeyboardInterrupt raised in ``__del__`` and goes on; the
    run had recorded the signal and stops at the next note."""
    swallowed = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: swallowed.append(u.exc_type))

    class Finalised:
        def __del__(self):
            signal.raise_signal(signal.SIGINT)
            sum(range(10))  # Python code after the C call: the handler runs here and its Interrupted is lost

    process = Pipeline.process
    calls = [0]

    def process_with_a_finaliser(self, notes, run, on_note=None):
        calls[0] += 1
        if calls[0] == 2:
            Finalised()  # collected at once: __del__ runs inside the batch
        return process(self, notes, run, on_note)

    monkeypatch.setattr(Pipeline, "process", process_with_a_finaliser)
    summary, rc = _run(cfg, tmp_path)
    assert swallowed == [Interrupted]
    _assert_stopped(tmp_path, summary, rc)
    assert summary["notes"] == 2


def test_after_the_last_note(cfg, tmp_path, monkeypatch):
    monkeypatch.setattr(run_module.Progress, "close", _on_call(1, run_module.Progress.close))
    summary, rc = _run(cfg, tmp_path)
    _assert_stopped(tmp_path, summary, rc)
    assert summary["notes"] == 7


def test_while_the_final_outputs_are_written(cfg, tmp_path, monkeypatch):
    import kgqa.rdf

    monkeypatch.setattr(kgqa.rdf, "write_dataset", _on_call(1, kgqa.rdf.write_dataset, signal.SIGTERM))
    summary, rc = _run(cfg, tmp_path)
    _assert_stopped(tmp_path, summary, rc, "SIGTERM")
    assert summary["notes"] == 7 and (tmp_path / "graphs.trig").is_file() and (tmp_path / "run.nq").is_file()


def test_after_the_summary_is_written(cfg, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(run_module, "_finish", _on_call(1, run_module._finish, after=True))
    summary, rc = _run(cfg, tmp_path)
    # the run was complete; the summary stands, the exit code says a signal came
    assert rc == EXIT_SIGINT and "interrupted" not in summary and summary["notes"] == 7
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == summary
    assert run_module._Signals.pending is None


def test_during_start_up_nothing_is_written(cfg, tmp_path, monkeypatch):
    monkeypatch.setattr(run_module, "build_pipeline", _on_call(1, run_module.build_pipeline))
    with pytest.raises(Interrupted) as info:
        _run(cfg, tmp_path)
    assert info.value.signum == signal.SIGINT
    assert not (tmp_path / "summary.json").exists() and not (tmp_path / "notes.jsonl").exists()


def test_the_handlers_are_restored(cfg, tmp_path, monkeypatch):
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(Pipeline, "process", _on_call(1, Pipeline.process))
    _run(cfg, tmp_path)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
