"""A hostile notes directory: every entry that is not a readable note is reported with its reason,
UTF-16 notes are read when ``notes.encoding`` allows it, oversized inputs are refused without being
read whole, and file names (which may carry patient names) reach logs only with ``debug_phi``."""

from __future__ import annotations

import codecs
import json
import logging
import os
import tracemalloc

import pytest

from kgqa.errors import ConfigError
from kgqa.notes import iter_notes, log_reason, read_notes, source_tag
from kgqa.types import Note, NoteError

TEXT = "Patient admitted with ischemic stroke, NIHSS 4. Thrombolysis given at 14:35."
PATIENT = "Jana_Novakova"  # a file name that names a patient


@pytest.fixture
def hostile_dir(tmp_path):
    d = tmp_path / "notes"
    d.mkdir()
    (d / "good.txt").write_text(TEXT, encoding="utf-8")
    os.symlink(d / "no-such-target.txt", d / "dangling.txt")
    (d / "folder.txt").mkdir()  # a directory named like a note
    (d / "folder.txt" / "inner.txt").write_text(TEXT, encoding="utf-8")
    (d / "utf16.txt").write_bytes(codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"))
    (d / "utf16be.txt").write_bytes(codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"))
    (d / "utf8bom.txt").write_bytes(codecs.BOM_UTF8 + TEXT.encode("utf-8"))
    (d / "utf16-nobom.txt").write_bytes(TEXT.encode("utf-16-le"))
    (d / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (d / f"{PATIENT}.txt").write_text("   \n", encoding="utf-8")
    os.mkfifo(d / "pipe.txt")  # reading it would block the run forever
    for name in ("good", "utf16", "utf16be", "utf8bom"):
        (d / f"{name}.json").write_text(json.dumps({"lang": "en"}), encoding="utf-8")
    (d / "folder.txt" / "inner.json").write_text(json.dumps({"lang": "en"}), encoding="utf-8")
    return d


def _by_name(items):
    notes = {n.source.rsplit("/", 1)[-1]: n for n in items if isinstance(n, Note)}
    errors = {e.source.rsplit("/", 1)[-1]: e.reason for e in items if isinstance(e, NoteError)}
    return notes, errors


def test_every_hostile_entry_is_reported_with_its_reason(hostile_dir):
    notes, errors = _by_name(list(iter_notes(hostile_dir, default_lang="en")))
    assert set(notes) == {"good.txt", "inner.txt", "utf8bom.txt"}
    assert "dangling symbolic link" in errors["dangling.txt"]
    assert "a directory, not a note file" in errors["folder.txt"]
    assert "not a regular file" in errors["pipe.txt"]
    assert "UTF-16 byte-order mark" in errors["utf16.txt"] and "notes.encoding=auto" in errors["utf16.txt"]
    assert "UTF-16 byte-order mark" in errors["utf16be.txt"]
    assert "binary" not in errors["utf16.txt"]
    assert "UTF-16 without a byte-order mark" in errors["utf16-nobom.txt"]
    assert "binary file (NUL bytes)" in errors["binary.txt"]
    assert "empty note" in errors[f"{PATIENT}.txt"]
    # the UTF-8 mark is kept as read under utf-8 (offsets refer to the text as read)
    assert notes["utf8bom.txt"].text == "\ufeff" + TEXT


def test_auto_encoding_reads_byte_order_marks(hostile_dir):
    notes, errors = _by_name(list(iter_notes(hostile_dir, default_lang="en", encoding="auto")))
    assert {"utf16.txt", "utf16be.txt", "utf8bom.txt", "good.txt"} <= set(notes)
    for name in ("utf16.txt", "utf16be.txt", "utf8bom.txt"):
        assert notes[name].text == TEXT  # the mark is not part of the text
    assert "UTF-16 without a byte-order mark" in errors["utf16-nobom.txt"]
    assert "dangling symbolic link" in errors["dangling.txt"]


def test_unknown_encoding_is_a_config_error(hostile_dir):
    with pytest.raises(ConfigError, match="notes.encoding='utf-17'"):
        list(iter_notes(hostile_dir, encoding="utf-17"))


def test_skipped_lines_give_the_reason_but_no_file_name(hostile_dir, caplog):
    with caplog.at_level(logging.WARNING, logger="kgqa.notes"):
        batch = read_notes(hostile_dir, default_lang="en")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert PATIENT not in logged and str(hostile_dir) not in logged
    assert f"skipped: {source_tag(str(hostile_dir / (PATIENT + '.txt')))}: empty note" in logged
    assert "dangling symbolic link" in logged and "a directory, not a note file" in logged
    assert PATIENT not in batch.summary()
    with caplog.at_level(logging.WARNING, logger="kgqa.notes"):
        caplog.clear()
        read_notes(hostile_dir, default_lang="en", debug_phi=True)
    assert PATIENT in "\n".join(r.getMessage() for r in caplog.records)


def test_log_reason_hides_sidecars_ids_and_first_sources():
    src = f"/data/{PATIENT}.txt"
    sidecar = NoteError(source=src, reason=f"/data/{PATIENT}.json: sidecar is not valid JSON (x)")
    dup = NoteError(source=src, note_id=PATIENT, reason=f"{src}: duplicate note id '{PATIENT}' (first read from /d/{PATIENT}2.txt)")
    for e in (sidecar, dup):
        assert PATIENT not in log_reason(e) and log_reason(e).startswith(source_tag(src))
        assert log_reason(e, debug_phi=True) == e.reason
    assert "duplicate note id" in log_reason(dup)


def test_an_oversized_file_is_refused_without_being_read(tmp_path):
    big = tmp_path / "big.txt"
    with big.open("wb") as fh:  # sparse: 512 MB on paper, nothing on disk
        fh.truncate(512 * 1024 * 1024)
    tracemalloc.start()
    try:
        (err,) = list(iter_notes(tmp_path, default_lang="en", max_bytes=10_000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(err, NoteError) and "536870912 bytes is over the limit of 10000" in err.reason
    assert peak < 5_000_000


def test_an_oversized_jsonl_line_is_refused_without_being_held(tmp_path):
    path = tmp_path / "notes.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "a", "lang": "en", "text": TEXT}) + "\n")
        fh.write(json.dumps({"id": "huge", "lang": "en", "text": "x" * 30_000_000}) + "\n")
        fh.write(json.dumps({"id": "b", "lang": "en", "text": TEXT}) + "\n")
    tracemalloc.start()
    try:
        items = list(iter_notes(path, max_bytes=100_000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [n.id for n in items if isinstance(n, Note)] == ["a", "b"]
    (err,) = [e for e in items if isinstance(e, NoteError)]
    assert err.source.endswith("notes.jsonl:2") and "over the limit of 100000" in err.reason
    assert peak < 10_000_000


def test_kgqa_run_reports_every_hostile_entry_and_logs_no_file_name(hostile_dir, tmp_path, tiny_checkpoint):
    import subprocess
    import sys

    from kgqa import PROJECT_ROOT

    run_dir = tmp_path / "run"
    out = subprocess.run(
        [sys.executable, "-m", "kgqa", "run", f"notes.path={hostile_dir}", "notes.default_lang=en",
         "store=memory", "model=local", f"model.path={tiny_checkpoint}", "catalogue.concepts=[nihss_score]",
         "summary_query=", f"hydra.run.dir={run_dir}"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900, check=False,
    )
    assert out.returncode == 1, out.stderr[-3000:]  # finished, with inputs skipped
    errors = {json.loads(line)["source"].rsplit("/", 1)[-1]: json.loads(line)["reason"]
              for line in (run_dir / "errors.jsonl").read_text(encoding="utf-8").splitlines()}
    assert "dangling symbolic link" in errors["dangling.txt"]
    assert "a directory, not a note file" in errors["folder.txt"]
    assert "not a regular file" in errors["pipe.txt"]
    assert "UTF-16 without a byte-order mark" in errors["utf16-nobom.txt"]
    assert "empty note" in errors[f"{PATIENT}.txt"]
    assert "UTF-16 byte-order mark" in errors["utf16.txt"] and "notes.encoding=auto" in errors["utf16.txt"]
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["notes"] == 3  # good.txt, folder.txt/inner.txt, utf8bom.txt
    console = out.stdout + out.stderr
    assert PATIENT not in console and "skipped: input-" in console and "dangling symbolic link" in console
    for log_file in run_dir.glob("*.log"):
        assert PATIENT not in log_file.read_text(encoding="utf-8")


def test_kgqa_run_reads_utf16_notes_with_auto_encoding(hostile_dir, tmp_path, tiny_checkpoint):
    import subprocess
    import sys

    from kgqa import PROJECT_ROOT

    run_dir = tmp_path / "run"
    out = subprocess.run(
        [sys.executable, "-m", "kgqa", "run", f"notes.path={hostile_dir}", "notes.default_lang=en",
         "notes.encoding=auto", "store=memory", "model=local", f"model.path={tiny_checkpoint}",
         "catalogue.concepts=[nihss_score]", "summary_query=", f"hydra.run.dir={run_dir}"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900, check=False,
    )
    assert out.returncode == 1, out.stderr[-3000:]  # the broken entries are still skipped
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["notes"] == 5  # the UTF-16 notes (LE and BE) are read too
