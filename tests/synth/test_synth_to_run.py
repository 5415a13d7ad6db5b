"""``kgqa synth`` writes notes that ``kgqa run`` reads: kgqa's tagged record encoding
(``{"$date": …}``) and plain ISO strings are both accepted by the note reader, and a records_io
round-trip of a note is exact."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

from kgqa import PROJECT_ROOT
from kgqa.commands import synth
from kgqa.notes import iter_notes
from kgqa.records_io import read_notes_jsonl, write_notes_jsonl
from kgqa.types import Note, NoteError


def test_synth_notes_are_read_as_written(tmp_path, capsys):
    assert synth.main(["--out", str(tmp_path), "--n", "4", "--langs", "en,cs", "--formats", "notes,gold,text"]) == 0
    path = tmp_path / "train.notes.jsonl"
    assert '"$date"' in path.read_text(encoding="utf-8")  # synth writes kgqa's record encoding
    items = list(iter_notes(path, fmt="jsonl"))
    assert not [i for i in items if isinstance(i, NoteError)]
    written = read_notes_jsonl(path)
    assert len(items) == len(written) == 8
    for read, note in zip(items, written, strict=True):
        assert isinstance(read, Note)
        assert (read.id, read.text, read.lang, read.patient_id, read.admission_date, read.sha256) == (
            note.id, note.text, note.lang, note.patient_id, note.admission_date, note.sha256)
        assert isinstance(read.admission_date, dt.date) and dict(read.metadata) == dict(note.metadata)
        assert not {"source", "lang_source", "sha256"} & set(read.metadata)


def test_tagged_and_plain_dates_and_a_tampered_record(tmp_path):
    note = Note(id="n1", text="Admitted with stroke.", lang="en", admission_date=dt.date(2025, 3, 12),
                metadata={"seen": dt.date(2025, 3, 13)})
    path = tmp_path / "notes.jsonl"
    write_notes_jsonl([note], path)
    record = json.loads(path.read_text(encoding="utf-8"))
    plain = {"id": "n2", "lang": "en", "text": "Another note.", "admission_date": "2025-03-12"}
    tampered = {**record, "id": "n3", "text": record["text"] + " Edited."}
    bad = {"id": "n4", "lang": "en", "text": "x", "admission_date": {"$date": "12.03.2025"}}
    path.write_text("\n".join(json.dumps(r) for r in (record, plain, tampered, bad)) + "\n", encoding="utf-8")
    n1, n2, n3, n4 = iter_notes(path, fmt="jsonl")
    assert isinstance(n1, Note) and n1.admission_date == dt.date(2025, 3, 12)
    assert n1.metadata["seen"] == dt.date(2025, 3, 13)
    assert isinstance(n2, Note) and n2.admission_date == dt.date(2025, 3, 12)
    assert isinstance(n3, NoteError) and "sha256 does not match" in n3.reason
    assert isinstance(n4, NoteError) and "is not an ISO date" in n4.reason


def test_kgqa_run_on_synth_notes_fails_no_note(tmp_path, tiny_checkpoint):
    data, run_dir = tmp_path / "synth", tmp_path / "run"

    def kgqa(*args):
        return subprocess.run([sys.executable, "-m", "kgqa", *args], cwd=PROJECT_ROOT, capture_output=True,
                              text=True, timeout=900, check=False)

    out = kgqa("synth", "--out", str(data), "--n", "3", "--langs", "en", "--formats", "notes,gold,text")
    assert out.returncode == 0, out.stderr[-2000:]
    out = kgqa("run", f"notes.path={data / 'train.notes.jsonl'}", "notes.format=jsonl", "store=memory",
               "model=local", f"model.path={tiny_checkpoint}", "catalogue.groups=[thrombolysis]",
               f"hydra.run.dir={run_dir}", "summary_query=")
    assert out.returncode == 0, out.stderr[-4000:]
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["notes"] == 3 and summary["notes_failed"] == 0
    assert (run_dir / "errors.jsonl").read_text(encoding="utf-8") == ""
    assert {n.admission_date for n in read_notes_jsonl(run_dir / "notes.jsonl")} != {None}

    # kgqa eval scores the run's own facts (--run) exactly as it scores a fresh extraction of the same notes
    gold = str(data / "train.gold.jsonl")
    same = ["--concepts", "all", "catalogue.groups=[thrombolysis]", "model=local", f"model.path={tiny_checkpoint}"]
    from_run = kgqa("eval", gold, "--run", str(run_dir), "--out", str(tmp_path / "eval-run"), *same)
    assert from_run.returncode == 0, from_run.stderr[-3000:]
    fresh = kgqa("eval", gold, "--out", str(tmp_path / "eval-fresh"), *same)
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert json.loads(from_run.stdout.splitlines()[-1]) == json.loads(fresh.stdout.splitlines()[-1])
    report = json.loads((tmp_path / "eval-run" / "report.json").read_text(encoding="utf-8"))
    assert report["model"]["run_dir"] == str(run_dir)
    # a run that read other texts under the same ids cannot be scored by offsets
    notes = (run_dir / "notes.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(notes[0])
    first["text"], first["sha256"] = first["text"] + " x", ""
    (run_dir / "notes.jsonl").write_text("\n".join([json.dumps(first), *notes[1:]]) + "\n", encoding="utf-8")
    bad = kgqa("eval", gold, "--run", str(run_dir), "--out", str(tmp_path / "eval-bad"), *same)
    assert bad.returncode != 0 and "read other texts than the gold file" in bad.stderr
