"""runner=ray in local mode (2 CPUs): same output as runner=local, resume after a kill, failures isolated."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kgqa import PROJECT_ROOT

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install -e '.[ray]'")

pytestmark = pytest.mark.integration



def _notes_jsonl(tmp_path: Path) -> Path:
    from kgqa.notes import read_notes

    notes = read_notes(PROJECT_ROOT / "samples" / "notes").notes
    lines = [json.dumps({"id": n.id, "lang": n.lang, "patient_id": n.patient_id, "text": n.text}, ensure_ascii=False) for n in notes]
    lines.insert(3, '{"id": "broken", "lang": "en", "text": ')  # one bad note, in the second partition
    lines.append(lines[0])  # the first note again, alone in the fifth partition: left out by both runners
    path = tmp_path / "notes.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _overrides(notes, ckpt, concepts):
    return [
        f"notes.path={notes}",
        "notes.format=jsonl",
        "store=memory",
        "model=local",
        f"model.path={ckpt}",
        f"catalogue.concepts={concepts}",
        "output.nquads=true",
        "summary_query=",
        "run_id=test-run",
        "runner.progress=false",
        "runner.partition_size=2",
        "runner.actors=2",
        "runner.cpus_per_actor=0.5",
    ]


def _kgqa_run(args, cwd=PROJECT_ROOT, **popen):
    return subprocess.Popen(
        [sys.executable, "-m", "kgqa", "run", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


#: exit codes of a run that finished: 0, or 1 when some notes failed (the fixture has a broken line)
_FINISHED = (0, 1)


def _summary(proc):
    out, err = proc.communicate(timeout=600)
    assert proc.returncode in _FINISHED, err[-4000:]
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def concepts():
    from kgqa.catalogue import load_catalogue
    from kgqa.config import compose

    catalogue = load_catalogue(compose([]).catalogue.path)
    ids = [c.id for c in catalogue][:3]
    return "[" + ",".join(ids) + "]"


@pytest.fixture(scope="module")
def local_reference(tmp_path_factory, tiny_checkpoint, concepts):
    tmp = tmp_path_factory.mktemp("local")
    notes = _notes_jsonl(tmp)
    summary = _summary(_kgqa_run([*_overrides(notes, tiny_checkpoint, concepts), "runner=local", f"hydra.run.dir={tmp / 'run'}"]))
    return notes, summary, (tmp / "run" / "graphs.nq").read_bytes(), tmp / "run"


def _records(run_dir: Path, name: str) -> list[str]:
    lines = (run_dir / name).read_text(encoding="utf-8").splitlines()
    return sorted(json.dumps(json.loads(line), sort_keys=True) for line in lines)


def test_ray_output_is_identical_to_local_and_bad_note_is_isolated(tmp_path, tiny_checkpoint, concepts, local_reference):
    notes, local_summary, local_nq, local_dir = local_reference
    run_dir = tmp_path / "run"
    proc = _kgqa_run([*_overrides(notes, tiny_checkpoint, concepts), "runner=ray", f"hydra.run.dir={run_dir}"])
    out, err = proc.communicate(timeout=600)
    assert proc.returncode in _FINISHED, err[-4000:]
    summary = json.loads(out.strip().splitlines()[-1])
    # Ray Data's progress blocks and its starvation warning (actors loading their model) stay in Ray's log
    assert "may hang forever" not in err and "Total Progress" not in err and "Progress bars disabled" not in err
    assert len(err.splitlines()) < 10, err
    assert summary["partitions"] == 5 and summary["partitions_failed"] == 0
    assert summary["notes"] == local_summary["notes"] == 7
    assert summary["facts"] == local_summary["facts"] > 0  # counted from the partitions, not left at 0
    assert (run_dir / "graphs.nq").read_bytes() == local_nq
    # the broken line is reported by its own partition, the other partitions are clean
    reports = {p.name: p.read_text(encoding="utf-8") for p in (run_dir / "shards").glob("*.errors.jsonl")}
    assert len(reports) == 5
    assert [name for name, text in reports.items() if text.strip()] == ["part-00001.errors.jsonl"]
    assert f"{notes}:4" in reports["part-00001.errors.jsonl"]
    # the repeated note id is found by the driver across partitions, as the local runner finds it
    errors = [json.loads(line) for line in (run_dir / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    (duplicate,) = [e for e in errors if "duplicate note id" in e["reason"]]
    assert duplicate["source"] == "part-00004" and "first in partition 0" in duplicate["reason"]
    # the run directory holds the run's records, as runner=local writes them (the repeated note left out)
    assert _records(run_dir, "notes.jsonl") == _records(local_dir, "notes.jsonl")
    assert _records(run_dir, "facts.jsonl") == _records(local_dir, "facts.jsonl")
    assert len(_records(run_dir, "facts.jsonl")) == local_summary["facts"] > 0
    report = subprocess.run([sys.executable, "-m", "kgqa", "report", str(run_dir)], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=300, check=False)
    assert report.returncode == 0, report.stderr[-3000:]
    assert json.loads(report.stdout.strip().splitlines()[-1])["facts"] == local_summary["facts"]


def test_resume_after_killed_run(tmp_path, tiny_checkpoint, concepts, local_reference):
    notes, _, local_nq, _ = local_reference
    run_dir = tmp_path / "run"
    args = [*_overrides(notes, tiny_checkpoint, concepts), "runner=ray", "runner.actors=1", f"hydra.run.dir={run_dir}"]
    proc = _kgqa_run(args, start_new_session=True)
    shards = run_dir / "shards"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not list(shards.glob("*.manifest.json")):
        assert proc.poll() is None, proc.stderr.read()[-3000:]
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver, the local Ray cluster and its workers
    proc.wait()
    finished_before = len(list(shards.glob("*.manifest.json")))
    assert 1 <= finished_before

    summary = _summary(_kgqa_run(args))
    assert summary["partitions_resumed"] >= finished_before
    if finished_before < 5:
        assert summary["partitions_resumed"] < 5
    assert (run_dir / "graphs.nq").read_bytes() == local_nq
