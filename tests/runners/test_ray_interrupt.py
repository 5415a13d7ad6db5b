"""Ctrl-C / SIGTERM on ``runner=ray`` (issue 24, items 6 and 7): the run ends with summary.json and
errors.jsonl (the partitions complete by then loaded and counted, exit 130/143), and a re-run into the
same run directory extracts only the notes not done — partitions complete or cut short — ending with
the output of an uninterrupted run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kgqa import PROJECT_ROOT
from kgqa.errors import EXIT_SIGINT

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install -e '.[ray]'")

pytestmark = pytest.mark.integration


def _notes(tmp_path: Path) -> Path:
    """The sample notes three times over (distinct ids): 21 notes, enough to be cut short mid-partition."""
    from kgqa.notes import read_notes

    notes = read_notes(PROJECT_ROOT / "samples" / "notes").notes
    lines = [json.dumps({"id": f"{n.id}-{k}", "lang": n.lang, "patient_id": n.patient_id, "text": n.text},
                        ensure_ascii=False) for k in range(3) for n in notes]  # fmt: skip
    path = tmp_path / "notes.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _args(notes: Path, ckpt: Path, run_dir: Path, runner: str) -> list[str]:
    return [f"notes.path={notes}", "notes.format=jsonl", "store=memory", "model=local", f"model.path={ckpt}",
            "catalogue.concepts=[age,sex,onset_timestamp]", "output.nquads=true", "summary_query=",
            "run_id=test-run", "runner.progress=false", f"runner={runner}", "runner.partition_size=8",
            "runner.actors=1", "runner.cpus_per_actor=0.5", "runner.notes_per_batch=1",
            f"hydra.run.dir={run_dir}"]  # fmt: skip


def _kgqa_run(args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "kgqa", "run", *args], cwd=PROJECT_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def _records(run_dir: Path, name: str) -> list[str]:
    return sorted(json.dumps(json.loads(line), sort_keys=True)
                  for line in (run_dir / name).read_text(encoding="utf-8").splitlines() if line.strip())  # fmt: skip


def test_ctrl_c_ends_with_a_summary_and_the_rerun_skips_the_notes_done(tmp_path, tiny_checkpoint):
    notes = _notes(tmp_path)
    local_dir, run_dir = tmp_path / "local", tmp_path / "run"
    local = _kgqa_run(_args(notes, tiny_checkpoint, local_dir, "local"))
    assert local.wait(timeout=600) == 0, local.communicate()[1][-3000:]

    # 1. SIGINT once the first partition has checkpointed a note: it is cut short (or just complete)
    proc = _kgqa_run(_args(notes, tiny_checkpoint, run_dir, "ray"))
    first_partition = run_dir / "shards" / "part-00000.partial.jsonl"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()[-3000:]
        if first_partition.is_file() and len(first_partition.read_text(encoding="utf-8").splitlines()) >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == EXIT_SIGINT, err[-3000:]
    assert "Traceback" not in err
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert json.loads(out.strip().splitlines()[-1]) == summary
    assert summary["interrupted"] == "SIGINT" and summary["runner"] == "ray"
    done = summary["notes"] + summary.get("notes_checkpointed", 0)
    assert 1 <= done < 21 and summary["notes"] in (0, 5, 8, 13, 16)  # whole partitions (8, 8, 5) loaded
    assert (run_dir / "errors.jsonl").is_file() and len(_records(run_dir, "notes.jsonl")) == summary["notes"]

    # 2. the re-run into the same directory extracts only what was not done, and ends as a local run does
    rerun = _kgqa_run(_args(notes, tiny_checkpoint, run_dir, "ray"))
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err[-3000:]
    final = json.loads(out.strip().splitlines()[-1])
    assert final["notes_resumed"] == done and final["notes"] == 21 and "interrupted" not in final
    assert (run_dir / "graphs.nq").read_bytes() == (local_dir / "graphs.nq").read_bytes()
    assert _records(run_dir, "notes.jsonl") == _records(local_dir, "notes.jsonl")
    assert _records(run_dir, "facts.jsonl") == _records(local_dir, "facts.jsonl")
    assert not list((run_dir / "shards").glob("*.partial.jsonl"))
