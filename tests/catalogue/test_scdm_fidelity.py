"""The catalogue against the RES-Q PLUS specification files (../shared/data/resq_plus, via shared_data).

Every class, observable, situation and procedure IRI the catalogue names must appear in the
OBDA mappings or be declared in ontologies/; ranges must equal the SHACL shapes'; datatypes
and node names must be the mapping's (or a documented quirk).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kgqa import PROJECT_ROOT
from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue

XSD = "http://www.w3.org/2001/XMLSchema#"


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(DEFAULT_CATALOGUE)


@pytest.fixture(scope="module")
def resq_dir(shared_data) -> Path:
    path = shared_data / "resq_plus"
    if not (path / "resqplus-virt.obda").is_file():
        pytest.skip("resq_plus specification files are not in shared data")
    return path


def _targets(path: Path) -> tuple[dict[str, str], list[str]]:
    text = path.read_text(encoding="utf-8")
    prefixes = dict(re.findall(r"^(\w+):\s+(\S+)\s*$", text.split("[MappingDeclaration]")[0], re.MULTILINE))
    targets = [line[len("target") :].strip() for line in text.splitlines() if line.startswith("target")]
    return prefixes, targets


@pytest.fixture(scope="module")
def mapping(resq_dir):
    prefixes, targets = {}, []
    for name in ("resqplus-virt.obda", "resqplus-virt-add.obda"):
        p, t = _targets(resq_dir / name)
        prefixes.update(p)
        targets += t
    iris = set()
    for t in targets:
        for pfx, local in re.findall(r"(?<![\w/])(\w+):([\w&]+)", t):
            if pfx in prefixes:
                iris.add(prefixes[pfx] + local)
    return {"prefixes": prefixes, "targets": targets, "iris": iris}


@pytest.fixture(scope="module")
def declared():
    from rdflib import Graph

    g = Graph()
    for ttl in sorted((PROJECT_ROOT / "ontologies").glob("*.ttl")):
        g.parse(ttl, format="turtle")
    return {str(s) for s in g.subjects()}


def _named_iris(concept):
    named = {
        "target_class": concept.target_class,
        "observable": concept.observable,
        "situation": concept.situation,
        "procedure": concept.procedure,
    }
    for key in (
        "result_of",
        "part_of",
        "observable_class",
        "temporal_class",
        "represents_procedure",
        "interprets_observable",
        "procedure_context",
        "value_class",
    ):
        if isinstance(concept.extra.get(key), str):
            named[f"extra.{key}"] = concept.extra[key]
    for k, v in dict(concept.extra.get("context", {})).items():
        named[f"extra.context.{k}"] = v
    for m in concept.members:
        if m.target_iri:
            named[f"member {m.id}"] = m.target_iri
        for k in ("target_class", "observable", "situation_context", "temporal_context", "procedure_context"):
            if k in m.extra:
                named[f"member {m.id}.{k}"] = m.extra[k]
    return {k: v for k, v in named.items() if v}


def test_every_named_iri_is_in_the_mappings_or_declared(catalogue, mapping, declared):
    text = "\n".join(mapping["targets"])

    def known(field: str, iri: str) -> bool:
        if iri in mapping["iris"] or iri in declared:
            return True
        # the mappings name some result procedures only through their node, data:Procedure_<SNOMED code>
        code = iri.rsplit("/", 1)[-1]
        return field in ("extra.result_of", "extra.part_of") and f"data:Procedure_{code}_" in text

    missing = [
        (c.id, field, iri)
        for c in catalogue
        for field, iri in _named_iris(c).items()
        if not known(field, iri)
    ]
    assert missing == []


def test_ranges_equal_the_shacl_shapes(catalogue, resq_dir):
    from rdflib import Graph, Namespace
    from rdflib.namespace import RDF

    SH = Namespace("http://www.w3.org/ns/shacl#")
    g = Graph().parse(resq_dir / "shacl_valid.ttl", format="turtle")
    checked = 0
    for shape in g.subjects(RDF.type, SH.NodeShape):
        cls = str(g.value(shape, SH.targetClass))
        for prop in g.objects(shape, SH.property):
            lo, hi = g.value(prop, SH.minInclusive), g.value(prop, SH.maxInclusive)
            if lo is None and hi is None:
                continue
            concepts = [c for c in catalogue if c.target_class == cls]
            assert concepts, f"no concept populates {cls}"
            for c in concepts:
                assert (c.minimum, c.maximum) == (float(lo), float(hi)), c.id
                checked += 1
    assert checked >= 3  # age, admission NIHSS, pre-stroke mRS


def test_value_datatypes_are_the_mappings_or_a_documented_quirk(catalogue, mapping):
    column_types = {}
    for t in mapping["targets"]:
        for col, dtype in re.findall(r"btl2:hasValue \{(\w+)\}\^\^xsd:(\w+)", t):
            column_types[col] = XSD + dtype
    checked = 0
    for c in catalogue:
        col = c.extra.get("column")
        if col in column_types:
            assert column_types[col] in (c.datatype, c.extra.get("mapping_datatype")), c.id
            checked += 1
    assert checked >= 20


def test_node_names_are_the_mappings(catalogue, mapping):
    text = "\n".join(mapping["targets"])
    missing = []
    for c in catalogue:
        node = c.extra.get("node")
        if not node or c.target_class.startswith(catalogue.vocabulary.namespace):
            continue  # kgqa's own classes (discharge destination, comorbidity) have no mapping
        if "{member}" not in node:
            names = [node]
        else:  # one node per member of a list concept
            columns = dict(c.extra.get("member_columns", {}))
            nodes = dict(c.extra.get("member_nodes", {}))
            names = [nodes.get(m.id) or node.replace("{member}", columns.get(m.id, m.id)) for m in c.members]
        missing += [(c.id, name) for name in names if f"data:{name}_" not in text]
    assert missing == []
