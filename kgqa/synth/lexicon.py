"""What a language module provides to the generator: phrasings, labels and writing conventions.

Every tuple of alternatives is split by :func:`split_options`: its last third (at least one)
is the *held-out* part, used only for held-out notes, so scores on those notes measure how
the reader copes with phrasings it never saw in training.

``Lexicon.train_only`` adds alternatives that only training notes use (more phrasings to learn
from, while the held-out ones — and so every held-out note — stay exactly as they were), and
whole groups only training notes write (:data:`TRAIN_ONLY_GROUPS`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

#: groups only ``train_only`` has -> the groups whose slots and evidence each of its phrasings combines
#: ("IVT with alteplase (DNT 33 min)": a thrombolysis sentence that also writes the door-to-needle time)
TRAIN_ONLY_GROUPS: Mapping[str, tuple[str, ...]] = {"ivt_pos_dtn": ("ivt_pos", "dtn")}

#: The two template splits. "train" notes never use a held-out phrasing and vice versa.
SPLITS = ("train", "heldout")


def split_options(options: Sequence, split: str, train_only: Sequence = ()) -> tuple:
    """The alternatives a note of ``split`` may use (a single option is shared by both splits).

    ``train_only`` alternatives are appended for training notes and never offered to held-out ones.
    """
    if split not in SPLITS:
        raise ValueError(f"template split {split!r} is not one of {SPLITS}")
    options = tuple(options)
    extra = tuple(train_only) if split == "train" else ()
    if len(options) < 2:
        return options + extra
    held = max(1, len(options) // 3)
    return options[-held:] if split == "heldout" else options[:-held] + extra


@dataclass(frozen=True)
class Lexicon:
    lang: str
    #: decimal separators in use (a note picks one)
    decimal: tuple[str, ...]
    #: date styles; fields {d} {m} {y} {month} (month name) — a note picks one
    date_styles: tuple[str, ...]
    #: month names, January first (the form used after a day number)
    months: tuple[str, ...]
    #: time styles; fields {H} {M} {h12} {ampm}
    time_styles: tuple[str, ...]
    titles: tuple[str, ...]
    #: section key -> header alternatives
    sections: Mapping[str, tuple[str, ...]]
    #: group key -> phrasing alternatives (see kgqa.synth.templates)
    groups: Mapping[str, tuple[str, ...]]
    #: concept id -> member id -> surface forms
    labels: Mapping[str, Mapping[str, tuple[str, ...]]]
    #: drug id -> surface forms
    drugs: Mapping[str, tuple[str, ...]]
    #: risk-factor concept id -> surface forms
    risk_factors: Mapping[str, tuple[str, ...]]
    #: how a present risk factor list starts, e.g. "Risk factors: "
    risk_intro: tuple[str, ...]
    #: how an absent risk factor is negated; {rf} = the factor's surface form
    risk_negated: tuple[str, ...]
    #: how the discharge drug list starts
    drugs_intro: tuple[str, ...]
    #: dosing schemes appended to a drug name (not annotated: they are distractor numbers)
    dosing: tuple[str, ...]
    #: sentences with no gold facts, per section
    fillers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: group key (or "risk_intro", "risk_negated", "drugs_intro") -> alternatives that only
    #: training notes use, on top of the training part of the tuple; never held out
    train_only: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    list_sep: str = ", "
    #: the word joining the last two list items
    list_and: str = " and "
