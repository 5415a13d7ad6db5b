"""Typed config of the RDF builder and of ``kgqa validate`` (Hydra group ``rdf``)."""

from dataclasses import dataclass


@dataclass
class RdfConfig:
    #: base IRI for minted instance IRIs (must end with "/" or "#")
    base_iri: str = "https://kgqa.example.org/id/"
    #: pseudonymise patient ids in IRIs with a keyed hash (HMAC-SHA256)
    pseudonymise: bool = True
    #: environment variable holding the HMAC key; when unset, the key is read from the key file
    key_env: str = "KGQA_PSEUDONYM_KEY"
    #: the key file (kgqa.rdf.keys); empty: $KGQA_KEY_FILE, else $XDG_CONFIG_HOME/kgqa/pseudonym.key
    #: (~/.config/kgqa/pseudonym.key) — outside the checkout, so `make clean` never deletes it
    key_file: str = ""
    #: create the key file when it is missing (a first run); otherwise a missing key is refused, because
    #: a new key gives every case a new IRI. Refused anyway when the store holds graphs of an earlier key
    create_key: bool = False
    #: also pseudonymise note ids in IRIs (turn on when note ids embed patient identifiers);
    #: the note id itself is then not written either
    pseudonymise_notes: bool = False
    #: characters of context kept on each side in oa:TextQuoteSelector prefix/suffix
    quote_context: int = 32
    #: what prefix/suffix hold: "scrubbed" (identifiers masked, kgqa.rdf.scrub), "none" (left out),
    #: "raw" (the text as it is: only for corpora that are already de-identified)
    selector_context: str = "scrubbed"
    #: RES-Q PLUS SHACL shapes (published shacl_valid.ttl); relative paths are taken from the
    #: project root. Optional: `kgqa validate` warns and checks kgqa's shapes alone when absent.
    resq_shapes: str = "../shared/data/resq_plus/shacl_valid.ttl"
    #: kgqa's own shapes for the evidence and provenance layers
    kgqa_shapes: str = "ontologies/shapes.ttl"
