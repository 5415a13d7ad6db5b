"""The reader end to end on a tiny random XLM-R checkpoint saved with save_pretrained.

Random weights give meaningless answers, so these tests check invariants (exact offsets, trimmed
edges, shapes of the output, config switches), never which span is "right".
"""

from __future__ import annotations

import hashlib
import shutil

import numpy as np
import pytest

from kgqa.errors import ConfigError, ModelLoadError, RecordError
from kgqa.qa import Calibration, Reader
from kgqa.qa.config import ModelConfig, ReaderConfig, WindowConfig
from kgqa.qa.trimming import trim_span
from kgqa.types import Concept, Note

ALWAYS_ANSWER = -1e9  # a null threshold every span passes: exercises offsets on every note


@pytest.fixture(scope="module")
def reader(tiny_checkpoint) -> Reader:
    cfg = ReaderConfig(null_threshold=ALWAYS_ANSWER, max_answers_per_list=5, batch_size=8)
    return Reader.from_config(ModelConfig(path=str(tiny_checkpoint)), cfg)


def assert_exact_and_trimmed(answers, notes_by_id) -> None:
    for a in answers:
        note = notes_by_id[a.note_id]
        a.check_against(note)
        assert note.text[a.start : a.end] == a.text
        # trimming is idempotent on every emitted span: no blank or stray punctuation at the edges
        assert trim_span(note.text, a.start, a.end) == (a.start, a.end)
        assert 0.0 <= a.confidence <= 1.0


def test_offsets_exact_in_all_seven_scripts(reader, script_notes, concepts) -> None:
    result = reader.read(script_notes, concepts)
    assert set(result) == {n.id for n in script_notes}
    by_id = {n.id: n for n in script_notes}
    for note_id, answers in result.items():
        assert answers, f"{note_id}: an always-answer threshold must yield spans"
        assert_exact_and_trimmed(answers, by_id)


def test_every_candidate_is_an_exact_trimmed_slice(reader, script_notes, concepts) -> None:
    """Not only the winners: every span the decoder considered, for every script."""
    pairs = reader.pairs(script_notes, concepts)
    for pair, decoded in zip(pairs, reader.decode_pairs(pairs)):
        text = pair.note.text
        assert decoded.candidates
        for span in decoded.candidates:
            assert 0 <= span.start < span.end <= len(text)
            assert trim_span(text, span.start, span.end) == (span.start, span.end)


def test_list_concepts_give_several_non_overlapping_answers(reader, script_notes, concepts) -> None:
    result = reader.read(script_notes, concepts)
    for answers in result.values():
        drugs = sorted((a for a in answers if a.concept_id == "drugs"), key=lambda a: a.rank)
        singles = [a for a in answers if a.concept_id == "nihss_admission"]
        assert len(singles) == 1
        assert 1 <= len(drugs) <= 5
        assert [a.rank for a in drugs] == list(range(len(drugs)))
        assert [a.score for a in drugs] == sorted((a.score for a in drugs), reverse=True)
        for i, a in enumerate(drugs):
            for b in drugs[i + 1 :]:
                assert a.end <= b.start or b.end <= a.start


def test_question_language_follows_config(tiny_checkpoint, script_notes, concepts) -> None:
    for question_lang, expected in [("note", {"note-el": "el", "note-pl": "en"}), ("en", {"note-el": "en"})]:
        cfg = ReaderConfig(null_threshold=ALWAYS_ANSWER, question_lang=question_lang)
        reader = Reader.from_config(ModelConfig(path=str(tiny_checkpoint)), cfg)
        result = reader.read(script_notes, concepts)
        for note_id, lang in expected.items():
            nihss = [a for a in result[note_id] if a.concept_id == "nihss_admission"]
            assert nihss[0].question_lang == lang
            assert nihss[0].question == concepts[0].questions[lang][0]


def test_loads_a_save_pretrained_checkpoint_and_reports_its_digest(reader, tiny_checkpoint) -> None:
    info = reader.model_info
    assert info.path == str(tiny_checkpoint)
    weights = tiny_checkpoint / "model.safetensors"
    assert info.sha256 == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert info.name


def test_build_tiny_when_the_path_is_empty(tmp_path) -> None:
    target = tmp_path / "fresh"
    reader = Reader.from_config(ModelConfig(path=str(target), build_tiny=True), ReaderConfig())
    assert (target / "config.json").is_file()
    assert reader.model_info.path == str(target)


@pytest.mark.parametrize(
    "model_cfg,reader_cfg,error,key",
    [
        (ModelConfig(path="/nonexistent/ckpt"), ReaderConfig(), ModelLoadError, "model.path"),
        # a hub id that is not in the local cache: never downloaded
        (ModelConfig(path="kgqa-tests/not-cached-anywhere"), ReaderConfig(), ModelLoadError, "model.path"),
        (None, ReaderConfig(precision="fp8"), ConfigError, "reader.precision"),
        (None, ReaderConfig(device="tpu"), ConfigError, "reader.device"),
        (None, ReaderConfig(question_lang="fr"), ConfigError, "reader.question_lang"),
    ],
)
def test_bad_config_names_the_key(tiny_checkpoint, model_cfg, reader_cfg, error, key) -> None:
    with pytest.raises(error, match=key):
        Reader.from_config(model_cfg or ModelConfig(path=str(tiny_checkpoint)), reader_cfg)


def test_empty_inputs(reader, script_notes, concepts) -> None:
    assert reader.read(script_notes[:2], []) == {script_notes[0].id: [], script_notes[1].id: []}
    assert reader.read([], concepts) == {}


def test_duplicate_note_ids_are_refused(reader, script_notes, concepts) -> None:
    with pytest.raises(RecordError, match=script_notes[0].id):
        reader.read([script_notes[0], script_notes[0]], concepts)


def test_note_without_tokens_gives_no_answers(reader, concepts) -> None:
    note = Note(id="zw", text="\u200b\u200b", lang="en")  # not blank to str.strip, nothing to tokenise
    assert reader.read([note], concepts) == {"zw": []}


def test_long_note_is_windowed_and_read(reader, concepts, script_notes) -> None:
    text = "\r\n".join(script_notes[i % 7].text for i in range(400))  # ~40,000 characters
    note = Note(id="long", text=text, lang="en")
    assert len(text) > 30_000
    pairs = reader.pairs([note], concepts)
    from kgqa.qa.windowing import encode_windows

    windows = encode_windows(reader.tokenizer, [pairs[0].question], [text], reader.cfg.window)
    assert len(windows) > 20
    result = reader.read([note], concepts)
    assert_exact_and_trimmed(result["long"], {"long": note})
    # answers from late windows come back with offsets into the whole note
    assert max(a.end for a in result["long"]) <= len(text)


def test_over_long_question_is_cut_not_fatal(tiny_checkpoint, script_notes) -> None:
    question = "What was the NIHSS score on admission? " * 60
    concept = Concept(id="long_q", group="g", kind="integer", target_class="x", questions={"en": (question,)})
    window = WindowConfig(max_seq_length=64, doc_stride=16, max_question_length=64)
    reader = Reader.from_config(
        ModelConfig(path=str(tiny_checkpoint)), ReaderConfig(window=window, null_threshold=ALWAYS_ANSWER)
    )
    result = reader.read(script_notes, [concept])
    for note in script_notes:
        assert len(result[note.id]) == 1
        assert_exact_and_trimmed(result[note.id], {note.id: note})


def test_null_thresholds_from_config_and_checkpoint_calibration(
    tiny_checkpoint, tmp_path, script_notes, concepts
):
    # per-concept config threshold: silence one concept, keep the other
    cfg = ReaderConfig(null_threshold=ALWAYS_ANSWER, null_thresholds={"drugs": 1e9})
    result = Reader.from_config(ModelConfig(path=str(tiny_checkpoint)), cfg).read(script_notes, concepts)
    assert all(a.concept_id == "nihss_admission" for answers in result.values() for a in answers)
    # the same through a calibration file carried by the checkpoint, plus its temperature
    ckpt = tmp_path / "calibrated"
    shutil.copytree(tiny_checkpoint, ckpt, ignore=shutil.ignore_patterns("onnx"))
    Calibration(temperature=1e-3, bias=0.0, null_thresholds={"nihss_admission": 1e9}).save(ckpt)
    reader = Reader.from_config(ModelConfig(path=str(ckpt)), ReaderConfig(null_threshold=ALWAYS_ANSWER))
    result = reader.read(script_notes, concepts)
    answers = [a for answers in result.values() for a in answers]
    assert answers and all(a.concept_id == "drugs" for a in answers)
    # a tiny temperature makes confidence a step function of the margin
    assert all(a.confidence in (0.0, 1.0) or abs(a.score - a.null_score) < 0.05 for a in answers)


def test_confidence_is_the_calibrated_margin(reader, script_notes, concepts) -> None:
    result = reader.read(script_notes, concepts)
    for answers in result.values():
        for a in answers:
            assert a.confidence == pytest.approx(reader.calibration.confidence(a.score - a.null_score, a.concept_id))


def test_min_confidence_filters(tiny_checkpoint, script_notes, concepts) -> None:
    cfg = ReaderConfig(null_threshold=ALWAYS_ANSWER, min_confidence=1.0)
    result = Reader.from_config(ModelConfig(path=str(tiny_checkpoint)), cfg).read(script_notes, concepts)
    assert all(a.confidence >= 1.0 for answers in result.values() for a in answers)


def test_batching_does_not_change_logits(tiny_checkpoint, script_notes, concepts) -> None:
    """Padding and length-sorting are invisible: batch size 1 and 64 give the same logits."""
    model_cfg = ModelConfig(path=str(tiny_checkpoint))
    one = Reader.from_config(model_cfg, ReaderConfig(batch_size=1))
    many = Reader.from_config(model_cfg, ReaderConfig(batch_size=64))
    from kgqa.qa.windowing import encode_windows

    pairs = one.pairs(script_notes, concepts)
    windows = encode_windows(
        one.tokenizer, [p.question for p in pairs], [p.note.text for p in pairs], one.cfg.window
    )
    for (s1, e1), (s2, e2) in zip(one.infer(windows), many.infer(windows)):
        np.testing.assert_allclose(s1, s2, atol=1e-4)
        np.testing.assert_allclose(e1, e2, atol=1e-4)


@pytest.mark.parametrize(
    "concept_kwargs,cfg_kwargs,expected",
    [
        # (concept fields, reader config, (max_answer_tokens, max_answers, null_threshold))
        ({}, {}, (30, 1, 0.0)),
        ({"max_answer_tokens": 8}, {"max_answer_tokens": 50}, (8, 1, 0.0)),  # the concept's own limit wins
        ({}, {"max_answer_tokens": 50}, (50, 1, 0.0)),
        ({"kind": "date"}, {"max_answer_tokens_by_kind": {"date": 12}}, (12, 1, 0.0)),
        ({"kind": "date", "max_answer_tokens": 5}, {"max_answer_tokens_by_kind": {"date": 12}}, (5, 1, 0.0)),
        ({"cardinality": "many"}, {"max_answers_per_list": 3}, (30, 3, 0.0)),
        ({"null_threshold": 2.0}, {"null_threshold": 1.0}, (30, 1, 2.0)),
        ({"null_threshold": 2.0}, {"null_thresholds": {"c": 3.0}}, (30, 1, 3.0)),
    ],
)
def test_decode_params_per_concept(reader, concept_kwargs, cfg_kwargs, expected) -> None:
    fields = {"kind": "integer", **concept_kwargs}
    concept = Concept(id="c", group="g", target_class="x", questions={"en": ("q?",)}, **fields)
    custom = Reader(
        reader.checkpoint,
        reader.tokenizer,
        reader.backend,
        ReaderConfig(**cfg_kwargs),
        Calibration(),
        reader.model_info,
    )
    params = custom.decode_params(concept)
    assert (params.max_answer_tokens, params.max_answers, params.null_threshold) == expected


def test_window_longer_than_the_position_table_is_a_config_error(tmp_path) -> None:
    from kgqa.qa.tiny import build_tiny_checkpoint

    short = build_tiny_checkpoint(tmp_path / "short", max_position_embeddings=130)
    with pytest.raises(ConfigError, match=r"reader.window.max_seq_length=384 exceeds the 128 positions"):
        Reader.from_config(ModelConfig(path=str(short)), ReaderConfig(device="cpu"))
    fits = ReaderConfig(
        device="cpu", window=WindowConfig(max_seq_length=128, doc_stride=64, max_question_length=48)
    )
    reader = Reader.from_config(ModelConfig(path=str(short)), fits)
    note = Note(id="n", text="NIHSS 12 on admission. " * 40, lang="en")
    concept = Concept(
        id="nihss_score",
        group="g",
        kind="integer",
        target_class="x",
        questions={"en": ("What was the NIHSS score?",)},
    )
    answers = reader.read([note], [concept])["n"]  # a long note in many 128-token windows reads fine
    assert all(note.text[a.start : a.end] == a.text for a in answers)


def test_enumeration_answers_name_a_member(tiny_checkpoint, script_notes) -> None:
    """reader.member_spans: every answer of an enumeration holds one of its labels; a note naming none
    gets no answer (random weights and an always-answer threshold: without the rule every note answers)."""
    from kgqa.types import EnumMember
    from kgqa.values.enums import match_member

    members = (
        EnumMember("ischemic", "urn:x#is", {"en": ("ischemic stroke",), "bg": ("исхемичен инсулт",), "ro": ("AVC ischemic",)}),
        EnumMember("ich", "urn:x#ich", {"en": ("intracerebral haemorrhage",)}),
    )
    stroke_type = Concept(
        id="stroke_type", group="dx", kind="enum", target_class="resq:StrokeType", members=members,
        questions={"en": ("What type of stroke?",)},
    )
    by_id = {n.id: n for n in script_notes}
    results = {}
    for member_spans in (False, True):
        cfg = ReaderConfig(null_threshold=ALWAYS_ANSWER, member_spans=member_spans)
        results[member_spans] = Reader.from_config(ModelConfig(path=str(tiny_checkpoint)), cfg).read(script_notes, [stroke_type])
    assert all(results[False].values())
    named = {note_id for note_id, answers in results[True].items() if answers}
    assert named == {"note-bg", "note-ro"}  # "исхемичен инсулт", "AVC ischemic"
    for note_id in named:
        (answer,) = results[True][note_id]
        assert match_member(answer.text, members, by_id[note_id].lang) is not None
        assert_exact_and_trimmed([answer], by_id)


def test_numeric_answers_are_spans_with_a_valid_value(tiny_checkpoint, script_notes) -> None:
    """reader.value_span_kinds: an integer concept answers with a span the values stage reads as a valid
    value (random weights and an always-answer threshold: without the rule, spans no value comes from)."""
    from kgqa.values import normalise

    mrs = Concept(
        id="discharge_mrs", group="discharge", kind="integer", target_class="x", minimum=0, maximum=6,
        questions={"en": ("What was the mRS at discharge?",)},
    )
    notes = [*script_notes, Note(id="digits", text="mRS 3 at discharge; glucose 13,9; BP 205/95; NIHSS 17; 42 days", lang="en")]
    by_id = {n.id: n for n in notes}

    def read(kinds: list[str]) -> dict[str, list]:
        cfg = ReaderConfig(null_threshold=ALWAYS_ANSWER, value_span_kinds=kinds)
        return Reader.from_config(ModelConfig(path=str(tiny_checkpoint)), cfg).read(notes, [mrs])

    def valid(answer) -> bool:
        return normalise(answer, mrs, by_id[answer.note_id]).ok

    unruled = [a for answers in read([]).values() for a in answers]
    assert unruled and not all(valid(a) for a in unruled)
    ruled = read(["integer"])
    assert all(valid(a) for answers in ruled.values() for a in answers)
    (answer,) = ruled["digits"]
    assert normalise(answer, mrs, by_id["digits"]).value == 3  # the only number in [0, 6] on that note
    with pytest.raises(ConfigError, match="value_span_kinds"):
        Reader.from_config(ModelConfig(path=str(tiny_checkpoint)), ReaderConfig(value_span_kinds=["integr"]))


def test_answers_overlap_no_heading(tiny_checkpoint, script_notes) -> None:
    """reader.skip_headings: no answer overlaps a section heading or field label (random weights and an
    always-answer threshold: without the rule, headings are answers too)."""
    from kgqa.qa.headings import heading_spans

    previous = Concept(
        id="risk_previous_stroke", group="risk_factors", kind="boolean", target_class="x", cardinality="many",
        # a Spanish question too: its "previo" is the topic the laid-out notes' spans must name to be answers
        # ("Niega ictus previos"; a negation of an unnamed topic states nothing)
        questions={"en": ("Has the patient had a stroke before?",), "es": ("¿Ha tenido el paciente un ictus previo?",)},
    )
    laid_out = [
        Note(id=f"layout-{i}", lang="es", text=(
            f"Informe de alta {i}\nVarón de 6{i} años.\n\nHistoria clínica previa\nComorbilidades: HTA.\n"
            "Antecedentes: Niega ictus previos.\n\nEstado funcional al alta\nmRS: 1.\n"
        ))
        for i in range(4)
    ]
    notes = [*script_notes, *laid_out]
    by_id = {n.id: n for n in notes}

    def overlapping(skip: bool) -> list:
        cfg = ReaderConfig(null_threshold=ALWAYS_ANSWER, skip_headings=skip)
        answers = Reader.from_config(ModelConfig(path=str(tiny_checkpoint)), cfg).read(notes, [previous])
        assert any(answers.values())
        return [
            a for note_answers in answers.values() for a in note_answers
            if any(a.start < e and s < a.end for s, e in heading_spans(by_id[a.note_id].text))
        ]

    assert overlapping(skip=False)
    assert overlapping(skip=True) == []


def test_a_datetime_answer_stopping_at_its_date_takes_the_clock_time_after_it(tiny_checkpoint, monkeypatch) -> None:
    """reader.date_then_time, on hand-made logits that point at the date alone: arrival is date *and*
    time, so the answer is widened over "o godz. 10:12"; with the rule off it stays the date."""
    text = "Pacjent lat 69, przywieziony na SOR 20.02.2024 o godz. 10:12. Objawy od 9:30."
    note = Note(id="pl", text=text, lang="pl")
    arrival = Concept(id="hospital_timestamp", group="t", kind="datetime", target_class="x",
                      questions={"pl": ("Kiedy pacjent przybył do szpitala?",)})  # fmt: skip
    date_start, date_end = text.index("20.02.2024"), text.index("20.02.2024") + len("20.02.2024")

    def read(rule: bool):
        cfg = ReaderConfig(null_threshold=ALWAYS_ANSWER, date_then_time=rule, value_span_kinds=[])
        r = Reader.from_config(ModelConfig(path=str(tiny_checkpoint)), cfg)

        def infer(windows):  # the date's first token starts the answer, its last token ends it
            out = []
            for w in windows:
                start, end = np.full(len(w), -10.0, np.float32), np.full(len(w), -10.0, np.float32)
                inside = [i for i, o in enumerate(w.offsets) if o is not None and date_start <= o[0] and o[1] <= date_end]
                start[inside[0]], end[inside[-1]] = 10.0, 10.0
                out.append((start, end))
            return out

        monkeypatch.setattr(r, "infer", infer)
        (answer,) = r.read([note], [arrival])["pl"]
        return answer

    widened, kept = read(True), read(False)
    assert kept.text == "20.02.2024"
    assert widened.text == "20.02.2024 o godz. 10:12" and widened.start == date_start
    assert text[widened.start : widened.end] == widened.text
    assert widened.score == kept.score and widened.confidence == kept.confidence  # the model's margin, unchanged


def test_a_yes_no_answer_is_about_its_own_topic(tiny_checkpoint) -> None:
    """reader.own_topic_spans: random weights and an always-answer threshold, so without the rule the
    hypertension question answers with any span; with it, never with one naming thrombectomy or
    thrombolysis (asked alongside) and not hypertension."""
    from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue
    from kgqa.values.topic import about_another_topic

    catalogue = load_catalogue(DEFAULT_CATALOGUE)
    asked = [catalogue.get(c) for c in ("risk_hypertension", "thrombectomy", "thrombolysis")]
    notes = [
        Note(id=f"cs-{i}", text=text, lang="cs")
        for i, text in enumerate([
            "MT neindikována. IVT nepodána. AH na terapii.",
            "Bez IVT, MT neindikována; AH ne.",
            "IVT ne. MT ne. Kuřák.",
        ])
    ]  # fmt: skip
    by_id = {n.id: n for n in notes}

    def hypertension_answers(rule: bool):
        cfg = ReaderConfig(null_threshold=ALWAYS_ANSWER, own_topic_spans=rule, value_span_kinds=[], n_best=40)
        found = Reader.from_config(ModelConfig(path=str(tiny_checkpoint)), cfg).read(notes, asked)
        return [a for answers in found.values() for a in answers if a.concept_id == "risk_hypertension"]

    def foreign(a) -> bool:
        return about_another_topic(by_id[a.note_id].text[a.start : a.end], asked[0], asked)

    assert all(not foreign(a) for a in hypertension_answers(True))
    assert any(foreign(a) for a in hypertension_answers(False))  # the rule is what keeps them out
