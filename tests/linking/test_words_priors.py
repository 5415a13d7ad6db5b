"""The word-level candidate generator (IDF cosine over stems) and the header back-off prior."""

from __future__ import annotations

import numpy as np
import pytest

from kgqa.linking import Label, Linker, LinkerConfig, Term
from kgqa.linking.priors import Backoff, term_uses
from kgqa.linking.words import WordIndex, stems
from kgqa.types import ValueKind

from .conftest import concept

TEXT = concept(ValueKind.TEXT)


@pytest.mark.parametrize(
    "key, prefix, expected",
    [
        ("metastasis hepaticas", 5, {"metas", "hepat"}),  # plural and gender endings fold into one stem
        ("metastasico hepatico", 5, {"metas", "hepat"}),
        ("infarto agudo de miocardio", 5, {"infar", "agudo", "mioca"}),  # function word dropped
        ("dolor en el pecho", 4, {"dolo", "pech"}),
        ("de la", 5, set()),
    ],
)
def test_stems(key, prefix, expected):
    assert stems(key, prefix) == expected


KEYS = ["tumor maligno mama", "mama tumor", "tumor cerebral", "fractura femur", "fractura cadera", "mama"]


def cosines(index, key, budget=1000, mask=None):
    ids, cos = index.scores(key, budget, mask)
    assert np.all(np.diff(ids) > 0)  # ascending ids: the matcher binary-searches them
    return dict(zip(ids.tolist(), cos.tolist()))


def test_word_cosine_ignores_order_and_weights_rare_words():
    index = WordIndex(KEYS)
    cos = cosines(index, "tumor mama")
    assert cos[1] == pytest.approx(1.0)  # same words, another order
    assert cos[0] < 1.0 and cos[5] < 1.0
    assert 3 not in cos and 4 not in cos  # no shared word
    # "cerebral" is rarer than "tumor": sharing it counts more
    assert cosines(index, "tumor cerebral")[2] > cosines(index, "tumor cerebral").get(1, 0)


def test_word_budget_and_mask_limit_the_keys_visited():
    index = WordIndex(KEYS)
    # rarest word first: "femur" (1 key) fits the budget of 1, "fractura" (2 keys) does not
    assert set(cosines(index, "fractura femur", budget=1)) == {3}
    mask = np.array([k != 1 for k in range(len(KEYS))])
    assert 1 not in cosines(index, "tumor mama", mask=mask)
    assert cosines(index, "nada parecido") == {}


def _named(code, *names, count=0):
    return Term(id=f"X:{code}", iri=f"http://x/{code}", labels=tuple(Label(t, "es", "learned", count) for t in names))


WORD_TERMS = [
    _named("A", "tumor maligno de mama izquierda"),
    _named("B", "tumor de maxilar izquierdo"),
    _named("E", "tumor de mano izquierda"),
    _named("D", "dolor en hombro izquierdo"),
]


@pytest.mark.parametrize("word_weight, expected", [(0.0, "X:E"), (0.3, "X:A"), (0.5, "X:A")])
def test_word_weight_reranks_reordered_mentions(word_weight, expected):
    # "mama izquierda tumor": by characters "tumor de mano izquierda" looks closest; by words it is the breast
    cfg = LinkerConfig(nil_threshold=0.3, word_weight=word_weight, brute_force_limit=0)
    links = Linker.from_terms({"s": WORD_TERMS}, cfg).link("mama izquierda tumor", TEXT, "es")
    assert links[0].term_id == expected
    assert all(0.3 <= l.score <= 1.0 for l in links)


def test_exact_matches_are_unaffected_by_word_weight():
    links = Linker.from_terms({"s": WORD_TERMS}, LinkerConfig(word_weight=0.5)).link("tumor de mano izquierda", TEXT, "es")
    assert (links[0].term_id, links[0].score) == ("X:E", 1.0)


def _icd(code, name, branches):
    return Term(id=f"ICD10CM:{code}", iri=f"http://icd/{code}", labels=(Label(name, "en", "pref"),), branches=branches)


def backoff_sources():
    icd = [
        _icd("C53", "malignant neoplasm of cervix uteri", ("ICD10CM:C",)),
        _icd("C53.0", "malignant neoplasm of endocervix", ("ICD10CM:C", "ICD10CM:C53")),
        _icd("C53.9", "malignant neoplasm of cervix uteri unspecified", ("ICD10CM:C", "ICD10CM:C53")),
        _icd("I63", "cerebral infarction", ("ICD10CM:I",)),
        _icd("I63.9", "cerebral infarction unspecified", ("ICD10CM:I", "ICD10CM:I63")),
    ]
    learned = [
        Term(id="ICD10CM:C53.9", iri="http://icd/C53.9", labels=(Label("cancer de cervix uterino", "es", "learned", 6),)),
        Term(id="ICD10CM:C53.0", iri="http://icd/C53.0", labels=(Label("cancer de endocervix", "es", "learned", 2),)),
        Term(id="ICD10CM:I63", iri="http://icd/I63", labels=(Label("ictus", "es", "learned", 3),)),  # a used header
        Term(id="ICD10CM:I63.9", iri="http://icd/I63.9", labels=(Label("infarto cerebral", "es", "learned", 9),)),
    ]
    return {"icd10cm": icd, "learned": learned}


def test_term_uses_sum_over_terms_sharing_an_iri():
    linker = Linker.from_terms(backoff_sources())
    uses = term_uses(linker.index)
    by_id = {}
    for t, tid in enumerate(linker.index.term_id):
        by_id.setdefault(tid, set()).add(uses[t])
    assert by_id == {"ICD10CM:C53": {0}, "ICD10CM:C53.0": {2}, "ICD10CM:C53.9": {6}, "ICD10CM:I63": {3}, "ICD10CM:I63.9": {9}}


@pytest.mark.parametrize(
    "text, share, expected",
    [
        ("malignant neoplasm of cervix uteri", 0.0, "ICD10CM:C53"),  # back-off off
        ("malignant neoplasm of cervix uteri", 0.5, "ICD10CM:C53.9"),  # unused header → its most used leaf (6 of 8)
        ("malignant neoplasm of cervix uteri", 0.8, "ICD10CM:C53"),  # 6/8 < 0.8: too uncertain, keep the header
        ("cerebral infarction", 0.5, "ICD10CM:I63"),  # annotators used the header itself: kept
        ("malignant neoplasm of endocervix", 0.5, "ICD10CM:C53.0"),  # a leaf is never replaced
    ],
)
def test_descendant_backoff(text, share, expected):
    linker = Linker.from_terms(backoff_sources(), LinkerConfig(descendant_backoff=share))
    links = linker.link(text, TEXT, "en")
    assert links[0].term_id == expected
    assert links[0].score == 1.0
    assert len({l.iri for l in links}) == len(links)  # a back-off never duplicates an IRI


def test_backoff_targets_only_unused_headers():
    index = Linker.from_terms(backoff_sources()).index
    target = Backoff(index, 0.5).target
    assert {index.term_id[h]: index.term_id[t] for h, t in target.items()} == {"ICD10CM:C53": "ICD10CM:C53.9"}


def test_link_many_with_words_and_backoff_matches_link():
    sources = backoff_sources()
    sources["words"] = WORD_TERMS
    cfg = LinkerConfig(nil_threshold=0.3, word_weight=0.3, descendant_backoff=0.5, brute_force_limit=0)
    texts = ["mama izquierda tumor", "malignant neoplasm of cervix uteri", "infarto cerebrl", "mama izquierda tumor", "zzz"]
    many = Linker.from_terms(sources, cfg).link_many(texts, TEXT, "es")
    one = Linker.from_terms(sources, cfg)
    assert many == [one.link(t, TEXT, "es") for t in texts]
    assert many[0][0].term_id == "X:A" and many[1][0].term_id == "ICD10CM:C53.9" and many[4] == ()


@pytest.mark.parametrize("word_weight, word_floor, factor", [(0.5, 0.0, 0.5), (0.5, 0.95, 0.95), (0.3, 0.5, 0.7)])
def test_word_floor_bounds_the_loss_of_names_sharing_no_stem(word_weight, word_floor, factor):
    # a Spanish span against an English name: no shared stem, cosine 0, only the string score is left
    terms = [_named("EN", "ischemic stroke"), _named("ES", "ictus hemorragico")]
    base = LinkerConfig(nil_threshold=0.1, brute_force_limit=0, top_k=5)

    def score(cfg):
        links = Linker.from_terms({"s": terms}, cfg).link("ictus isquemico", TEXT, "es")
        return {l.term_id: l.score for l in links}

    plain = score(base)
    blended = score(LinkerConfig(**{**base.__dict__, "word_weight": word_weight, "word_floor": word_floor}))
    assert blended["X:EN"] == pytest.approx(plain["X:EN"] * factor, abs=1e-3)
    assert blended["X:ES"] > plain["X:ES"] * max(1 - word_weight, word_floor)  # the shared stem "ictus" counts


def migraine_sources():
    g = ("ICD10CM:G", "ICD10CM:G4")
    icd = [
        _icd("G43", "Migraine", g),
        _icd("G43.0", "Migraine without aura", (*g, "ICD10CM:G43")),
        _icd("G43.9", "Migraine, unspecified", (*g, "ICD10CM:G43")),
        _icd("G43.90", "Migraine, unspecified, not intractable", (*g, "ICD10CM:G43", "ICD10CM:G43.9")),
        _icd("G43.901", "Migraine, unspecified, not intractable, with status migrainosus",
             (*g, "ICD10CM:G43", "ICD10CM:G43.9", "ICD10CM:G43.90")),
        _icd("G43.909", "Migraine, unspecified, not intractable, without status migrainosus",
             (*g, "ICD10CM:G43", "ICD10CM:G43.9", "ICD10CM:G43.90")),
        _icd("G43.91", "Migraine, unspecified, intractable", (*g, "ICD10CM:G43", "ICD10CM:G43.9")),
        _icd("G44", "Other headache syndromes", g),  # a header without an "unspecified" child
        _icd("G44.0", "Cluster headaches", (*g, "ICD10CM:G44")),
        _icd("G45", "Transient cerebral ischemic attacks", g),
        _icd("G45.9", "Transient cerebral ischemic attack, unspecified", (*g, "ICD10CM:G45")),
    ]
    learned = [Term(id="ICD10CM:G45", iri="http://icd/G45", labels=(Label("AIT", "es", "learned", 4),))]  # a used header
    return {"icd10cm": icd, "learned": learned}


@pytest.mark.parametrize(
    "text, unspecified, expected",
    [
        ("migraine", False, "ICD10CM:G43"),  # off
        ("migraine", True, "ICD10CM:G43.909"),  # unused header → "unspecified" child, down to a leaf (… 9 first)
        ("migraine unspecified", True, "ICD10CM:G43.909"),  # an unused intermediate header too
        ("migraine without aura", True, "ICD10CM:G43.0"),  # a leaf stays
        ("other headache syndromes", True, "ICD10CM:G44"),  # no "unspecified" child: kept
        ("transient cerebral ischemic attacks", True, "ICD10CM:G45"),  # annotators used the header: kept
    ],
)
def test_unspecified_backoff(text, unspecified, expected):
    linker = Linker.from_terms(migraine_sources(), LinkerConfig(unspecified_backoff=unspecified))
    links = linker.link(text, TEXT, "en")
    assert links[0].term_id == expected
    assert links[0].score == 1.0 and links[0].matched.lower() == text.replace(" unspecified", ", unspecified").lower()


def test_unspecified_backoff_yields_to_the_annotated_descendant():
    # C53 has annotated descendants (C53.9: 6 uses, C53.0: 2): the annotated rule decides, not the naming
    sources = backoff_sources()
    sources["icd10cm"].append(_icd("C53.8", "malignant neoplasm of overlapping sites of cervix uteri", ("ICD10CM:C", "ICD10CM:C53")))
    index = Linker.from_terms(sources).index
    target = Backoff(index, 0.9, unspecified=True).target  # 6/8 < 0.9: the annotated rule declines …
    named = {index.term_id[h]: index.term_id[t] for h, t in target.items()}
    assert named["ICD10CM:C53"] == "ICD10CM:C53.9"  # … and the "unspecified" child is the fallback
    assert "ICD10CM:I63" not in named  # used header
