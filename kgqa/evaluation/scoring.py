"""Pure scoring of extracted facts against gold annotations.

For every (note, concept) in scope the scorer compares the reader's facts with the gold spans:

* **span exact** — a predicted span counts when it has exactly a gold span's offsets;
* **span overlap** — when it shares at least one character with a gold span (one-to-one);
* **value** — a fact whose normalised value is OK counts when its span overlaps a gold span and
  its value equals that gold value (:func:`values_equal`); its micro-F1 is the headline number
  ("micro-F1 of extracted values"). The value must be grounded: without the overlap a boolean
  "prescribed: yes" read off any span at all would count as right by luck;
* **value accuracy** — among span-overlapping pairs, the share whose values are equal (how often
  normalisation turns a right span into the right value);
* **linking accuracy** — among span-overlapping pairs of concepts with members (enums, drugs), the
  share whose member/best link IRI is the gold member's IRI;
* **null decision** — the share of (note, concept) pairs where "the note answers it" was decided right.

Derived facts (no answer span: a prescription category from a drug linked in the discharge list,
door-to-needle from two times) count in the **value** figures only, as ``kgqa run`` writes them: such a fact
is grounded when the answer span of a fact it was derived from (same note, a ``derived_from`` concept)
overlaps the gold span, so "statin at discharge" derived from a list holding "atorvastatin 40 mg" matches
the gold annotation of that mention, and one derived from another part of the note does not. Span, null
and calibration figures stay the reader's own. Each prediction is matched at most once (greedy in text
order), so a duplicate answer is a false positive.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from kgqa.evaluation.gold import GoldAnnotation, GoldNote
from kgqa.types import Assertion, Concept, Fact, Value

# ----------------------------------------------------------------------------- value equality


def _effective_bool(value: Value) -> bool | None:
    if isinstance(value.value, bool):
        return value.value and value.assertion is not Assertion.NEGATED
    return None


def values_equal(gold: Any, value: Value, concept: Concept) -> bool:
    """Whether a normalised value equals a canonical gold value (see kgqa.evaluation.gold)."""
    pv = value.value
    if isinstance(gold, bool):
        return _effective_bool(value) is gold
    if isinstance(gold, str) and concept.members:
        iris = {m.id: m.iri for m in concept.members}
        return (value.member_iri is not None and value.member_iri == iris.get(gold)) or (
            isinstance(pv, str) and pv.casefold() == gold.casefold()
        )
    if isinstance(gold, dt.datetime):
        if isinstance(pv, dt.datetime):
            return pv.replace(second=0, microsecond=0, tzinfo=None) == gold.replace(second=0, microsecond=0)
        # a bare time is accepted: gold times without a date in the text are dated by the admission day
        return isinstance(pv, dt.time) and (pv.hour, pv.minute) == (gold.hour, gold.minute)
    if isinstance(gold, dt.date):
        if isinstance(pv, dt.datetime):
            return pv.date() == gold
        return isinstance(pv, dt.date) and pv == gold
    if isinstance(gold, dt.time):
        return isinstance(pv, (dt.time, dt.datetime)) and (pv.hour, pv.minute) == (gold.hour, gold.minute)
    if isinstance(gold, (int, float, Decimal)):
        if isinstance(pv, bool) or not isinstance(pv, (int, float, Decimal)):
            return False
        return abs(float(pv) - float(gold)) < 1e-6
    if isinstance(gold, str):
        return isinstance(pv, str) and pv.casefold().strip() == gold.casefold().strip()
    return pv == gold


def _link_iri(fact: Fact) -> str | None:
    if fact.value.member_iri:
        return fact.value.member_iri
    return fact.links[0].iri if fact.links else None


# ----------------------------------------------------------------------------- counts


@dataclass
class Counts:
    """Additive tallies; every metric is computed from these, so buckets aggregate exactly."""

    gold: int = 0
    span_pred: int = 0
    exact_tp: int = 0
    overlap_tp: int = 0
    value_pred: int = 0
    value_tp: int = 0
    value_checked: int = 0
    value_correct: int = 0
    link_checked: int = 0
    link_correct: int = 0
    null_total: int = 0
    null_correct: int = 0

    def add(self, other: Counts) -> None:
        for k, v in asdict(other).items():
            setattr(self, k, getattr(self, k) + v)


def _prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float | None]:
    p = tp / n_pred if n_pred else None
    r = tp / n_gold if n_gold else None
    if n_pred == 0 and n_gold == 0:
        f1: float | None = None
    elif not tp:
        f1 = 0.0
    else:
        f1 = 2 * p * r / (p + r)  # type: ignore[operator]
    return {"precision": p, "recall": r, "f1": f1}


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def metrics(c: Counts) -> dict[str, Any]:
    return {
        "support": c.gold,
        "predicted": c.span_pred,
        "span_exact": _prf(c.exact_tp, c.span_pred, c.gold),
        "span_overlap": _prf(c.overlap_tp, c.span_pred, c.gold),
        "value": _prf(c.value_tp, c.value_pred, c.gold),
        "value_accuracy": _ratio(c.value_correct, c.value_checked),
        "linking_accuracy": _ratio(c.link_correct, c.link_checked),
        "null_accuracy": _ratio(c.null_correct, c.null_total),
    }


# ----------------------------------------------------------------------------- matching


def _overlaps(a: GoldAnnotation, f: Fact) -> bool:
    assert f.answer is not None
    return a.start < f.answer.end and f.answer.start < a.end


def _match(golds: Sequence[GoldAnnotation], preds: Sequence[Fact], same) -> list[tuple[GoldAnnotation, Fact]]:
    """Greedy one-to-one matching in text order."""
    free = list(preds)
    pairs = []
    for g in golds:
        for i, f in enumerate(free):
            if same(g, f):
                pairs.append((g, f))
                del free[i]
                break
    return pairs


def score_pair(
    golds: Sequence[GoldAnnotation],
    facts: Sequence[Fact],
    concept: Concept,
    evidence: Mapping[str, Sequence[Fact]] | None = None,
) -> tuple[Counts, list[tuple[float, bool]]]:
    """Counts for one (note, concept), plus (confidence, correct) per predicted span for calibration.

    ``evidence``: the note's facts by concept id, where derived facts find the spans they were derived
    from (without it, derived facts are not scored)."""
    spans = sorted((f for f in facts if f.answer is not None), key=lambda f: f.answer.start)  # type: ignore[union-attr]
    golds = sorted(golds, key=lambda a: a.start)
    c = Counts(gold=len(golds), span_pred=len(spans))
    c.exact_tp = len(_match(golds, spans, lambda g, f: (g.start, g.end) == (f.answer.start, f.answer.end)))
    overlap = _match(golds, spans, _overlaps)
    c.overlap_tp = len(overlap)
    valued = [f for f in spans if f.value.ok]
    derived = [f for f in facts if f.answer is None and f.value.ok] if evidence is not None else []
    c.value_pred = len(valued) + len(derived)

    def grounded(g: GoldAnnotation, f: Fact) -> bool:
        if f.answer is not None:
            return _overlaps(g, f)
        return any(s.answer is not None and _overlaps(g, s)
                   for src in f.derived_from for s in (evidence or {}).get(src, ()))

    c.value_tp = len(_match(golds, valued + derived, lambda g, f: grounded(g, f) and values_equal(g.value, f.value, concept)))
    for g, f in overlap:
        c.value_checked += 1
        c.value_correct += values_equal(g.value, f.value, concept)
        if concept.members and isinstance(g.value, str):
            gold_iri = {m.id: m.iri for m in concept.members}.get(g.value)
            c.link_checked += 1
            c.link_correct += gold_iri is not None and _link_iri(f) == gold_iri
    c.null_total = 1
    c.null_correct = int(bool(golds) == bool(spans))
    calibration = [
        (f.answer.confidence,  # type: ignore[union-attr]
         f.value.ok and any(_overlaps(g, f) and values_equal(g.value, f.value, concept) for g in golds))
        for f in spans
    ]
    return c, calibration


# ----------------------------------------------------------------------------- the report


@dataclass
class Scores:
    """Tallies per bucket: "overall", ("lang", l), ("group", g), ("concept", c), ("lang_group", l, g)."""

    buckets: dict[tuple[str, ...], Counts] = field(default_factory=lambda: defaultdict(Counts))
    calibration: list[tuple[float, bool]] = field(default_factory=list)
    #: the same (confidence, correct) pairs per note language: calibration differs by language
    calibration_by_lang: dict[str, list[tuple[float, bool]]] = field(default_factory=lambda: defaultdict(list))
    notes: int = 0

    def metrics(self, key: tuple[str, ...]) -> dict[str, Any]:
        return metrics(self.buckets.get(key, Counts()))

    def keys(self, kind: str) -> list[str]:
        return sorted(k[1] for k in self.buckets if k[0] == kind and len(k) == 2)

    def micro_f1(self, key: tuple[str, ...] = ("overall",)) -> float | None:
        return self.metrics(key)["value"]["f1"]


def score(
    golds: Iterable[GoldNote],
    facts_by_note: Mapping[str, Sequence[Fact]],
    concepts: Sequence[Concept],
) -> Scores:
    """Score the facts of every gold note for every concept in ``concepts``."""
    out = Scores()
    for gold in golds:
        out.notes += 1
        lang = gold.note.lang
        by_concept: dict[str, list[Fact]] = defaultdict(list)
        for f in facts_by_note.get(gold.note.id, ()):
            by_concept[f.concept_id].append(f)
        for concept in concepts:
            counts, calibration = score_pair(gold.for_concept(concept.id), by_concept.get(concept.id, ()), concept,
                                             evidence=by_concept)
            out.calibration.extend(calibration)
            out.calibration_by_lang[lang].extend(calibration)
            for key in (("overall",), ("lang", lang), ("group", concept.group), ("concept", concept.id),
                        ("lang_group", lang, concept.group)):
                out.buckets[key].add(counts)
    return out


def report_dict(scores: Scores) -> dict[str, Any]:
    """The JSON report: overall, per language, per concept group, per concept, per language and group."""
    return {
        "notes": scores.notes,
        "overall": scores.metrics(("overall",)),
        "by_lang": {k: scores.metrics(("lang", k)) for k in scores.keys("lang")},
        "by_group": {k: scores.metrics(("group", k)) for k in scores.keys("group")},
        "by_concept": {k: scores.metrics(("concept", k)) for k in scores.keys("concept")},
        "by_lang_group": {
            f"{k[1]}/{k[2]}": scores.metrics(k) for k in sorted(scores.buckets) if k[0] == "lang_group"
        },
    }
