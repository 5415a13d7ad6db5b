"""Typed config of the RDF builder and of ``kgqa validate`` (Hydra group ``rdf``)."""

from dataclasses import dataclass


@dataclass
class RdfConfig:
    #: base IRI for minted instance IRIs (must end with "/" or "#")
    base_iri: str = "https://kgqa.example.org/id/"
    #: pseudonymise patient ids in IRIs with a keyed hash (HMAC-SHA256)
    pseudonymise: bool = True
    #: environment variable holding the HMAC key
    key_env: str = "KGQA_PSEUDONYM_KEY"
    #: also pseudonymise note ids in IRIs (turn on when note ids embed patient identifiers);
    #: the note id itself is then not written either
    pseudonymise_notes: bool = False
    #: characters of context kept on each side in oa:TextQuoteSelector prefix/suffix
    quote_context: int = 32
    #: RES-Q PLUS SHACL shapes (published shacl_valid.ttl); relative paths are taken from the
    #: project root. Optional: `kgqa validate` warns and checks kgqa's shapes alone when absent.
    resq_shapes: str = "../shared/data/resq_plus/shacl_valid.ttl"
    #: kgqa's own shapes for the evidence and provenance layers
    kgqa_shapes: str = "ontologies/shapes.ttl"
