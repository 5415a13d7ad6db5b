"""Linking, table-driven: drugs in all 7 languages (brand → INN → ATC), abbreviations, misspellings,
dropped diacritics, Greek and Cyrillic; enumeration members; scope restriction; NIL; top-k."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kgqa.errors import ConfigError
from kgqa.linking import Label, Linker, LinkerConfig, Term
from kgqa.types import Cardinality, EnumMember, ValueKind

from .conftest import concept, make_cfg

ATC = "http://purl.bioontology.org/ontology/ATC/"
DRUG = concept(ValueKind.DRUG)

# (span as written in a note, note language, expected ATC code) — what each case exercises is in the comment
DRUG_CASES = [
    ("Ксарелто 20 мг", "bg", "B01AF01"),  # brand in Cyrillic + dose
    ("клопидогрел 75 мг", "bg", "B01AC04"),  # INN in Cyrillic
    ("Аторис", "bg", "C10AA05"),  # national brand
    ("аторвастатин", "bg", "C10AA05"),
    ("Xarelto", "bg", "B01AF01"),  # Latin brand in a Bulgarian note
    ("Anopyrin 100 mg 0-1-0", "cs", "B01AC06"),  # national brand + schedule
    ("kyselina acetylsalicylova", "cs", "B01AC06"),  # diacritics dropped
    ("Eliqis 5 mg", "cs", "B01AF02"),  # misspelled brand
    ("Fraxiparine 0,4 ml s.c.", "cs", "B01AB06"),
    ("Ξαρέλτο", "el", "B01AF01"),  # brand in Greek script
    ("ασπιρινη", "el", "B01AC06"),  # tonos dropped
    ("ΚΛΟΠΙΔΟΓΡΕΛΗ", "el", "B01AC04"),  # capitals
    ("απιξαμπάνη", "el", "B01AF02"),
    ("Xarelto 20 mg", "en", "B01AF01"),  # brand → INN → ATC
    ("rt-PA", "en", "B01AD02"),  # abbreviation
    ("ASA 100 mg", "en", "B01AC06"),
    ("atorvastatine", "en", "C10AA05"),  # misspelling
    ("Plavix 75mg", "en", "B01AC04"),
    ("Adiro 100", "es", "B01AC06"),  # Spanish brand, bare strength
    ("ácido acetilsalicílico", "es", "B01AC06"),
    ("Sintrom 4 mg", "es", "B01AA07"),
    ("enoxaparina 40 mg sc", "es", "B01AB05"),
    ("rivaroxaban", "es", "B01AF01"),  # accent of rivaroxabán dropped
    ("Polocard 75 mg", "pl", "B01AC06"),
    ("rywaroksaban", "pl", "B01AF01"),
    ("atorwastatyna", "pl", "C10AA05"),
    ("klopidogrell", "pl", "B01AC04"),  # misspelling
    ("Aspenter 75 mg", "ro", "B01AC06"),
    ("clopidogrel 75 mg/zi", "ro", "B01AC04"),
    ("atorvastatina", "ro", "C10AA05"),  # ă dropped
    ("Actilyse 0,9 mg/kg", "ro", "B01AD02"),
]


@pytest.mark.parametrize("text, lang, atc", DRUG_CASES)
def test_drug_links_to_atc(linker, text, lang, atc):
    links = linker.link(text, DRUG, lang)
    assert links, f"{text!r} ({lang}) was NIL"
    assert links[0].iri == ATC + atc
    assert links[0].term_id == f"ATC:{atc}"
    assert links[0].source == "drugs"


@pytest.mark.parametrize(
    "lang, label",
    [("bg", "ривароксабан"), ("cs", "rivaroxaban"), ("el", "ριβαροξαβάνη"), ("en", "rivaroxaban"),
     ("es", "rivaroxabán"), ("pl", "rywaroksaban"), ("ro", "rivaroxaban")],
)
def test_link_label_is_the_inn_in_the_note_language(linker, lang, label):
    (best, *_) = linker.link("Xarelto 15 mg", DRUG, lang)
    assert best.label == label
    assert best.matched == "Xarelto"
    assert best.score == 1.0


ARRIVAL = concept(ValueKind.ENUM, scope=("https://example.org/mini-vocab#arrival_mode",))
STROKE = concept(ValueKind.ENUM, scope=("mv:stroke_type",))
MV = "https://example.org/mini-vocab#"


@pytest.mark.parametrize(
    "text, lang, c, member",
    [
        ("RZP", "cs", ARRIVAL, "arrival_mode-ems"),  # abbreviations, by scheme IRI
        ("přivezen RZP", "cs", ARRIVAL, "arrival_mode-ems"),
        ("СМП", "bg", ARRIVAL, "arrival_mode-ems"),
        ("ασθενοφόρο", "el", ARRIVAL, "arrival_mode-ems"),
        ("SAMU", "es", ARRIVAL, "arrival_mode-ems"),
        ("karetką", "pl", ARRIVAL, "arrival_mode-ems"),  # inflected
        ("SMURD", "ro", ARRIVAL, "arrival_mode-ems"),
        ("ambulance", "en", ARRIVAL, "arrival_mode-ems"),
        ("vlastni doprava", "cs", ARRIVAL, "arrival_mode-private"),  # diacritics dropped
        ("iCMP", "cs", STROKE, "stroke_type-ischemic"),  # by scheme CURIE
        ("ИМИ", "bg", STROKE, "stroke_type-ischemic"),
        ("ΑΕΕ", "el", STROKE, "stroke_type-ischemic"),
        ("ictus isquemico", "es", STROKE, "stroke_type-ischemic"),
        ("udar niedokrwienny", "pl", STROKE, "stroke_type-ischemic"),
        ("AVC ischemic", "ro", STROKE, "stroke_type-ischemic"),
        ("intracerebral hemorrhage", "en", STROKE, "stroke_type-ich"),  # US spelling
    ],
)
def test_enumeration_members(linker, text, lang, c, member):
    links = linker.link(text, c, lang)
    assert links and links[0].iri == MV + member


def test_catalogue_members_restrict_and_inherit_vocabulary_names(linker):
    # members carry English labels only; the Czech abbreviation comes from the vocabulary term with the same IRI
    ems = EnumMember(id="ems", iri=MV + "arrival_mode-ems", labels={"en": ("ambulance",)})
    private = EnumMember(id="private", iri=MV + "arrival_mode-private", labels={"en": ("own transport",)})
    both = concept(ValueKind.ENUM, members=(ems, private), cid="arrival")
    only_private = concept(ValueKind.ENUM, members=(private,), cid="arrival_private")
    assert linker.link("RZP", both, "cs")[0].iri == ems.iri
    assert linker.link("own transport", both, "en")[0].iri == private.iri
    assert linker.link("RZP", only_private, "cs") == ()


def test_drug_members_reach_all_names_of_the_drug(linker):
    # a catalogue drug scheme naming alteplase in English only still links the Bulgarian INN and the brand
    alteplase = EnumMember(id="alteplase", iri="https://example.org/thrombolytic-alteplase", labels={"en": ("alteplase",)})
    tnk = EnumMember(id="tenecteplase", iri="https://example.org/thrombolytic-tenecteplase", labels={"en": ("tenecteplase",)})
    ivt = concept(ValueKind.DRUG, members=(alteplase, tnk), cid="ivt_drug")
    for text, lang in [("алтеплаза", "bg"), ("Actilyse 0,9 mg/kg", "cs"), ("αλτεπλάση", "el"), ("Metalyse", "es")]:
        links = linker.link(text, ivt, lang)
        assert links, text
        assert links[0].iri == (tnk.iri if text == "Metalyse" else alteplase.iri)
    assert linker.link("Xarelto", ivt, "en") == ()  # a drug, but not a member


@pytest.mark.parametrize(
    "text, scope, expected",
    [
        ("Hemiparesis", ("mini",), "MINI:0000020"),
        ("Hemiparesis", ("drugs",), None),  # out of scope: NIL
        ("Hemiparesis", ("MINI:0000010",), "MINI:0000020"),  # a branch: the term's ancestor
        ("Hemiparesis", ("MINI:0000030",), None),  # a sibling
        ("Plavix", ("ATC:B01AC",), "ATC:B01AC04"),  # an ATC prefix branch
        ("Xarelto", ("ATC:B01AC",), None),  # an antithrombotic, but not an antiplatelet
        ("Xarelto", ("ATC:B01",), "ATC:B01AF01"),
        ("ambulance", ("mv:stroke_type",), None),
        ("Hemiparesia", ("mini", "drugs"), "MINI:0000020"),  # Spanish name from the babelon file
        ("Hemiparesis", ("no-such-source",), None),
    ],
)
def test_scope_restriction(linker, text, scope, expected):
    links = linker.link(text, concept(ValueKind.TEXT, scope=scope), "es")
    assert (links[0].term_id if links else None) == expected


@pytest.mark.parametrize(
    "text",
    ["the patient was discharged home in good condition", "42", "", "   ", "xyzzy qwerty", "mg", "του ασθενούς"],
)
def test_nil_for_unrelated_text(linker, text):
    assert linker.link(text, concept(ValueKind.TEXT), "en") == ()


def test_top_k_scores_ranked_unique_and_bounded(tmp_path):
    lk = Linker.from_config(make_cfg(tmp_path, top_k=3, nil_threshold=0.3))
    links = lk.link("atorvastatinum", concept(ValueKind.TEXT), "en")
    assert 1 <= len(links) <= 3
    scores = [l.score for l in links]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert len({l.iri for l in links}) == len(links)
    assert links[0].term_id == "ATC:C10AA05"
    assert scores[0] < 1.0  # fuzzy, not exact


def test_nil_threshold_cuts_weak_candidates(tmp_path):
    lenient = Linker.from_config(make_cfg(tmp_path, nil_threshold=0.3))
    strict = Linker.from_config(make_cfg(tmp_path, nil_threshold=0.95))
    assert lenient.link("atorvastat", DRUG, "en")
    assert strict.link("atorvastat", DRUG, "en") == ()


def test_related_synonyms_score_below_exact_names(linker):
    (best,) = linker.link("Hemiplegia", concept(ValueKind.TEXT, scope=("mini",)), "en")[:1]
    assert best.term_id == "MINI:0000020"
    assert 0.6 <= best.score < 1.0


def test_link_many_matches_link(linker):
    texts = ["Xarelto 20 mg", "Plavix", "Xarelto 20 mg", "nothing here at all", "Eliqis"]
    assert linker.link_many(texts, DRUG, "en") == [linker.link(t, DRUG, "en") for t in texts]


def test_link_many_splits_drug_lists_as_link_does(linker):
    """A discharge list answers with every drug it names, whether its span is linked alone or in a batch."""
    drugs = replace(DRUG, cardinality=Cardinality.MANY)
    texts = ["Xarelto 20 mg, Plavix 75mg a Atoris", "Plavix", "Eliqis 5 mg; Xarelto 20 mg", "Xarelto 20 mg, Plavix 75mg a Atoris"]
    many = linker.link_many(texts, drugs, "cs")
    assert many == [linker.link(t, drugs, "cs") for t in texts]
    assert [link.term_id for link in many[0]] == ["ATC:B01AF01", "ATC:B01AC04", "ATC:C10AA05"]
    assert [link.term_id for link in many[2]] == ["ATC:B01AF02", "ATC:B01AF01"]
    assert len(many[1]) >= 1 and many[1][0].term_id == "ATC:B01AC04"


@pytest.mark.parametrize("candidates", ["ngram", "brute"])
def test_candidate_generators_agree_on_fuzzy_cases(tmp_path, candidates):
    lk = Linker.from_config(make_cfg(tmp_path, candidates=candidates, brute_force_limit=0))
    assert lk.link("klopidogrell", DRUG, "pl")[0].term_id == "ATC:B01AC04"
    assert lk.link("atorvastatine", concept(ValueKind.TEXT), "en")[0].term_id == "ATC:C10AA05"


@pytest.mark.parametrize(
    "overrides, key",
    [
        ({"sources": ["drugs", "nope"]}, "linker.sources"),
        ({"scorer": "cosine"}, "linker.scorer"),
        ({"candidates": "faiss"}, "linker.candidates"),
        ({"nil_threshold": 1.5}, "linker.nil_threshold"),
        ({"top_k": 0}, "linker.top_k"),
        ({"word_weight": 1.2}, "linker.word_weight"),
        ({"word_floor": -0.1}, "linker.word_floor"),
        ({"descendant_backoff": 2}, "linker.descendant_backoff"),
        ({"word_prefix": 0}, "linker.word_prefix"),
        ({"memo_size": -1}, "linker.memo_size"),
        ({"processes": 0}, "linker.processes"),
    ],
)
def test_config_errors_name_the_key(tmp_path, overrides, key):
    with pytest.raises(ConfigError, match=key):
        Linker.from_config(make_cfg(tmp_path, **overrides))


def test_missing_source_file_is_a_config_error(tmp_path):
    (tmp_path / "sources.yaml").write_text("x:\n  files:\n    - {path: missing.ttl, loader: rdf}\n")
    with pytest.raises(ConfigError, match="missing.ttl"):
        Linker.from_config(LinkerConfig(sources=["x"], ontology_dir=str(tmp_path), cache_dir=str(tmp_path)))


ICD = "http://purl.bioontology.org/ontology/ICD10CM/"


def learned_linker(**cfg) -> Linker:
    def term(code, *names):
        return Term(id=f"ICD10CM:{code}", iri=ICD + code, labels=tuple(Label(t, "es", "learned", n) for t, n in names))

    terms = [
        term("I47.1", ("taquicardia supraventricular", 3)),
        term("B97.4", ("virus respiratorio sincitial", 2)),
        term("I48.91", ("fibrilación auricular", 12)),
        term("I48.0", ("fibrilación auricular paroxística", 1)),
        term("I21.9", ("infarto agudo de miocardio", 7)),
        term("F17.210", ("fumador", 2)),
        term("F17.200", ("fumador", 9), ("tabaquismo", 4)),
    ]
    return Linker.from_terms({"codiesp": terms}, LinkerConfig(**cfg))


@pytest.mark.parametrize(
    "text, expected, score",
    [
        ("VRSA", None, None),  # four letters: read as initials, but no learned name has them
        ("VRS", None, None),  # three letters or fewer: an exact name or nothing (short_exact_only)
        ("vrs", None, None),  # lower case: a word, not an abbreviation
        ("infarto agudo miocardio", "ICD10CM:I21.9", 1.0),  # differs only by a function word
        ("fumador", "ICD10CM:F17.200", 1.0),  # ambiguous name: the code annotators used most
        ("taquicardia supraventricular paroxística", "ICD10CM:I47.1", None),  # sub-span or fuzzy
    ],
)
def test_learned_synonyms(text, expected, score):
    links = learned_linker(nil_threshold=0.7).link(text, concept(ValueKind.TEXT), "es")
    assert (links[0].term_id if links else None) == expected
    if score is not None:
        assert links[0].score == pytest.approx(score)
    if text == "fumador":
        assert [l.term_id for l in links] == ["ICD10CM:F17.200", "ICD10CM:F17.210"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("VRS", "ICD10CM:B97.4"),  # an unknown abbreviation read as initials of a learned name
        ("FA", "ICD10CM:I48.91"),  # initials shared: the name annotators used most
    ],
)
def test_acronym_guess_on_short_spans_only_when_allowed(text, expected):
    links = learned_linker(nil_threshold=0.7, short_exact_only=0).link(text, concept(ValueKind.TEXT), "es")
    assert links[0].term_id == expected and links[0].score == pytest.approx(0.8)
