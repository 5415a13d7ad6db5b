"""Note ingestion: formats, exact text, language, and bad input isolated per file."""

import json

import pytest

from kgqa import PROJECT_ROOT
from kgqa.errors import ConfigError
from kgqa.notes import detect_language, read_notes
from kgqa.types import text_sha256


def _write(path, data: bytes | str):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def test_sample_notes_cover_several_languages():
    batch = read_notes(PROJECT_ROOT / "samples" / "notes")
    assert not batch.errors
    assert {n.lang for n in batch.notes} == {"bg", "cs", "el", "en", "es", "pl", "ro"}
    bg = next(n for n in batch.notes if n.id == "bg-0007")
    assert bg.lang_source == "detected" and bg.patient_id is None
    en = next(n for n in batch.notes if n.id == "en-0001")
    assert en.patient_id == "P-1001" and str(en.admission_date) == "2025-03-12"


def test_text_is_kept_exactly_as_read(tmp_path):
    raw = "Line one\r\n\tNIHSS\u00a08\u200b b.\r\nκ 😀\n"
    _write(tmp_path / "a.txt", raw)
    _write(tmp_path / "a.json", json.dumps({"lang": "cs", "patient_id": 7, "admission_date": "2025-01-02", "ward": "S"}))
    (note,) = read_notes(tmp_path).notes
    assert note.text == raw
    assert note.sha256 == text_sha256(raw)
    assert note.patient_id == "7" and note.metadata["ward"] == "S"


def test_bad_input_is_reported_per_file_and_batch_continues(tmp_path):
    _write(tmp_path / "good.txt", "Patient admitted with ischemic stroke, NIHSS 4.")
    _write(tmp_path / "good.json", '{"lang": "en"}')
    _write(tmp_path / "latin1.txt", "P\xf8\xedjem".encode("latin-1"))
    _write(tmp_path / "empty.txt", "   \n")
    _write(tmp_path / "binary.txt", b"\x89PNG\x00\x00\x00")
    _write(tmp_path / "huge.txt", "x" * 5000)
    _write(tmp_path / "bad-sidecar.txt", "Some note text in English.")
    _write(tmp_path / "bad-sidecar.json", "{not json")
    _write(tmp_path / "german.txt", "Hallo")
    _write(tmp_path / "german.json", '{"lang": "de"}')
    _write(tmp_path / "image.png", b"\x89PNG")
    batch = read_notes(tmp_path, max_bytes=1000)
    assert [n.id for n in batch.notes] == ["good"]
    reasons = {e.source.split("/")[-1]: e.reason for e in batch.errors}
    assert "cannot be decoded" in reasons["latin1.txt"] and "latin1.txt" in reasons["latin1.txt"]
    assert "empty note" in reasons["empty.txt"]
    assert "binary" in reasons["binary.txt"]
    assert "over the limit" in reasons["huge.txt"]
    assert "not valid JSON" in reasons["bad-sidecar.txt"]
    assert "'de'" in reasons["german.txt"]
    assert "not a .txt" in reasons["image.png"]
    assert "skipped" in batch.summary()


def test_duplicate_ids_are_errors(tmp_path):
    _write(tmp_path / "a.txt", "First note text here.")
    _write(tmp_path / "a.json", '{"lang": "en", "id": "same"}')
    _write(tmp_path / "b.txt", "Second note text here.")
    _write(tmp_path / "b.json", '{"lang": "en", "id": "same"}')
    batch = read_notes(tmp_path)
    assert len(batch.notes) == 1
    assert "duplicate note id 'same'" in batch.errors[0].reason


def test_jsonl(tmp_path):
    lines = [
        json.dumps({"id": "n1", "patient_id": "P1", "lang": "es", "text": "Ictus isquémico.\r\n", "metadata": {"a": 1}}),
        "",
        "{broken",
        json.dumps({"id": "n2", "lang": "es", "text": ""}),
        json.dumps({"id": "n3", "lang": "en"}),
        json.dumps({"id": "n1", "lang": "es", "text": "again"}),
        json.dumps({"id": 4, "lang": "pl", "text": "Udar niedokrwienny mózgu."}),
    ]
    _write(tmp_path / "notes.jsonl", "\n".join(lines) + "\n")
    batch = read_notes(tmp_path / "notes.jsonl")
    assert [n.id for n in batch.notes] == ["n1", "4"]
    assert batch.notes[0].text == "Ictus isquémico.\r\n" and batch.notes[0].metadata["a"] == 1
    sources = [e.source for e in batch.errors]
    assert sources == [f"{tmp_path / 'notes.jsonl'}:{i}" for i in (3, 4, 5, 6)]
    assert batch.errors[0].reason.endswith("not valid JSON (Expecting property name enclosed in double quotes at column 2)")


def test_brat_folder(tmp_path):
    _write(tmp_path / "doc1.txt", "Paciente con ictus isquémico agudo y fibrilación auricular.")
    _write(tmp_path / "doc1.ann", "T1\tDIAG 14 28\tictus isquémico\n")
    batch = read_notes(tmp_path, default_lang="es")
    assert [n.id for n in batch.notes] == ["doc1"] and not batch.errors


@pytest.mark.parametrize(
    "text, lang",
    [
        ("Пациентът е приет с остър исхемичен мозъчен инсулт.", "bg"),
        ("Pacient byl přijat s akutní cévní mozkovou příhodou.", "cs"),
        ("Ο ασθενής εισήχθη με οξύ ισχαιμικό εγκεφαλικό επεισόδιο.", "el"),
        ("The patient was admitted with an acute ischemic stroke.", "en"),
        ("El paciente ingresó por un ictus isquémico agudo.", "es"),
        ("Pacjent został przyjęty z ostrym udarem niedokrwiennym.", "pl"),
        ("Pacientul a fost internat cu accident vascular cerebral acut.", "ro"),
    ],
)
def test_language_detection(text, lang):
    assert detect_language(text) == lang


def test_missing_path_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        read_notes(tmp_path / "nope")
