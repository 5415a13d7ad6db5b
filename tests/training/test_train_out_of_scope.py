"""Out-of-scope notes as unanswerable QA examples (``format: out_of_scope``)."""

import pytest

from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue
from kgqa.errors import ConfigError
from kgqa.types import Concept
from training.config import QaDatasetConfig
from training.out_of_scope import load_out_of_scope
from training.qa import load_examples

CATALOGUE = tuple(load_catalogue(DEFAULT_CATALOGUE).concepts)
QUESTION = {c.id: c.questions for c in CATALOGUE}
FRACTURE = "Paciente de 34 años con fractura de radio distal tras caída casual. Se inmoviliza con yeso."
ORCHITIS = "Varón de 27 años con dolor testicular de 3 días de evolución. Ecografía: orquiepididimitis."


@pytest.fixture
def notes(tmp_path):
    (tmp_path / "b.txt").write_text(FRACTURE, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text(ORCHITIS, encoding="utf-8")
    (tmp_path / "c.txt").write_text("Ingresa por ictus isquémico; NIHSS 6.", encoding="utf-8")
    (tmp_path / "d.txt").write_text("  \n", encoding="utf-8")
    (tmp_path / "e.txt").write_bytes("Paciente con fiebre.".encode("latin-1") + b"\xe9\xff")
    (tmp_path / "notes.md").write_text("not a note", encoding="utf-8")
    return tmp_path


def test_every_kept_note_asks_every_concept_unanswerably(notes):
    examples, report = load_out_of_scope(
        notes, dataset="oos", lang="es", concepts=["thrombolysis", "nihss_score"], catalogue=CATALOGUE,
        exclude_pattern="ICTUS|nihss",
    )
    assert [e.id for e in examples] == [
        "b::thrombolysis", "b::nihss_score", "sub/a::thrombolysis", "sub/a::nihss_score",
    ]
    assert all(e.is_impossible and e.answers == () and e.dataset == "oos" and e.lang == "es" for e in examples)
    assert examples[0].context == FRACTURE and examples[2].context == ORCHITIS
    # the question the reader asks a Spanish note: the catalogue's first Spanish phrasing
    assert examples[0].question == QUESTION["thrombolysis"]["es"][0]
    assert examples[1].question == QUESTION["nihss_score"]["es"][0]
    assert report.examples == report.unanswerable == 4
    assert dict(report.skipped) == {"matches exclude_pattern": 1, "empty note": 1, "not UTF-8": 1}
    limited, _ = load_out_of_scope(notes, dataset="oos", lang="en", concepts=["thrombolysis"], catalogue=CATALOGUE,
                                   exclude_pattern="ictus", limit=1)
    assert [e.id for e in limited] == ["b::thrombolysis"]
    assert limited[0].question == QUESTION["thrombolysis"]["en"][0]  # a question in another language: allowed


def test_mistakes_are_config_errors_naming_the_field(notes):
    def load(**kw):
        args = {"dataset": "oos", "lang": "es", "concepts": ["thrombolysis"], "catalogue": CATALOGUE, **kw}
        return load_out_of_scope(args.pop("path", notes), **args)

    with pytest.raises(ConfigError, match=r"data\.\*\.oos\.concepts is empty"):
        load(concepts=[])
    with pytest.raises(ConfigError, match="no_such_concept not in the catalogue"):
        load(concepts=["thrombolysis", "no_such_concept"])
    english_only = (Concept(id="x", group="g", kind="text", target_class="t", questions={"en": ("What?",)}),)
    with pytest.raises(ConfigError, match="no question in 'es'"):
        load(concepts=["x"], catalogue=english_only)
    with pytest.raises(ConfigError, match="exclude_pattern='ictus\\(' is not a regular expression"):
        load(exclude_pattern="ictus(")
    with pytest.raises(ConfigError, match="is not a directory"):
        load(path=notes / "b.txt")
    with pytest.raises(ConfigError, match="no usable .txt note"):
        load(exclude_pattern=".")


def test_training_data_config_loads_them_beside_squad_files(notes):
    datasets = {
        "oos": QaDatasetConfig(
            path=str(notes), format="out_of_scope", lang="es", concepts=["thrombectomy"], exclude_pattern="ictus"
        )
    }
    examples, reports = load_examples(datasets, "train")
    assert [e.id for e in examples] == ["b::thrombectomy", "sub/a::thrombectomy"]
    assert reports[0].dataset == "oos" and reports[0].unanswerable == 2
    with pytest.raises(ConfigError, match="or out_of_scope"):
        load_examples({"x": QaDatasetConfig(path=str(notes / "b.txt"), format="txt")}, "train")


def test_out_of_scope_fields_on_another_format_are_refused(notes):
    squad = QaDatasetConfig(path=str(notes / "b.txt"), format="squad", concepts=["thrombolysis"])
    with pytest.raises(ConfigError, match=r"data\.train\.x: concepts and exclude_pattern belong to format out_of_scope"):
        load_examples({"x": squad}, "train")
