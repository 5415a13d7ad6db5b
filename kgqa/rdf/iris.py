"""Deterministic IRIs: the same input and config always mint the same IRIs, never blank nodes.

Every instance IRI is ``base_iri`` + a path built from (patient/case, note, concept, span).
Path segments are percent-encoded UTF-8 (RFC 3987 safe for any Unicode id). Patient
identifiers are replaced by an HMAC-SHA256 keyed from the environment unless
``rdf.pseudonymise`` is false, so an IRI never carries an identifier that can be reversed
without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from rdflib import URIRef

from kgqa.errors import ConfigError
from kgqa.rdf.config import RdfConfig
from kgqa.rdf.vocab import PREFIXES

#: an absolute IRI (RFC 3987): a scheme, then no character IRIs forbid (space, <>"{}|\^` and controls)
IRI_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\x00-\x20<>\"{}|\\^`\x7f-\x9f]+$")


def is_valid_iri(text: str) -> bool:
    return bool(IRI_PATTERN.match(text))


#: hex characters kept of the HMAC (128 bits: collisions are not a practical concern)
PSEUDONYM_HEX = 32


def segment(text: str) -> str:
    """One IRI path segment: percent-encoded UTF-8, unreserved characters kept readable."""
    if text == "":
        raise ValueError("empty IRI segment")
    return quote(text.encode("utf-8", "surrogatepass"), safe="-._~")


def class_segment(iri: str) -> str:
    """A short readable segment naming a class: ``sct-450742003``, ``resq-ThrombolysisAlteplase``."""
    for prefix, ns in PREFIXES.items():
        if prefix != "resqplus" and iri.startswith(ns) and len(iri) > len(ns):
            return segment(f"{prefix}-{iri[len(ns):]}")
    return "h-" + hashlib.sha256(iri.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class IriMinter:
    base: str
    key: bytes | None = None
    pseudonymise_cases: bool = True
    pseudonymise_notes: bool = False

    def __post_init__(self) -> None:
        if (self.pseudonymise_cases or self.pseudonymise_notes) and not self.key:
            raise ConfigError("rdf.key_env: pseudonymising IRIs needs a key")

    @classmethod
    def from_config(cls, cfg: RdfConfig, environ: Mapping[str, str] | None = None) -> IriMinter:
        base = cfg.base_iri
        if not is_valid_iri(base) or not base.endswith(("/", "#")):
            raise ConfigError(f"rdf.base_iri: {base!r} must be an absolute IRI ending with '/' or '#'")
        key: bytes | None = None
        if cfg.pseudonymise or cfg.pseudonymise_notes:
            env = os.environ if environ is None else environ
            raw = env.get(cfg.key_env, "")
            if not raw:
                raise ConfigError(
                    f"rdf.key_env: environment variable {cfg.key_env} is empty or unset; it keys the "
                    "pseudonyms of patient ids (set it, or set rdf.pseudonymise=false to keep ids)"
                )
            key = raw.encode("utf-8")
        return cls(
            base=base, key=key, pseudonymise_cases=cfg.pseudonymise, pseudonymise_notes=cfg.pseudonymise_notes
        )

    # ------------------------------------------------------------------ keys

    def _pseudonym(self, kind: str, ident: str) -> str:
        # the kind is mixed in so a patient and a note with the same id get unrelated pseudonyms
        mac = hmac.new(self.key or b"", f"{kind}\x00{ident}".encode("utf-8", "surrogatepass"), hashlib.sha256)
        return mac.hexdigest()[:PSEUDONYM_HEX]

    def case_key(self, case_id: str) -> str:
        return self._pseudonym("case", case_id) if self.pseudonymise_cases else segment(case_id)

    def note_key(self, note_id: str) -> str:
        return self._pseudonym("note", note_id) if self.pseudonymise_notes else segment(note_id)

    # ------------------------------------------------------------------ IRIs

    def case(self, case_id: str) -> URIRef:
        return URIRef(f"{self.base}case/{self.case_key(case_id)}")

    def note(self, note_id: str) -> URIRef:
        return URIRef(f"{self.base}note/{self.note_key(note_id)}")

    def note_graph(self, note_id: str) -> URIRef:
        return URIRef(f"{self.base}graph/note/{self.note_key(note_id)}")

    def run(self, run_id: str) -> URIRef:
        return URIRef(f"{self.base}run/{segment(run_id)}")

    def run_graph(self, run_id: str) -> URIRef:
        return URIRef(f"{self.base}graph/run/{segment(run_id)}")

    def run_error(self, run_id: str, index: int) -> URIRef:
        return URIRef(f"{self.base}run/{segment(run_id)}/error/{index}")

    def model(self, sha256: str, path: str) -> URIRef:
        # models without a digest (should not happen) fall back to their path, still deterministic
        ident = sha256 or hashlib.sha256(path.encode("utf-8")).hexdigest()
        return URIRef(f"{self.base}model/{segment(ident)}")

    def concept(self, concept_id: str) -> URIRef:
        return URIRef(f"{self.base}concept/{segment(concept_id)}")

    def fact(self, case_id: str, note_id: str, concept_id: str, span: tuple[int, int] | None) -> URIRef:
        where = f"{span[0]}-{span[1]}" if span is not None else "derived"
        return URIRef(
            f"{self.base}case/{self.case_key(case_id)}/fact/{self.note_key(note_id)}/{segment(concept_id)}/{where}"
        )

    def case_node(self, case_id: str, kind: str, class_iri: str) -> URIRef:
        """A node shared by the facts of one case, e.g. the admission procedure they are results of."""
        return URIRef(f"{self.base}case/{self.case_key(case_id)}/{kind}/{class_segment(class_iri)}")
