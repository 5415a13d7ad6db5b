"""Frozen records that flow between kgqa's stages.

Every stage consumes and produces these records, never dicts. Invariants are
checked in ``__post_init__`` so a broken record cannot exist: a span is always
a slice of its note (``note.text[start:end] == answer.text``), confidences lie
in [0, 1], languages are among the seven kgqa supports.

Offsets are Python code-point offsets into ``Note.text`` exactly as read from
disk (CRLF, tabs, zero-width characters included).
"""

from __future__ import annotations

import copyreg
import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from types import MappingProxyType
from typing import Any

from kgqa.errors import RecordError

#: The languages kgqa asks questions in and reads notes in.
LANGUAGES: tuple[str, ...] = ("bg", "cs", "el", "en", "es", "pl", "ro")


# MappingProxyType keeps records immutable but cannot be pickled by default; records travel between
# processes (Ray actors, multiprocessing), so teach pickle to rebuild the proxy from a dict copy.
def _mapping_proxy(items: dict) -> Mapping[str, Any]:
    return MappingProxyType(items)


copyreg.pickle(MappingProxyType, lambda proxy: (_mapping_proxy, (dict(proxy),)))


def _frozen_mapping(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


def _check_lang(lang: str, what: str) -> None:
    if lang not in LANGUAGES:
        raise RecordError(f"{what}: language {lang!r} is not one of {', '.join(LANGUAGES)}")


def text_sha256(text: str) -> str:
    """sha256 of a note's text (UTF-8), the digest recorded in provenance."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# --------------------------------------------------------------------------- notes


@dataclass(frozen=True)
class Note:
    """One clinical note, text kept exactly as read."""

    id: str
    text: str
    lang: str
    patient_id: str | None = None
    admission_date: dt.date | None = None
    source: str = ""
    #: How ``lang`` was decided: "declared" or "detected".
    lang_source: str = "declared"
    metadata: Mapping[str, Any] = field(default_factory=dict)
    sha256: str = ""

    def __post_init__(self) -> None:
        if not self.id or not isinstance(self.id, str):
            raise RecordError(f"note from {self.source or '?'}: empty id")
        if not self.text.strip():
            raise RecordError(f"note {self.id!r}: empty text")
        _check_lang(self.lang, f"note {self.id!r}")
        object.__setattr__(self, "metadata", _frozen_mapping(self.metadata))
        digest = text_sha256(self.text)
        if self.sha256 and self.sha256 != digest:
            raise RecordError(f"note {self.id!r}: sha256 does not match its text")
        object.__setattr__(self, "sha256", digest)

    @property
    def case_id(self) -> str:
        """The clinical case (admission) this note documents: the patient id if known, else the note id."""
        return self.patient_id or self.id


# --------------------------------------------------------------------------- concepts


class ValueKind(str, Enum):
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    TIME = "time"
    DATETIME = "datetime"
    DURATION = "duration"  # minutes
    BOOLEAN = "boolean"  # done / not done, present / absent
    ENUM = "enum"
    DRUG = "drug"
    TEXT = "text"  # free text, linked to an ontology


class Cardinality(str, Enum):
    ONE = "one"
    MANY = "many"


@dataclass(frozen=True)
class EnumMember:
    """One allowed value of an enumeration concept."""

    id: str
    iri: str
    labels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: the SCDM/SNOMED IRI the RDF layer writes for this member (None: it has none, use ``iri``)
    target_iri: str | None = None
    #: RDF-shape details of this member (e.g. a literal value, a class override); see docs/catalogue.md
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", _frozen_mapping({k: tuple(v) for k, v in self.labels.items()}))
        object.__setattr__(self, "extra", _frozen_mapping(self.extra))


@dataclass(frozen=True)
class Concept:
    """A registry variable kgqa asks about."""

    id: str
    group: str
    kind: ValueKind
    #: language -> questions (first is the preferred phrasing)
    questions: Mapping[str, tuple[str, ...]]
    #: SCDM class of the fact node (resq:…)
    target_class: str
    observable: str | None = None
    situation: str | None = None
    procedure: str | None = None
    cardinality: Cardinality = Cardinality.ONE
    minimum: float | None = None
    maximum: float | None = None
    unit: str | None = None
    datatype: str | None = None
    members: tuple[EnumMember, ...] = ()
    #: linker scope: term sources / branches the span may link to
    scope: tuple[str, ...] = ()
    max_answer_tokens: int = 30
    null_threshold: float | None = None
    description: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: for a concept about one vocabulary term (``term: drug/apixaban``): the folded names
    #: (kgqa.linking.normalise.fold, every language) of that term and the terms under it ...
    term_names: tuple[str, ...] = ()
    #: ... and of the other terms of its scheme: an answer naming only these is about something else
    rival_term_names: tuple[str, ...] = ()
    #: names of the catalogue's exclusive sets this concept belongs to: one span of a note answers at most
    #: one concept of a set (admission vs discharge NIHSS, onset vs arrival time, home vs discharge drug)
    exclusive_sets: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.id:
            raise RecordError("concept without id")
        object.__setattr__(self, "kind", ValueKind(self.kind))
        object.__setattr__(self, "cardinality", Cardinality(self.cardinality))
        questions = {lang: tuple(qs) for lang, qs in dict(self.questions).items()}
        for lang, qs in questions.items():
            _check_lang(lang, f"concept {self.id!r} questions")
            if not qs or any(not q.strip() for q in qs):
                raise RecordError(f"concept {self.id!r}: empty question for language {lang!r}")
        object.__setattr__(self, "questions", _frozen_mapping(questions))
        object.__setattr__(self, "members", tuple(self.members))
        object.__setattr__(self, "scope", tuple(self.scope))
        object.__setattr__(self, "extra", _frozen_mapping(self.extra))
        object.__setattr__(self, "term_names", tuple(self.term_names))
        object.__setattr__(self, "rival_term_names", tuple(self.rival_term_names))
        object.__setattr__(self, "exclusive_sets", tuple(self.exclusive_sets))
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise RecordError(f"concept {self.id!r}: minimum {self.minimum} > maximum {self.maximum}")
        if self.max_answer_tokens < 1:
            raise RecordError(f"concept {self.id!r}: max_answer_tokens must be >= 1")

    @property
    def is_list(self) -> bool:
        return self.cardinality is Cardinality.MANY


# --------------------------------------------------------------------------- answers


@dataclass(frozen=True)
class Answer:
    """An answer span the reader found in a note.

    Build it with :meth:`from_note`, which slices the note, so the text can
    never disagree with the offsets.
    """

    note_id: str
    concept_id: str
    start: int
    end: int
    text: str
    #: raw score: start logit + end logit of the span (comparable across windows)
    score: float
    #: the note's null score (minimum CLS score over its windows)
    null_score: float
    #: calibrated probability in [0, 1] that the span is a correct answer
    confidence: float
    question: str = ""
    question_lang: str = "en"
    rank: int = 0

    def __post_init__(self) -> None:
        if not (0 <= self.start < self.end):
            raise RecordError(
                f"answer for {self.concept_id!r} in note {self.note_id!r}: bad span [{self.start}, {self.end})"
            )
        if len(self.text) != self.end - self.start:
            raise RecordError(
                f"answer for {self.concept_id!r} in note {self.note_id!r}: text length does not match the span"
            )
        if not (0.0 <= self.confidence <= 1.0):
            raise RecordError(
                f"answer for {self.concept_id!r} in note {self.note_id!r}: confidence {self.confidence} not in [0, 1]"
            )

    @classmethod
    def from_note(cls, note: Note, concept_id: str, start: int, end: int, **kwargs: Any) -> Answer:
        if end > len(note.text):
            raise RecordError(f"answer for {concept_id!r}: span end {end} beyond note {note.id!r} ({len(note.text)})")
        return cls(note_id=note.id, concept_id=concept_id, start=start, end=end, text=note.text[start:end], **kwargs)

    def check_against(self, note: Note) -> None:
        """Raise unless this answer is an exact slice of ``note``."""
        if note.id != self.note_id or note.text[self.start : self.end] != self.text:
            raise RecordError(
                f"answer for {self.concept_id!r} does not slice note {note.id!r} at [{self.start}, {self.end})"
            )


# --------------------------------------------------------------------------- values


class ValueStatus(str, Enum):
    OK = "ok"
    REJECTED = "rejected"  # parsed, but violates the concept's range or constraints
    UNPARSED = "unparsed"  # could not be turned into a typed value


class Assertion(str, Enum):
    PRESENT = "present"
    NEGATED = "negated"
    HISTORICAL = "historical"
    HYPOTHETICAL = "hypothetical"
    FAMILY = "family"
    POSSIBLE = "possible"


Scalar = int | float | Decimal | dt.date | dt.time | dt.datetime | bool | str | None


@dataclass(frozen=True)
class Value:
    """A typed value normalised from an answer span."""

    kind: ValueKind
    value: Scalar
    status: ValueStatus = ValueStatus.OK
    unit: str | None = None
    #: XSD datatype IRI the value is written with
    datatype: str | None = None
    #: enumeration member chosen, if any
    member_iri: str | None = None
    assertion: Assertion = Assertion.PRESENT
    reason: str | None = None
    #: part of the span the value was read from (e.g. "180" in "180/95"), as offsets into the note
    source_start: int | None = None
    source_end: int | None = None
    #: the note hedged the number ("ca. 120", "8-10"); ``low``/``high`` hold a stated range
    approximate: bool = False
    low: float | None = None
    high: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ValueKind(self.kind))
        object.__setattr__(self, "status", ValueStatus(self.status))
        object.__setattr__(self, "assertion", Assertion(self.assertion))
        if self.status is not ValueStatus.OK and not self.reason:
            raise RecordError(f"{self.status.value} value {self.value!r} needs a reason")
        if self.status is ValueStatus.OK and self.value is None and self.member_iri is None:
            raise RecordError("an ok value needs a value or a member IRI")

    @property
    def ok(self) -> bool:
        return self.status is ValueStatus.OK


# --------------------------------------------------------------------------- links


@dataclass(frozen=True)
class Link:
    """A candidate ontology term for a span."""

    iri: str
    label: str
    score: float  # in [0, 1]
    source: str = ""
    term_id: str = ""
    matched: str = ""  # the label or synonym that matched
    lang: str | None = None

    def __post_init__(self) -> None:
        if not self.iri:
            raise RecordError(f"link for {self.label!r} without IRI")
        if not (0.0 <= self.score <= 1.0):
            raise RecordError(f"link {self.iri}: score {self.score} not in [0, 1]")


# --------------------------------------------------------------------------- facts and runs


@dataclass(frozen=True)
class Fact:
    """What kgqa asserts about a case: a value with its evidence and links.

    ``answer`` is None only for derived facts (e.g. door-to-needle computed from two times);
    their evidence is the facts they were derived from.
    """

    note_id: str
    concept_id: str
    value: Value
    answer: Answer | None = None
    links: tuple[Link, ...] = ()
    derived_from: tuple[str, ...] = ()  # concept ids

    def __post_init__(self) -> None:
        object.__setattr__(self, "links", tuple(self.links))
        object.__setattr__(self, "derived_from", tuple(self.derived_from))
        if self.answer is not None and (
            self.answer.note_id != self.note_id or self.answer.concept_id != self.concept_id
        ):
            raise RecordError(f"fact {self.concept_id!r}/{self.note_id!r}: answer belongs elsewhere")
        if self.answer is None and not self.derived_from:
            raise RecordError(f"fact {self.concept_id!r}/{self.note_id!r}: needs an answer or derived_from")

    @property
    def best_link(self) -> Link | None:
        return self.links[0] if self.links else None


@dataclass(frozen=True)
class ModelInfo:
    path: str
    sha256: str
    name: str = ""


@dataclass(frozen=True)
class RunInfo:
    """Provenance of one run of the pipeline."""

    run_id: str
    started_at: dt.datetime
    kgqa_version: str
    model: ModelInfo
    config_digest: str
    ended_at: dt.datetime | None = None
    #: resolved config with secrets masked (for the run graph)
    config_yaml: str = ""
    catalogue_digest: str = ""

    def finished(self, ended_at: dt.datetime) -> RunInfo:
        from dataclasses import replace

        return replace(self, ended_at=ended_at)


@dataclass(frozen=True)
class NoteError:
    """A note (or input file) that could not be processed, with the reason."""

    source: str
    reason: str
    note_id: str | None = None
    stage: str = "read"
