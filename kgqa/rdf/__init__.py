"""kgqa.rdf — patient facts as RDF: RES-Q PLUS domain layer, Web Annotation evidence, PROV-O provenance.

See docs/rdf.md for the graph contract.
"""

from kgqa.rdf.builder import RdfBuilder
from kgqa.rdf.config import RdfConfig
from kgqa.rdf.iris import IriMinter
from kgqa.rdf.mapping import DomainMapping, mapping_for
from kgqa.rdf.serialise import FORMATS, read_dataset, serialise, to_dataset, write_dataset
from kgqa.rdf.vocab import BTL2, KGQA, OA, PREFIXES, RESQ, SCDM, SCT

__all__ = [
    "BTL2",
    "FORMATS",
    "KGQA",
    "OA",
    "PREFIXES",
    "RESQ",
    "SCDM",
    "SCT",
    "DomainMapping",
    "IriMinter",
    "RdfBuilder",
    "RdfConfig",
    "mapping_for",
    "read_dataset",
    "serialise",
    "to_dataset",
    "write_dataset",
]
