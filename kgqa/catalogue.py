"""The concept catalogue: which registry variables kgqa asks about, and how they map to the SCDM.

The catalogue is one YAML data file (format in ``docs/catalogue.md``; kgqa ships
``kgqa/resources/catalogue/resq.yaml``). It holds prefixes, concept groups, kgqa's own
SKOS vocabulary for every enumeration (the linker indexes the same labels from
``ontologies/resq-vocab.ttl``, which :func:`vocabulary_graph` writes), and the concepts.

:func:`load_catalogue` is the I/O shell; :func:`parse_catalogue` validates a parsed
document and builds frozen :class:`~kgqa.types.Concept` records. Every error names the
file, the concept and the field, so a typo in a 3,000-line file is found in seconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

#: libyaml's loader when present: the catalogue parses ~10x faster than with the pure-Python one
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

from kgqa.errors import CatalogueError, RecordError
from kgqa.types import LANGUAGES, Cardinality, Concept, EnumMember, ValueKind

log = logging.getLogger(__name__)

XSD = "http://www.w3.org/2001/XMLSchema#"
#: The datatype a kind is written with when the concept names none.
DEFAULT_DATATYPES: Mapping[ValueKind, str] = MappingProxyType(
    {
        ValueKind.INTEGER: XSD + "integer",
        ValueKind.DECIMAL: XSD + "decimal",
        ValueKind.DATE: XSD + "date",
        ValueKind.TIME: XSD + "time",
        ValueKind.DATETIME: XSD + "dateTime",
        ValueKind.DURATION: XSD + "integer",
        ValueKind.BOOLEAN: XSD + "boolean",
    }
)
NUMERIC_KINDS = frozenset({ValueKind.INTEGER, ValueKind.DECIMAL, ValueKind.DURATION})
MEMBER_KINDS = frozenset({ValueKind.ENUM, ValueKind.DRUG})

_TOP_KEYS = frozenset(
    {"version", "name", "description", "prefixes", "groups", "vocabulary", "concepts", "exclusive"}
)
_CONCEPT_KEYS = frozenset(
    {
        "id",
        "group",
        "kind",
        "questions",
        "target_class",
        "observable",
        "situation",
        "procedure",
        "cardinality",
        "minimum",
        "maximum",
        "unit",
        "datatype",
        "scheme",
        "members",
        "term",
        "scope",
        "max_answer_tokens",
        "null_threshold",
        "description",
        "extra",
    }
)
_IRI_FIELDS = ("target_class", "observable", "situation", "procedure", "datatype")
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]*$")
# A whole string that is a prefixed name: expanded in ``extra`` too (prose never matches: it has spaces).
_CURIE_RE = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*):([^\s:/][^\s]*)?$")


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class VocabTerm:
    """One SKOS concept of kgqa's vocabulary (a member of an enumeration)."""

    key: str
    iri: str
    scheme: str
    labels: Mapping[str, tuple[str, ...]]
    #: the SCDM/SNOMED IRI this term stands for (skos:exactMatch), if any
    match: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: keys of broader terms of the same scheme (skos:broader): clopidogrel -> any_antiplatelet
    broader: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scheme:
    id: str
    iri: str
    labels: Mapping[str, str]
    terms: tuple[VocabTerm, ...]

    def term(self, key: str) -> VocabTerm:
        for t in self.terms:
            if t.key == key:
                return t
        raise KeyError(key)

    def narrower(self, key: str) -> tuple[VocabTerm, ...]:
        """The terms under ``key`` over skos:broader, at any depth (not ``key`` itself)."""
        below: list[VocabTerm] = []
        frontier = {key}
        while frontier:
            step = [t for t in self.terms if frontier & set(t.broader) and t not in below and t.key != key]
            below += step
            frontier = {t.key for t in step}
        return tuple(below)


@dataclass(frozen=True)
class VocabClass:
    iri: str
    labels: Mapping[str, str]
    comment: str = ""


@dataclass(frozen=True)
class Vocabulary:
    namespace: str
    schemes: tuple[Scheme, ...] = ()
    classes: tuple[VocabClass, ...] = ()

    def scheme(self, scheme_id: str) -> Scheme:
        for s in self.schemes:
            if s.id == scheme_id:
                return s
        raise KeyError(scheme_id)


@dataclass(frozen=True, eq=False)
class Catalogue:
    """An ordered, immutable set of concepts (plus the vocabulary their members come from).

    Compared and hashed by identity (``eq=False``): it can key a cache; compare ``digest`` for content.
    """

    concepts: tuple[Concept, ...]
    name: str = ""
    groups: Mapping[str, str] = field(default_factory=dict)
    vocabulary: Vocabulary = field(default_factory=lambda: Vocabulary(namespace=""))
    prefixes: Mapping[str, str] = field(default_factory=dict)
    source: str = ""
    digest: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "concepts", tuple(self.concepts))
        object.__setattr__(self, "groups", MappingProxyType(dict(self.groups)))
        object.__setattr__(self, "prefixes", MappingProxyType(dict(self.prefixes)))
        seen: set[str] = set()
        for c in self.concepts:
            if c.id in seen:
                raise CatalogueError(
                    f"catalogue {self.source or self.name!r}: concept {c.id!r} appears twice"
                )
            seen.add(c.id)
        object.__setattr__(self, "_by_id", {c.id: c for c in self.concepts})
        if not self.digest:
            object.__setattr__(self, "digest", concepts_digest(self.concepts))

    def __iter__(self) -> Iterator[Concept]:
        return iter(self.concepts)

    def __len__(self) -> int:
        return len(self.concepts)

    def __contains__(self, concept_id: object) -> bool:
        return concept_id in self._by_id  # type: ignore[attr-defined]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.concepts)

    def get(self, concept_id: str) -> Concept:
        try:
            return self._by_id[concept_id]  # type: ignore[attr-defined]
        except KeyError:
            raise CatalogueError(
                f"catalogue {self.source or self.name!r}: unknown concept {concept_id!r}"
                f" ({len(self.concepts)} concepts, e.g. {', '.join(self.ids[:5])})"
            ) from None

    def select(self, ids: Sequence[str] = (), groups: Sequence[str] = ()) -> Catalogue:
        """The concepts named in ``ids`` or belonging to ``groups`` (both empty: all), in catalogue order."""
        if not ids and not groups:
            return self
        unknown = [i for i in ids if i not in self]
        if unknown:
            raise CatalogueError(
                f"catalogue.concepts: unknown concept id(s) {', '.join(map(repr, unknown))}; valid ids: {', '.join(self.ids)}"
            )
        bad_groups = [g for g in groups if g not in self.groups]
        if bad_groups:
            raise CatalogueError(
                f"catalogue.groups: unknown group(s) {', '.join(map(repr, bad_groups))}; valid groups: {', '.join(self.groups)}"
            )
        wanted, wanted_groups = set(ids), set(groups)
        chosen = tuple(c for c in self.concepts if c.id in wanted or c.group in wanted_groups)
        return Catalogue(
            concepts=chosen,
            name=self.name,
            groups=self.groups,
            vocabulary=self.vocabulary,
            prefixes=self.prefixes,
            source=self.source,
        )

    def by_group(self, group: str) -> tuple[Concept, ...]:
        return tuple(c for c in self.concepts if c.group == group)

    def expand(self, curie: str) -> str:
        """A prefixed name (``resq:StrokeType``) as a full IRI, using the catalogue's prefixes."""
        return _expand(curie, self.prefixes, f"catalogue {self.name!r}")


def concepts_digest(concepts: Sequence[Concept]) -> str:
    """sha256 over a canonical JSON form of the concepts: the same catalogue gives the same digest."""
    payload = [_concept_json(c) for c in concepts]
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _concept_json(c: Concept) -> dict[str, Any]:
    return {
        "id": c.id,
        "group": c.group,
        "kind": c.kind.value,
        "questions": {k: list(v) for k, v in c.questions.items()},
        "target_class": c.target_class,
        "observable": c.observable,
        "situation": c.situation,
        "procedure": c.procedure,
        "cardinality": c.cardinality.value,
        "minimum": c.minimum,
        "maximum": c.maximum,
        "unit": c.unit,
        "datatype": c.datatype,
        "scope": list(c.scope),
        "max_answer_tokens": c.max_answer_tokens,
        "null_threshold": c.null_threshold,
        "exclusive_sets": list(c.exclusive_sets),
        "extra": _plain(c.extra),
        "members": [
            {
                "id": m.id,
                "iri": m.iri,
                "target_iri": m.target_iri,
                "labels": {k: list(v) for k, v in m.labels.items()},
                "extra": _plain(m.extra),
            }
            for m in c.members
        ],
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# --------------------------------------------------------------------------- loading


def load_catalogue(path: str | Path) -> Catalogue:
    """Read and validate a catalogue YAML file; raises :class:`CatalogueError` naming file, concept and field."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogueError(f"catalogue file {str(p)!r} (catalogue.path) cannot be read: {exc}") from exc
    try:
        doc = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        raise CatalogueError(f"catalogue file {str(p)!r} is not valid YAML: {exc}") from exc
    catalogue = parse_catalogue(doc, source=str(p))
    log.info("catalogue %s: %d concepts in %d groups", p.name, len(catalogue), len(catalogue.groups))
    return catalogue


def parse_catalogue(doc: Any, source: str = "<catalogue>") -> Catalogue:
    """Validate a parsed catalogue document and build the records (pure)."""
    if not isinstance(doc, Mapping):
        raise CatalogueError(f"{source}: the top level must be a mapping, got {type(doc).__name__}")
    unknown = set(doc) - _TOP_KEYS
    if unknown:
        raise CatalogueError(
            f"{source}: unknown top-level key(s) {sorted(unknown)}; allowed: {sorted(_TOP_KEYS)}"
        )
    if doc.get("version") != 1:
        raise CatalogueError(f"{source}: field 'version' must be 1, got {doc.get('version')!r}")
    prefixes = _mapping(doc.get("prefixes", {}), f"{source}: field 'prefixes'")
    for pfx, ns in prefixes.items():
        if not isinstance(ns, str) or not re.match(r"^[a-z][a-z0-9+.-]*:", ns):
            raise CatalogueError(f"{source}: prefix {pfx!r} must map to an absolute IRI, got {ns!r}")
    groups_doc = _mapping(doc.get("groups", {}), f"{source}: field 'groups'")
    groups = {}
    for gid, g in groups_doc.items():
        g = g or {}
        if not isinstance(g, Mapping):
            raise CatalogueError(f"{source}: group {gid!r} must be a mapping with a 'description'")
        groups[str(gid)] = str(g.get("description", ""))
    vocabulary = _parse_vocabulary(doc.get("vocabulary") or {}, prefixes, source)
    concepts_doc = doc.get("concepts")
    if not isinstance(concepts_doc, list) or not concepts_doc:
        raise CatalogueError(f"{source}: field 'concepts' must be a non-empty list")
    concepts = []
    seen: set[str] = set()
    for i, entry in enumerate(concepts_doc):
        concept = _parse_concept(entry, i, prefixes, groups, vocabulary, source)
        if concept.id in seen:
            raise CatalogueError(f"{source}: concept {concept.id!r}: field 'id': duplicate id")
        seen.add(concept.id)
        concepts.append(concept)
    concepts = _with_exclusive_sets(concepts, doc.get("exclusive") or {}, source)
    return Catalogue(
        concepts=tuple(concepts),
        name=str(doc.get("name", "")),
        groups=groups,
        vocabulary=vocabulary,
        prefixes=prefixes,
        source=source,
    )


def _with_exclusive_sets(concepts: list[Concept], doc: Any, source: str) -> list[Concept]:
    """Attach the ``exclusive`` sets (name -> concept ids) to their concepts (``Concept.exclusive_sets``)."""
    where = f"{source}: field 'exclusive'"
    sets = _mapping(doc, where)
    known = {c.id for c in concepts}
    membership: dict[str, list[str]] = {}
    for name, ids in sets.items():
        if not isinstance(ids, list) or len(ids) < 2 or not all(isinstance(i, str) for i in ids):
            raise CatalogueError(f"{where}: set {name!r} must be a list of at least two concept ids")
        if unknown := sorted(set(ids) - known):
            raise CatalogueError(f"{where}: set {name!r} names unknown concept(s) {unknown}")
        if len(set(ids)) != len(ids):
            raise CatalogueError(f"{where}: set {name!r} names a concept twice")
        for concept_id in ids:
            membership.setdefault(concept_id, []).append(str(name))
    return [replace(c, exclusive_sets=tuple(membership[c.id])) if c.id in membership else c for c in concepts]


def _parse_vocabulary(doc: Any, prefixes: Mapping[str, str], source: str) -> Vocabulary:
    where = f"{source}: vocabulary"
    doc = _mapping(doc, where)
    namespace = _expand(str(doc.get("namespace", "")), prefixes, f"{where}: field 'namespace'") if doc else ""
    schemes = []
    for sid, sdoc in _mapping(doc.get("schemes", {}), f"{where}: field 'schemes'").items():
        swhere = f"{where}: scheme {sid!r}"
        if not _KEY_RE.match(str(sid)):
            raise CatalogueError(f"{swhere}: the scheme id must match {_KEY_RE.pattern}")
        sdoc = _mapping(sdoc, swhere)
        slabels = _lang_mapping(sdoc.get("labels", {}), f"{swhere}: field 'labels'", single=True)
        terms = []
        for key, tdoc in _mapping(sdoc.get("concepts", {}), f"{swhere}: field 'concepts'").items():
            twhere = f"{swhere}: term {key!r}"
            key = str(key)
            if not _KEY_RE.match(key):
                raise CatalogueError(f"{twhere}: the term key must match {_KEY_RE.pattern}")
            tdoc = _mapping(tdoc, twhere)
            bad = set(tdoc) - {"match", "labels", "extra", "broader"}
            if bad:
                raise CatalogueError(f"{twhere}: unknown field(s) {sorted(bad)}")
            labels = _lang_mapping(tdoc.get("labels", {}), f"{twhere}: field 'labels'")
            if "en" not in labels:
                raise CatalogueError(f"{twhere}: field 'labels' needs at least an English label")
            match = tdoc.get("match")
            terms.append(
                VocabTerm(
                    key=key,
                    iri=f"{namespace}{sid}-{key}",
                    scheme=str(sid),
                    labels=MappingProxyType({k: tuple(v) for k, v in labels.items()}),
                    match=_expand(str(match), prefixes, f"{twhere}: field 'match'") if match else None,
                    extra=MappingProxyType(_expand_deep(tdoc.get("extra") or {}, prefixes)),
                    broader=_keys(tdoc.get("broader"), f"{twhere}: field 'broader'"),
                )
            )
        if not terms:
            raise CatalogueError(f"{swhere}: field 'concepts' is empty")
        keys = {t.key for t in terms}
        for t in terms:
            wrong = [b for b in t.broader if b not in keys or b == t.key]
            if wrong:
                raise CatalogueError(
                    f"{swhere}: term {t.key!r}: field 'broader' names {wrong}, not other terms of this scheme"
                )
        schemes.append(
            Scheme(id=str(sid), iri=f"{namespace}{sid}", labels=MappingProxyType(slabels), terms=tuple(terms))
        )
    classes = []
    for local, cdoc in _mapping(doc.get("classes", {}), f"{where}: field 'classes'").items():
        cdoc = _mapping(cdoc, f"{where}: class {local!r}")
        classes.append(
            VocabClass(
                iri=f"{namespace}{local}",
                labels=MappingProxyType(
                    _lang_mapping(cdoc.get("labels", {}), f"{where}: class {local!r}", single=True)
                ),
                comment=str(cdoc.get("comment", "")),
            )
        )
    return Vocabulary(namespace=namespace, schemes=tuple(schemes), classes=tuple(classes))


def _keys(value: Any, where: str) -> tuple[str, ...]:
    """A term key or a list of them (YAML lets a single one stand alone)."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(k, str) and _KEY_RE.match(k) for k in items):
        raise CatalogueError(f"{where}: expected a term key or a list of them, got {value!r}")
    return tuple(items)


def _term_names(ref: str, vocabulary: Vocabulary) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Folded names of term ``ref`` (with the terms under it) and of its scheme's other terms.

    A span for "was clopidogrel prescribed?" that names only apixaban answers another question; the
    values stage rejects it. Terms under the concept's own (clopidogrel under any_antiplatelet) count
    as its own names, and a name both sides share (a brand of two agents) is nobody's rival.
    """
    from kgqa.linking.normalise import fold  # lazy: the linking package is heavier than the catalogue

    scheme_id, _, key = ref.partition("/")
    scheme = vocabulary.scheme(scheme_id)
    own_terms = (scheme.term(key), *scheme.narrower(key))
    own = {fold(label) for t in own_terms for labels in t.labels.values() for label in labels} - {""}
    rivals = {
        fold(label)
        for t in scheme.terms
        if t not in own_terms
        for labels in t.labels.values()
        for label in labels
    } - own - {""}
    return tuple(sorted(own)), tuple(sorted(rivals))


def _parse_concept(
    entry: Any,
    index: int,
    prefixes: Mapping[str, str],
    groups: Mapping[str, str],
    vocabulary: Vocabulary,
    source: str,
) -> Concept:
    if not isinstance(entry, Mapping):
        raise CatalogueError(f"{source}: concepts[{index}] must be a mapping")
    cid = entry.get("id")
    if not isinstance(cid, str) or not _ID_RE.match(cid):
        raise CatalogueError(
            f"{source}: concepts[{index}]: field 'id' must match {_ID_RE.pattern}, got {cid!r}"
        )
    where = f"{source}: concept {cid!r}"

    def fail(fld: str, problem: str) -> CatalogueError:
        return CatalogueError(f"{where}: field {fld!r}: {problem}")

    unknown = set(entry) - _CONCEPT_KEYS
    if unknown:
        raise CatalogueError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(_CONCEPT_KEYS)}")
    for required in ("group", "kind", "questions", "target_class"):
        if entry.get(required) in (None, "", {}):
            raise fail(required, "is required")
    group = str(entry["group"])
    if group not in groups:
        raise fail("group", f"unknown group {group!r}; declared groups: {', '.join(groups)}")
    try:
        kind = ValueKind(entry["kind"])
    except ValueError:
        raise fail(
            "kind", f"{entry['kind']!r} is not one of {', '.join(k.value for k in ValueKind)}"
        ) from None
    try:
        cardinality = Cardinality(entry.get("cardinality", "one"))
    except ValueError:
        raise fail("cardinality", f"{entry.get('cardinality')!r} is not 'one' or 'many'") from None
    questions = _lang_mapping(entry["questions"], f"{where}: field 'questions'")
    iris = {
        fld: _expand(str(entry[fld]), prefixes, f"{where}: field {fld!r}") if entry.get(fld) else None
        for fld in _IRI_FIELDS
    }
    datatype = iris["datatype"] or DEFAULT_DATATYPES.get(kind)
    if datatype is not None and not datatype.startswith(XSD):
        raise fail("datatype", f"{datatype!r} is not an XSD datatype")
    minimum, maximum = entry.get("minimum"), entry.get("maximum")
    for fld, val in (("minimum", minimum), ("maximum", maximum)):
        if val is not None and (isinstance(val, bool) or not isinstance(val, (int, float))):
            raise fail(fld, f"must be a number, got {val!r}")
        if val is not None and kind not in NUMERIC_KINDS:
            raise fail(fld, f"only numeric kinds have a range, this concept is {kind.value!r}")
    unit = entry.get("unit")
    if kind is ValueKind.DURATION and unit is None:
        unit = "minute"
    if unit is not None:
        if kind not in NUMERIC_KINDS:
            raise fail("unit", f"only numeric kinds have a unit, this concept is {kind.value!r}")
        from kgqa.values.units import check_unit  # lazy: pint's registry takes a moment to build

        problem = check_unit(str(unit))
        if problem:
            raise fail("unit", problem)
    members, scope = _members(entry, kind, vocabulary, where, fail)
    term = entry.get("term")
    extra = _expand_deep(_mapping(entry.get("extra") or {}, f"{where}: field 'extra'"), prefixes)
    term_names: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    if term:
        extra["term"] = _term_iri(str(term), vocabulary, fail)
        term_names = _term_names(str(term), vocabulary)
    if entry.get("scope"):
        scope = tuple(str(s) for s in entry["scope"])
    mat = entry.get("max_answer_tokens", 30)
    if not isinstance(mat, int) or isinstance(mat, bool) or mat < 1:
        raise fail("max_answer_tokens", f"must be a positive integer, got {mat!r}")
    nt = entry.get("null_threshold")
    if nt is not None and (isinstance(nt, bool) or not isinstance(nt, (int, float))):
        raise fail("null_threshold", f"must be a number, got {nt!r}")
    try:
        return Concept(
            id=cid,
            group=group,
            kind=kind,
            questions=questions,
            target_class=iris["target_class"] or "",
            observable=iris["observable"],
            situation=iris["situation"],
            procedure=iris["procedure"],
            cardinality=cardinality,
            minimum=None if minimum is None else float(minimum),
            maximum=None if maximum is None else float(maximum),
            unit=unit,
            datatype=datatype,
            members=members,
            scope=scope,
            max_answer_tokens=mat,
            null_threshold=None if nt is None else float(nt),
            description=str(entry.get("description", "")),
            extra=extra,
            term_names=term_names[0],
            rival_term_names=term_names[1],
        )
    except RecordError as exc:
        raise CatalogueError(f"{where}: {exc}") from exc


def _members(entry: Mapping[str, Any], kind: ValueKind, vocabulary: Vocabulary, where: str, fail: Any):
    scheme_id = entry.get("scheme")
    if scheme_id is None:
        if kind is ValueKind.ENUM:
            raise fail("scheme", "an enumeration needs a vocabulary scheme for its members")
        if entry.get("members"):
            raise fail("members", "members come from a 'scheme'; name one")
        return (), ()
    if kind not in MEMBER_KINDS:
        raise fail("scheme", f"only enum and drug concepts have members, this concept is {kind.value!r}")
    try:
        scheme = vocabulary.scheme(str(scheme_id))
    except KeyError:
        raise fail(
            "scheme",
            f"unknown scheme {scheme_id!r}; vocabulary schemes: {', '.join(s.id for s in vocabulary.schemes)}",
        ) from None
    keys = entry.get("members") or [t.key for t in scheme.terms]
    members = []
    for key in keys:
        try:
            t = scheme.term(str(key))
        except KeyError:
            raise fail("members", f"{key!r} is not a term of scheme {scheme.id!r}") from None
        members.append(EnumMember(id=t.key, iri=t.iri, labels=t.labels, target_iri=t.match, extra=t.extra))
    return tuple(members), (scheme.iri,)


def _term_iri(ref: str, vocabulary: Vocabulary, fail: Any) -> str:
    scheme_id, _, key = ref.partition("/")
    try:
        return vocabulary.scheme(scheme_id).term(key).iri
    except KeyError:
        raise fail("term", f"{ref!r} is not SCHEME/TERM of the vocabulary") from None


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise CatalogueError(f"{where} must be a mapping, got {type(value).__name__}")
    return {str(k): v for k, v in value.items()}


def _lang_mapping(value: Any, where: str, single: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for lang, texts in _mapping(value, where).items():
        if lang not in LANGUAGES:
            raise CatalogueError(f"{where}: language {lang!r} is not one of {', '.join(LANGUAGES)}")
        if single:
            if not isinstance(texts, str) or not texts.strip():
                raise CatalogueError(f"{where}: {lang!r} must be a non-empty string")
            out[lang] = texts
            continue
        if isinstance(texts, str):
            texts = [texts]
        if (
            not isinstance(texts, list)
            or not texts
            or any(not isinstance(t, str) or not t.strip() for t in texts)
        ):
            raise CatalogueError(f"{where}: {lang!r} must be a non-empty list of non-empty strings")
        out[lang] = tuple(texts)
    return out


def _expand(value: str, prefixes: Mapping[str, str], where: str) -> str:
    m = _CURIE_RE.match(value)
    if m and m.group(1) in prefixes:
        return prefixes[m.group(1)] + (m.group(2) or "")
    if re.match(r"^(https?|urn):", value):
        return value
    raise CatalogueError(
        f"{where}: {value!r} is neither a full IRI nor a prefixed name with a declared prefix"
    )


def _expand_deep(value: Any, prefixes: Mapping[str, str]) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _expand_deep(v, prefixes) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_deep(v, prefixes) for v in value]
    if isinstance(value, str):
        m = _CURIE_RE.match(value)
        if m and m.group(1) in prefixes:
            return prefixes[m.group(1)] + (m.group(2) or "")
    return value


# --------------------------------------------------------------------------- SKOS vocabulary


def vocabulary_graph(catalogue: Catalogue):  # -> rdflib.Graph
    """kgqa's RES-Q vocabulary as SKOS: one scheme per enumeration, prefLabel = first label, altLabels the rest.

    ``ontologies/resq-vocab.ttl`` is this graph serialised (``python -m kgqa.catalogue vocab``);
    a test keeps the two in step.
    """
    from rdflib import Graph, Literal, Namespace, URIRef
    from rdflib.namespace import OWL, RDF, RDFS, SKOS

    vocab = catalogue.vocabulary
    g = Graph()
    g.bind("skos", SKOS)
    g.bind("owl", OWL)
    for pfx, ns in catalogue.prefixes.items():
        g.bind(pfx, Namespace(ns))
    onto = URIRef(vocab.namespace.rstrip("#/"))
    g.add((onto, RDF.type, OWL.Ontology))
    g.add((onto, RDFS.label, Literal("kgqa RES-Q PLUS vocabulary", lang="en")))
    g.add(
        (
            onto,
            RDFS.comment,
            Literal(
                "SKOS concept schemes for the enumerations of the kgqa RES-Q PLUS catalogue; generated from "
                "kgqa/resources/catalogue/resq.yaml by `python -m kgqa.catalogue vocab`.",
                lang="en",
            ),
        )
    )
    for cls in vocab.classes:
        c = URIRef(cls.iri)
        g.add((c, RDF.type, OWL.Class))
        for lang, label in cls.labels.items():
            g.add((c, RDFS.label, Literal(label, lang=lang)))
        if cls.comment:
            g.add((c, RDFS.comment, Literal(cls.comment, lang="en")))
    for scheme in vocab.schemes:
        s = URIRef(scheme.iri)
        g.add((s, RDF.type, SKOS.ConceptScheme))
        for lang, label in scheme.labels.items():
            g.add((s, SKOS.prefLabel, Literal(label, lang=lang)))
        for term in scheme.terms:
            t = URIRef(term.iri)
            g.add((t, RDF.type, SKOS.Concept))
            g.add((t, SKOS.inScheme, s))
            if term.broader:
                for b in term.broader:
                    g.add((t, SKOS.broader, URIRef(scheme.term(b).iri)))
                    g.add((URIRef(scheme.term(b).iri), SKOS.narrower, t))
            else:
                g.add((t, SKOS.topConceptOf, s))
                g.add((s, SKOS.hasTopConcept, t))
            g.add((t, SKOS.notation, Literal(term.key)))
            for lang, labels in term.labels.items():
                g.add((t, SKOS.prefLabel, Literal(labels[0], lang=lang)))
                for alt in labels[1:]:
                    g.add((t, SKOS.altLabel, Literal(alt, lang=lang)))
            if term.match:
                # exactMatch is transitive: terms that share a match IRI, or that need a context to
                # mean it (known vs newly detected AF), are only close matches.
                shared = sum(1 for other in scheme.terms if other.match == term.match) > 1
                contextual = any(k.endswith("context") or k == "target_class" for k in term.extra)
                g.add((t, SKOS.closeMatch if shared or contextual else SKOS.exactMatch, URIRef(term.match)))
    return g


def write_vocabulary(catalogue_path: Path | None = None, out: Path | None = None) -> tuple[Path, int]:
    """Write the SKOS vocabulary of a catalogue (default: the shipped one, to ontologies/resq-vocab.ttl);
    returns the file written and its triple count. ``python -m kgqa.catalogue vocab`` runs it."""
    from kgqa import PROJECT_ROOT

    out = out or PROJECT_ROOT / "ontologies" / "resq-vocab.ttl"
    graph = vocabulary_graph(load_catalogue(catalogue_path or DEFAULT_CATALOGUE))
    out.write_text(VOCAB_HEADER + graph.serialize(format="turtle"), encoding="utf-8")
    return out, len(graph)


DEFAULT_CATALOGUE = Path(__file__).resolve().parent / "resources" / "catalogue" / "resq.yaml"
VOCAB_HEADER = (
    "# kgqa RES-Q PLUS vocabulary (SKOS). GENERATED from kgqa/resources/catalogue/resq.yaml:\n"
    "#   python -m kgqa.catalogue vocab\n"
    "# Edit the catalogue, not this file. Source/version/licence: see ontologies/README.md.\n"
)

if __name__ == "__main__":
    from kgqa.commands.vocab import main  # the command line lives in the CLI layer

    raise SystemExit(main())
