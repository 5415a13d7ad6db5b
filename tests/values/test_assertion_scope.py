"""Scope of negation cues, on sentences of the independent evaluation notes (eval/handwritten.py, CodiEsp).

Each row: a real sentence, the span, the concept's assertion topic (``normalise.assertion_topic``) and
the status. The first rows of each group are the regressions ``eval/build.py --check`` found; the
others pin the behaviour the rule must keep.
"""

from __future__ import annotations

import pytest

from kgqa.types import Assertion
from kgqa.values import assertion

N, P, H = Assertion.NEGATED, Assertion.PRESENT, Assertion.HISTORICAL


@pytest.mark.parametrize(
    "lang, text, span, topic, expected",
    [
        # a semicolon ends a list item and the cue's scope
        ("bg", "Анамн.: АХ, нелекувана; без ЗД; тютюнопушене; хиперхолестеролемия.", "тютюнопушене", "finding", P),
        ("bg", "Анамн.: АХ, нелекувана; без ЗД; тютюнопушене; хиперхолестеролемия.", "хиперхолестеролемия", "finding", P),
        ("bg", "Анамн.: АХ, нелекувана; без ЗД; тютюнопушене; хиперхолестеролемия.", "ЗД", "finding", N),
        ("es", "Mujer, 45 años. Sin HTA, DM ni dislipemia; fumadora de 1 paq/día.", "fumadora", "finding", P),
        ("es", "Mujer, 45 años. Sin HTA, DM ni dislipemia; fumadora de 1 paq/día.", "dislipemia", "finding", N),
        ("es", "Mujer, 45 años. Sin HTA, DM ni dislipemia; fumadora de 1 paq/día.", "DM", "finding", N),
        (
            "pl",
            "Obciążenia: NT, hipercholesterolemia, nie pali, bez cukrzycy, bez AF w Holterze; dotychczas przyjmowała ASA 75 mg.",
            "ASA",
            "medication",
            P,
        ),
        # a list negated cue by cue: an item without its own cue is affirmed
        ("bg", "Без АХ, без ЗД, пушачка (15 цигари/ден), дислипидемия без лечение.", "пушачка", "finding", P),
        ("bg", "Без АХ, без ЗД, пушачка (15 цигари/ден), дислипидемия без лечение.", "дислипидемия", "finding", P),
        ("bg", "Без АХ, без ЗД, пушачка (15 цигари/ден), дислипидемия без лечение.", "ЗД", "finding", N),
        # ... but a list negated once up front still is, across its commas
        ("en", "Risk factors: no diabetes, hypertension, AF.", "AF", "finding", N),
        # a cue closing its item ("cukrzycy brak") negates that item only
        ("pl", "Wywiad: nadciśnienie tętnicze nieleczone, nikotynizm, cukrzycy brak, hiperlipidemia.", "hiperlipidemia", "finding", P),
        ("pl", "Wywiad: nadciśnienie tętnicze nieleczone, nikotynizm, cukrzycy brak, hiperlipidemia.", "cukrzycy", "finding", N),
        ("en", "PMH: T2DM (metformin, gliclazide), hypercholesterolaemia, non-smoker, no HTN.", "HTN", "finding", N),
        # a preposition after the span negates its own noun, not the span
        ("es", "ACV isquémico previo en 2019 sin secuelas, mRS previo 2.", "ACV isquémico previo", "finding", H),
        ("cs", "OA: AH na terapii (perindopril), DM 2. typu na PAD (metformin), DLP, ICHS, st.p. CMP 2018 bez reziduí.", "st.p. CMP", "finding", H),
        ("bg", "Преживян исхемичен инсулт през 2020 г. без остатъчен дефицит; mRS преди инсулта 1.", "Преживян исхемичен инсулт", "finding", P),
        ("cs", "Trombolýza bez komplikací.", "Trombolýza", "procedure", P),
        # ... while a post-posed negation still negates it
        ("cs", "Trombolýza nebyla podána, pacient přeložen.", "Trombolýza", "procedure", N),
        ("bg", "МТ – не.", "МТ", "procedure", N),
        # a conjunction followed by a cue opens a new, negated item
        ("en", "He takes amlodipine and no antiplatelet. No diabetes.", "amlodipine", "medication", P),
        ("en", "He takes amlodipine and no antiplatelet. No diabetes.", "antiplatelet", "medication", N),
        ("es", "Se realizó trombólisis y no trombectomía.", "trombólisis", "procedure", P),
        # "apart from" ends the scope of "without"
        ("ro", "Bărbat 56 ani, fără antecedente patologice semnificative în afara HTA descoperite recent (netratată).", "HTA", "finding", P),
        # "no contraindications" affirms what follows
        (
            "es",
            "No habiendo contraindicaciones para terapia trombolítica intravenosa, se realizó una trombolisis con t-PA a las 2 h.",
            "se realizó una trombolisis",
            "procedure",
            P,
        ),
        # a finding is not denied by its treatment withheld; a treatment is
        ("en", "Background: hypertension, dyslipidaemia, CABG 2012, paroxysmal AF not anticoagulated (previous GI bleed).", "paroxysmal AF", "finding", P),
        ("es", "Sin tratamiento trombolítico por ventana.", "tratamiento trombolítico", "procedure", N),
        # contraindication words negate a treatment in every language
        ("bg", "Дг.: хеморагичен мозъчен инсулт. ИВТ – противопоказана; МТ – не.", "ИВТ – противопоказана", "procedure", N),
        ("cs", "Dg.: hemoragická CMP (ICH). IVT kontraindikována, MT neindikována.", "IVT kontraindikována", "procedure", N),
        ("el", "Διάγνωση: ΥΑΑ (Hunt-Hess 2). Θρομβόλυση αντενδείκνυται.", "Θρομβόλυση αντενδείκνυται", "procedure", N),
        ("es", "Sin embargo, tras la exploración se desestimó dicha intervención.", "se desestimó dicha intervención", "procedure", N),
        ("en", "Thrombolysis contraindicated (INR 3.4).", "Thrombolysis", "procedure", N),
        # ... but not a finding: "AF, anticoagulation contraindicated" still states AF
        ("en", "AF - anticoagulation contraindicated.", "AF", "finding", P),
        # a drug stopped is not taken; a stopped thrombolysis was given
        ("pl", "Leki domowe: ASA 75 mg, klopidogrel odstawiony, atorwastatyna 80 mg.", "klopidogrel odstawiony", "medication", N),
        ("pl", "Leki domowe: ASA 75 mg, klopidogrel odstawiony, atorwastatyna 80 mg.", "atorwastatyna", "medication", P),
        ("en", "Thrombolysis stopped after 40 minutes for angioedema.", "Thrombolysis", "procedure", P),
        # non-smoker words
        ("en", "62M. PMH: T2DM, hypercholesterolaemia, non-smoker, no HTN.", "non-smoker", "finding", N),
        ("ro", "AVC ischemic în 2019 cu sechele minime (mRS premorbid 1), nefumătoare, fără diabet zaharat.", "nefumătoare", "finding", N),
        ("bg", "ПМ, лекувано с варфарин (INR 2,9), артериална хипертония, без захарен диабет, непушачка.", "непушачка", "finding", N),
        ("cs", "Nekuřák, AH léčená.", "Nekuřák", "finding", N),
        ("pl", "Pacjentka niepaląca, NT.", "niepaląca", "finding", N),
    ],
)
def test_negation_scope(lang, text, span, topic, expected):
    start = text.index(span)
    status, cue = assertion.detect(text, start, start + len(span), lang, topic)
    assert status is expected, cue


def test_topic_cues_need_their_topic():
    text = "IVT kontraindikována, MT neindikována."
    assert assertion.detect(text, 0, 3, "cs", "procedure")[0] is N
    assert assertion.detect(text, 0, 3, "cs")[0] is P
