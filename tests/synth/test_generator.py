"""The synthetic-note generator: offsets, variety, distractors, negation, template split."""

import datetime as dt
from collections import Counter

import pytest

from kgqa.evaluation.gold import GoldNote, read_gold_jsonl, write_gold_jsonl
from kgqa.synth.generator import DISTRACTOR_SLOTS, SECTION_ORDERS, generate_corpus, generate_note
from kgqa.synth.languages import LEXICONS, lexicon_for
from kgqa.synth.lexicon import TRAIN_ONLY_GROUPS, split_options
from kgqa.synth.squad import GOLD_CONCEPTS
from kgqa.synth.templates import TextBuilder, parse, slots
from kgqa.types import LANGUAGES


@pytest.fixture(scope="module")
def corpus() -> list[GoldNote]:
    return list(generate_corpus(12, split="train")) + list(generate_corpus(12, split="heldout"))


def test_every_language_has_a_lexicon_with_the_same_groups():
    assert set(LEXICONS) == set(LANGUAGES)
    groups = set(lexicon_for("en").groups)
    for lang, lex in LEXICONS.items():
        assert set(lex.groups) == groups, lang
        for group, options in lex.groups.items():
            # at least two alternatives, so that both template splits have one
            assert len(options) >= 2, (lang, group)
            # every slot is a gold concept or a known distractor (a typo would silently drop a fact)
            for option in options:
                assert set(slots(option)) <= set(GOLD_CONCEPTS) | DISTRACTOR_SLOTS, (lang, group, option)


TRAIN_ONLY_LISTS = ("risk_intro", "risk_negated", "drugs_intro")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_train_only_alternatives_are_well_formed(lang):
    lex = lexicon_for(lang)
    assert set(lex.train_only) <= set(lex.groups) | set(TRAIN_ONLY_LISTS) | set(TRAIN_ONLY_GROUPS)
    for what, extra in lex.train_only.items():
        if what in TRAIN_ONLY_GROUPS:
            # slots and evidence of the groups it combines, and nothing else
            combined = [o for g in TRAIN_ONLY_GROUPS[what] for o in lex.groups[g]]
            for option in extra:
                assert set(slots(option)) <= {s for o in combined for s in slots(o)}, (lang, what, option)
                assert {p.concept for p in parse(option) if p.words} == {"thrombolysis"}, (lang, what, option)
                assert "door_to_needle" in slots(option), (lang, what, option)
            assert not split_options((), "heldout", extra)
            continue
        options = lex.groups[what] if what in lex.groups else getattr(lex, what)
        assert len(set(extra)) == len(extra), (lang, what)
        for option in extra:
            # not one of the tuple's alternatives (held-out ones included), and no slot the group's own
            # phrasings do not have
            assert option not in options, (lang, what, option)
            if what in lex.groups:
                assert set(slots(option)) <= {s for o in options for s in slots(o)}, (lang, what, option)
                # an evidence group's phrasing keeps its evidence slot (the boolean's gold span)
                evidence = {p.concept for o in options for p in parse(o) if p.words}
                assert evidence <= {p.concept for p in parse(option) if p.words}, (lang, what, option)
            elif what == "risk_negated":
                assert "{rf}" in option, (lang, option)
        # offered to training notes only
        assert set(extra) <= set(split_options(options, "train", extra))
        assert not set(extra) & set(split_options(options, "heldout", extra))


def test_training_notes_use_train_only_phrasings(corpus):
    def train_only(phrasing_id: str) -> bool:
        return phrasing_id.rsplit(".", 1)[-1].startswith("t")

    used = {p for g in corpus if g.split == "train" for p in g.phrasings if train_only(p)}
    # every language's training notes draw on them; held-out notes never do
    assert {p.split(".")[0] for p in used} == set(LANGUAGES)
    assert not any(train_only(p) for g in corpus if g.split == "heldout" for p in g.phrasings)


def test_some_training_notes_write_the_door_to_needle_time_inside_the_lysis_sentence():
    """ "IVT with alteplase (DNT 33 min)": one door-to-needle span per note, in the thrombolysis sentence."""
    golds = [generate_note(lang, i, split="train", seed=5) for lang in LANGUAGES for i in range(12)]
    inside = [g for g in golds if any(".ivt_pos_dtn." in p for p in g.phrasings)]
    assert {g.note.lang for g in inside} == set(LANGUAGES)
    for gold in inside:
        dtn = [a for a in gold.annotations if a.concept_id == "door_to_needle"]
        lysis = [a for a in gold.annotations if a.concept_id == "thrombolysis"]
        assert len(dtn) == 1 and len(lysis) == 1, gold.note.id
        # the separate door-to-needle sentence is not written as well
        assert not any(p.split(".")[1] == "dtn" for p in gold.phrasings), gold.note.id
        line_start = gold.note.text.rfind("\n", 0, dtn[0].start) + 1
        assert line_start <= lysis[0].start < dtn[0].start, gold.note.id
        assert str(dtn[0].value) == dtn[0].text


def test_gold_offsets_always_slice_to_the_gold_text(corpus):
    for gold in corpus:
        for a in gold.annotations:
            assert gold.note.text[a.start : a.end] == a.text
            assert a.text.strip() == a.text and a.text


def test_all_languages_and_both_splits_are_generated(corpus):
    assert Counter(g.note.lang for g in corpus) == {lang: 24 for lang in LANGUAGES}
    assert Counter(g.split for g in corpus) == {"train": 84, "heldout": 84}
    assert len({g.note.id for g in corpus}) == len(corpus)


def test_generation_is_deterministic():
    a, b = generate_note("pl", 3, split="heldout", seed=7), generate_note("pl", 3, split="heldout", seed=7)
    assert a == b
    assert generate_note("pl", 4, split="heldout", seed=7).note.text != a.note.text


def test_held_out_templates_are_never_used_by_training_notes(corpus):
    train = {p for g in corpus if g.split == "train" for p in g.phrasings}
    heldout = {p for g in corpus if g.split == "heldout" for p in g.phrasings}
    assert train and heldout
    assert not train & heldout


@pytest.mark.parametrize("n, held", [(1, 0), (2, 1), (3, 1), (4, 1), (6, 2), (9, 3)])
def test_split_options_holds_out_the_last_third(n, held):
    options = tuple(range(n))
    train, heldout = split_options(options, "train"), split_options(options, "heldout")
    if n == 1:
        assert train == heldout == options
    else:
        assert len(heldout) == held and set(train) | set(heldout) == set(options) and not set(train) & set(heldout)


def test_real_variety(corpus):
    en = [g for g in corpus if g.note.lang == "en"]
    assert len({g.note.text.splitlines()[0] for g in en}) >= 3  # titles
    assert len({p for g in en for p in g.phrasings if ".nihss_score." in p}) >= 3
    assert len({p for g in corpus for p in g.phrasings if "section_order" in p}) == len(SECTION_ORDERS)
    texts = [a.text for g in corpus for a in g.annotations if a.concept_id == "glucose"]
    assert any("," in t for t in texts) and any("." in t for t in texts)  # decimal comma and point


def test_distractor_pairs_are_annotated_apart(corpus):
    both = [g for g in corpus if g.for_concept("nihss_score") and g.for_concept("discharge_nihss_score")]
    assert both
    for g in both:
        (adm,), (dis,) = g.for_concept("nihss_score"), g.for_concept("discharge_nihss_score")
        assert adm.start != dis.start
    bp = [g for g in corpus if g.for_concept("systolic_pressure")]
    for g in bp:
        (s,), (d,) = g.for_concept("systolic_pressure"), g.for_concept("diastolic_pressure")
        assert s.value > d.value and s.end <= d.start


def test_negated_and_absent_facts(corpus):
    negated = [a for g in corpus for a in g.annotations if a.assertion == "negated"]
    assert {a.concept_id for a in negated} >= {"thrombolysis", "thrombectomy", "risk_previous_stroke"}
    assert all(a.value is False for a in negated)
    # some gold concepts are absent from some notes: the null decision is exercised
    assert any(not g.for_concept("nihss_score") for g in corpus)


def test_values_are_canonical(corpus):
    kinds = {}
    for g in corpus:
        for a in g.annotations:
            kinds.setdefault(a.concept_id, set()).add(type(a.value))
    assert kinds["hospital_timestamp"] == {dt.datetime}
    assert kinds["discharge_date"] == {dt.date}
    assert kinds["glucose"] == {float}
    assert kinds["nihss_score"] == {int}
    assert kinds["stroke_type"] == {str}
    assert set(kinds) <= set(GOLD_CONCEPTS)


def test_acute_times_fall_on_the_admission_day(corpus):
    for g in corpus:
        for a in g.annotations:
            if isinstance(a.value, dt.datetime):
                assert a.value.date() == g.note.admission_date


def test_gold_jsonl_round_trip(corpus, tmp_path):
    path = tmp_path / "gold.jsonl"
    assert write_gold_jsonl(corpus[:10], path) == 10
    assert list(read_gold_jsonl(path)) == corpus[:10]


@pytest.mark.parametrize(
    "phrasing, values, text, spans",
    [
        ("NIHSS {nihss_score}.", {"nihss_score": "8"}, "NIHSS 8.", [("nihss_score", "8")]),
        ("{sex}, {age} y.", {"sex": "man", "age": "70"}, "Man, 70 y.", [("sex", "Man"), ("age", "70")]),
        ("<<thrombolysis|No IVT>> given.", {}, "No IVT given.", [("thrombolysis", "No IVT")]),
    ],
)
def test_text_builder_records_slots(phrasing, values, text, spans):
    out = TextBuilder()
    out.write("X ")
    out.write_phrasing(phrasing, values.__getitem__)
    assert out.text == "X " + text
    assert [(s.concept, s.text) for s in out.spans] == spans
    assert all(out.text[s.start : s.end] == s.text for s in out.spans)


def test_parse_keeps_literals():
    assert "".join(p.literal or p.words or "{}" for p in parse("a {x} b <<y|c d>>.")) == "a {} b c d."
