"""Compose synthetic stroke discharge reports with gold annotations.

A note is built section by section from a language's :class:`~kgqa.synth.lexicon.Lexicon`;
every choice (phrasing, section header, section order) is drawn only from the alternatives of
the note's template split, so held-out notes use phrasings never seen in training notes.
The builder records each slot's offsets while it writes (see :mod:`kgqa.synth.templates`).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from kgqa.evaluation.gold import GoldAnnotation, GoldNote
from kgqa.synth.case import DRUG_CONCEPTS, Case, sample_case
from kgqa.synth.languages import lexicon_for
from kgqa.synth.lexicon import Lexicon, split_options
from kgqa.synth.templates import TextBuilder, slots
from kgqa.types import LANGUAGES, Note

#: Section order alternatives (split like every other alternative: the last is held out).
SECTION_ORDERS: tuple[tuple[str, ...], ...] = (
    ("history", "admission", "diagnosis", "treatment", "course", "discharge"),
    ("diagnosis", "history", "admission", "treatment", "course", "discharge"),
    ("admission", "history", "diagnosis", "treatment", "discharge", "course"),
    ("diagnosis", "admission", "treatment", "history", "course", "discharge"),
)

#: groups per section, in their usual order
SECTION_GROUPS: dict[str, tuple[str, ...]] = {
    "history": ("risk_list", "previous_stroke", "prestroke_mrs"),
    "admission": ("onset", "arrival", "nihss_score", "gcs_score", "bp", "glucose", "cholesterol"),
    "diagnosis": ("stroke_type",),
    "treatment": ("ivt", "dtn", "evt"),
    "course": ("discharge_nihss_score", "discharge_mrs", "gcs_discharge"),
    "discharge": ("destination", "drug_list", "discharge_date"),
}

#: slots that are written but are not gold facts (distractor numbers)
DISTRACTOR_SLOTS = frozenset({"prior_year", "admission_date", "gcs_discharge"})

#: probability that a fact the case has is written at all (the rest are absent facts)
P_MENTION = 0.85
#: probability that a negative boolean is written as a negated fact rather than left out
P_NEGATED = {"thrombolysis": 0.8, "thrombectomy": 0.6, "risk_previous_stroke": 0.5, "risk": 0.35}

LAYOUTS = ("lines", "inline", "bullets")


@dataclass(frozen=True)
class Style:
    """Writing conventions fixed once per note."""

    decimal: str
    date_style: str
    time_style: str
    layout: str


class _NoteWriter:
    def __init__(self, lex: Lexicon, case: Case, split: str, rng: random.Random) -> None:
        self.lex, self.case, self.split, self.rng = lex, case, split, rng
        self.style = Style(
            decimal=rng.choice(lex.decimal),
            date_style=rng.choice(lex.date_styles),
            time_style=rng.choice(lex.time_styles),
            layout=rng.choice(LAYOUTS),
        )
        self.out = TextBuilder()
        self.phrasings: list[str] = []

    # ------------------------------------------------------------------ rendering of values

    def render(self, concept: str) -> str:
        value = self.case.extras[concept] if concept in DISTRACTOR_SLOTS else self.case.values[concept]
        if concept in self.lex.labels:
            return self.rng.choice(self.lex.labels[concept][value])
        if concept == "ivt_drug":
            return self.rng.choice(self.lex.drugs[value])
        if isinstance(value, bool):
            raise TypeError(f"boolean concept {concept!r} needs an evidence slot, not a value slot")
        if isinstance(value, dt.datetime):
            # most notes give acute-phase times without a date (the admission day is implied)
            time = self._time(value.time())
            return f"{self._date(value.date())} {time}" if self.rng.random() < 0.25 else time
        if isinstance(value, dt.date):
            return self._date(value)
        if isinstance(value, float):
            return f"{value:.1f}".replace(".", self.style.decimal)
        return str(value)

    def _date(self, value: dt.date) -> str:
        return self.style.date_style.format(d=value.day, m=value.month, y=value.year,
                                            month=self.lex.months[value.month - 1])

    def _time(self, value: dt.time) -> str:
        h12 = value.hour % 12 or 12
        ampm = "AM" if value.hour < 12 else "PM"
        return self.style.time_style.format(H=value.hour, M=value.minute, h12=h12, ampm=ampm)

    # ------------------------------------------------------------------ choosing phrasings

    def pick(self, group: str) -> str | None:
        """A phrasing of ``group`` whose slots the case can fill, preferring the most complete ones."""
        options = split_options(self.lex.groups.get(group, ()), self.split, self.lex.train_only.get(group, ()))
        fillable = [p for p in options if all(s in DISTRACTOR_SLOTS or s in self.case.values for s in slots(p))]
        if not fillable:
            return None
        most = max(len(slots(p)) for p in fillable)
        # not always the most complete: partial mentions (drug without dose…) happen in real notes
        candidates = fillable if self.rng.random() < 0.2 else [p for p in fillable if len(slots(p)) == most]
        phrasing = self.rng.choice(candidates)
        self.phrasings.append(self._phrasing_id(group, self.lex.groups.get(group, ()), phrasing))
        return phrasing

    def choose(self, options: Sequence[str], what: str) -> str:
        chosen = self.rng.choice(split_options(options, self.split, self.lex.train_only.get(what, ())))
        self.phrasings.append(self._phrasing_id(what, options, chosen))
        return chosen

    def _phrasing_id(self, what: str, options: Sequence[str], chosen: str) -> str:
        """``lang.what.i`` for the i-th alternative of the tuple, ``lang.what.t<i>`` for a train-only one."""
        options = tuple(options)
        if chosen in options:
            return f"{self.lex.lang}.{what}.{options.index(chosen)}"
        return f"{self.lex.lang}.{what}.t{self.lex.train_only[what].index(chosen)}"

    # ------------------------------------------------------------------ sentences of a section

    def sentences(self, section: str) -> list[Callable[[], None]]:
        v = self.case.values
        out: list[Callable[[], None]] = []
        dtn_written = False
        for group in SECTION_GROUPS[section]:
            if group == "risk_list":
                out.extend(self._risk_sentences())
            elif group == "drug_list":
                if self.case.drugs and self.rng.random() < P_MENTION:
                    out.append(self._drug_sentence)
            elif group in ("previous_stroke", "ivt", "evt"):
                concept = {"previous_stroke": "risk_previous_stroke", "ivt": "thrombolysis",
                           "evt": "thrombectomy"}[group]
                if v[concept] and self.rng.random() < P_MENTION:
                    if group == "ivt" and self._dtn_inside_ivt():
                        # "IVT with alteplase (DNT 33 min)": the interval written inside the lysis sentence
                        out.append(self._phrasing_writer("ivt_pos_dtn"))
                        dtn_written = True
                    else:
                        out.append(self._phrasing_writer(group + "_pos"))
                elif not v[concept] and self.rng.random() < P_NEGATED[concept]:
                    out.append(self._phrasing_writer(group + "_neg"))
            elif group == "dtn":
                if "door_to_needle" in v and not dtn_written and self.rng.random() < 0.6:
                    out.append(self._phrasing_writer(group))
            elif self.rng.random() < P_MENTION:
                out.append(self._phrasing_writer(group))
        fillers = self.lex.fillers.get(section, ())
        if fillers and self.rng.random() < 0.6:
            filler = self.rng.choice(fillers)
            out.insert(self.rng.randint(0, len(out)), lambda f=filler: self.out.write(f))
        return out

    def _dtn_inside_ivt(self) -> bool:
        """Whether this (training) note writes its door-to-needle time inside the thrombolysis sentence.

        Train-only phrasings (``ivt_pos_dtn``); the random draw happens only for training notes, so
        held-out notes of a seed stay exactly what they were.
        """
        if self.split != "train" or "ivt_pos_dtn" not in self.lex.train_only:
            return False
        return "door_to_needle" in self.case.values and self.rng.random() < 0.5

    def _phrasing_writer(self, group: str) -> Callable[[], None]:
        phrasing = self.pick(group)
        if phrasing is None:
            return lambda: None
        return lambda: self.out.write_phrasing(phrasing, self.render)

    def _risk_sentences(self) -> list[Callable[[], None]]:
        v, lex = self.case.values, self.lex
        present = [rf for rf in lex.risk_factors if v.get(rf) and self.rng.random() < P_MENTION]
        negated = [rf for rf in lex.risk_factors if not v.get(rf) and self.rng.random() < P_NEGATED["risk"]]
        writers: list[Callable[[], None]] = []
        if present:
            intro = self.choose(lex.risk_intro, "risk_intro")

            def write_present() -> None:
                self.out.write(intro)
                for i, rf in enumerate(present):
                    if i:
                        self.out.write(lex.list_and if i == len(present) - 1 else lex.list_sep)
                    self.out.write_span(rf, self.rng.choice(lex.risk_factors[rf]))
                self.out.write(".")

            writers.append(write_present)
        if negated:
            pattern = self.choose(lex.risk_negated, "risk_negated")

            def write_negated() -> None:
                for i, rf in enumerate(negated):
                    if i:
                        self.out.write(lex.list_sep)
                    phrase = pattern.format(rf=self.rng.choice(lex.risk_factors[rf]))
                    if i == 0:
                        phrase = phrase[0].upper() + phrase[1:]
                    self.out.write_span(rf, phrase)
                self.out.write(".")

            writers.append(write_negated)
        return writers

    def _drug_sentence(self) -> None:
        intro = self.choose(self.lex.drugs_intro, "drugs_intro")
        self.out.write(intro)
        for i, drug in enumerate(self.case.drugs):
            if i:
                self.out.write(self.lex.list_sep)
            self.out.write_span(DRUG_CONCEPTS[drug], self.rng.choice(self.lex.drugs[drug]))
            if self.rng.random() < 0.7:
                self.out.write(" " + self.rng.choice(self.lex.dosing))
        self.out.write(".")

    # ------------------------------------------------------------------ the whole note

    def write(self) -> None:
        lex, out, layout = self.lex, self.out, self.style.layout
        out.write(self.choose(lex.titles, "title") + "\n\n")
        header = [self._phrasing_writer(g) for g in ("age_sex", "admission_date") if self.rng.random() < P_MENTION]
        for w in header:
            w()
            out.write(" " if layout == "inline" else "\n")
        order = self.rng.choice(split_options(SECTION_ORDERS, self.split))
        self.phrasings.append(f"*.section_order.{SECTION_ORDERS.index(order)}")
        for section in order:
            sentences = self.sentences(section)
            if not sentences:
                continue
            header = self.choose(lex.sections[section], f"section.{section}")
            if layout == "inline" and not header.endswith(":"):
                header += ":"
            out.write("\n" + header)
            out.write(" " if layout == "inline" else "\n")
            for i, sentence in enumerate(sentences):
                start = len(out)
                if layout == "bullets":
                    out.write("- ")
                    start = len(out)
                sentence()
                if len(out) == start:
                    continue
                out.write("\n" if layout in ("lines", "bullets") else " ")
            out.write("\n")


def _gold_value(case: Case, concept: str) -> tuple[Any, str]:
    """(canonical value, assertion) of a span the writer produced."""
    if concept in DRUG_CONCEPTS.values():
        return True, "present"
    value = case.values[concept]
    if isinstance(value, bool):
        return value, "present" if value else "negated"
    return value, "present"


def generate_note(lang: str, index: int, *, split: str = "train", seed: int = 0) -> GoldNote:
    """One synthetic note; the same (lang, index, split, seed) always gives the same note."""
    lex = lexicon_for(lang)
    rng = random.Random(f"{seed}:{split}:{lang}:{index}")
    case = sample_case(rng)
    writer = _NoteWriter(lex, case, split, rng)
    writer.write()
    text = writer.out.text
    note_id = f"synth-{split}-{lang}-{seed}-{index:05d}"
    note = Note(
        id=note_id,
        text=text,
        lang=lang,
        patient_id=note_id,
        admission_date=case.extras["admission_date"],
        source="kgqa.synth",
        metadata={"template_split": split, "seed": seed},
    )
    annotations = []
    for span in writer.out.spans:
        if span.concept in DISTRACTOR_SLOTS:
            continue
        value, assertion = _gold_value(case, span.concept)
        annotations.append(GoldAnnotation(span.concept, span.start, span.end, span.text, value, assertion))
    return GoldNote(note=note, annotations=tuple(annotations), split=split, phrasings=tuple(writer.phrasings))


def generate_corpus(
    n_per_lang: int, *, split: str = "train", seed: int = 0, langs: Sequence[str] = LANGUAGES
) -> Iterator[GoldNote]:
    """``n_per_lang`` notes in each language, interleaved by language."""
    for index in range(n_per_lang):
        for lang in langs:
            yield generate_note(lang, index, split=split, seed=seed)
