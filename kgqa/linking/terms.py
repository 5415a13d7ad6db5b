"""Terms as the loaders produce them, before they are packed into the index.

A loader reads one file and yields :class:`Term` fragments; fragments with the same id from
several files of one source are merged (HPO's English OBO + its Spanish and Czech babelon files
become one term with labels in three languages).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

#: language tag of labels that are the same in every language (codes, brand names, Latin INNs)
ANY_LANG = ""


@dataclass(frozen=True)
class Label:
    """One name of a term."""

    text: str
    lang: str = ANY_LANG
    #: pref (preferred label) | syn (synonym) | abbr | brand | learned (from annotated data)
    kind: str = "pref"
    #: how often annotated data used this name for this term (learned synonyms), else 0
    count: int = 0


@dataclass(frozen=True)
class Term:
    """A term fragment: id (CURIE), IRI, names and the branches it belongs to."""

    id: str
    iri: str = ""
    labels: tuple[Label, ...] = ()
    #: ancestors, schemes and code prefixes, for scope restriction (``Concept.scope``)
    branches: tuple[str, ...] = ()
    obsolete: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)


def merge_terms(fragments: Iterable[Term]) -> Iterator[Term]:
    """Merge fragments by id, keeping first-seen order, labels de-duplicated."""
    merged: dict[str, Term] = {}
    for frag in fragments:
        seen = merged.get(frag.id)
        if seen is None:
            merged[frag.id] = frag
            continue
        labels = dict.fromkeys(seen.labels + frag.labels)
        merged[frag.id] = Term(
            id=seen.id,
            iri=seen.iri or frag.iri,
            labels=tuple(labels),
            branches=tuple(dict.fromkeys(seen.branches + frag.branches)),
            obsolete=seen.obsolete or frag.obsolete,
            extra={**frag.extra, **seen.extra},
        )
    yield from merged.values()


def code_prefixes(curie: str, min_len: int = 1) -> tuple[str, ...]:
    """Every proper prefix of a hierarchical code ("ATC:B01AF01" → "ATC:B", "ATC:B01", …).

    ATC and ICD-10 codes are hierarchical by prefix, so a scope such as ``ATC:B01`` (antithrombotics)
    or ``ICD10CM:I63`` (cerebral infarction) selects a branch without a separate hierarchy file.
    """
    prefix, _, code = curie.partition(":")
    code = code.replace(".", "")
    out = []
    for n in range(min_len, len(code)):
        out.append(f"{prefix}:{_dotted(prefix, code[:n])}")
    return tuple(out)


def _dotted(prefix: str, code: str) -> str:
    # ICD-10 codes carry a dot after the third character ("I63.01"); ATC codes have none.
    if prefix.upper().startswith("ICD10") and len(code) > 3:
        return f"{code[:3]}.{code[3:]}"
    return code
