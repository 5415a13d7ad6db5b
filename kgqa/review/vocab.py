"""The review vocabulary: decisions about facts, as PROV activities (``kgqar:``).

Closed like ``KGQA`` (``_fail = True``): a misspelt term is an AttributeError where it is used.
kgqa's own namespace is left alone (``ontologies/kgqa.ttl`` mirrors it term for term); review terms
live in their own namespace so that the review loop can evolve without touching the graph contract.
"""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import DefinedNamespace


class KGQAR(DefinedNamespace):
    """Decisions of reviewers about kgqa facts (docs/review.md)."""

    _NS = Namespace("https://w3id.org/kgqa/review#")
    _fail = True

    # classes
    Decision: URIRef
    Reviewer: URIRef
    NoteReview: URIRef
    # actions
    Accept: URIRef
    Reject: URIRef
    Correct: URIRef
    # reasons for a rejection
    WrongSpan: URIRef
    WrongValue: URIRef
    NotThisPatient: URIRef
    Negated: URIRef
    Historical: URIRef
    # properties
    action: URIRef
    reason: URIRef
    fact: URIRef
    note: URIRef
    correction: URIRef
    reviewerId: URIRef
    sawFact: URIRef


#: action name (the web app's and the export's word) -> IRI
ACTIONS: dict[str, URIRef] = {"accept": KGQAR.Accept, "reject": KGQAR.Reject, "correct": KGQAR.Correct}

#: reason name -> (IRI, label shown to the reviewer); the order is the order of the keyboard shortcuts 1-5
REASONS: dict[str, tuple[URIRef, str]] = {
    "wrong_span": (KGQAR.WrongSpan, "wrong span"),
    "wrong_value": (KGQAR.WrongValue, "wrong value"),
    "not_this_patient": (KGQAR.NotThisPatient, "not this patient / event"),
    "negated": (KGQAR.Negated, "negated"),
    "historical": (KGQAR.Historical, "historical"),
}

ACTION_NAMES: dict[str, str] = {str(iri): name for name, iri in ACTIONS.items()}
REASON_NAMES: dict[str, str] = {str(iri): name for name, (iri, _) in REASONS.items()}
