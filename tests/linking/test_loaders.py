"""Loaders: what each format yields, and malformed files giving an OntologyError that names file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgqa.errors import ConfigError, OntologyError
from kgqa.linking.loaders import get_loader, load_file
from kgqa.linking.sources import load_source, read_manifest
from kgqa.linking.terms import code_prefixes

DATA = Path(__file__).parent / "data"


def by_id(terms):
    return {t.id: t for t in terms}


def test_obo_names_synonyms_ancestors_and_obsoletes():
    terms = by_id(load_file("obo", DATA / "mini.obo"))
    assert "MINI:0000040" not in terms  # obsolete
    hemi = terms["MINI:0000020"]
    assert hemi.iri == "http://purl.obolibrary.org/obo/MINI_0000020"
    kinds = {(l.text, l.kind) for l in hemi.labels}
    assert ("Hemiparesis", "pref") in kinds
    assert ("Weakness of one side of the body", "syn") in kinds
    assert ("HP", "abbr") in kinds
    assert ("Hemiplegia", "related") in kinds
    assert not any(l.text == "Motor problem" for l in hemi.labels)  # BROAD synonyms are not names
    assert hemi.branches == ("MINI:0000010", "MINI:0000001")  # transitive is_a
    assert any(l.text == 'Loss of speech "total"' for l in terms["MINI:0000030"].labels)  # escaped quotes


def test_skos_labels_per_language_and_scheme_branches():
    terms = by_id(load_file("rdf", DATA / "mini-vocab.ttl"))
    ems = terms["mv:arrival_mode-ems"]
    assert ems.iri == "https://example.org/mini-vocab#arrival_mode-ems"
    langs = {l.lang for l in ems.labels if l.kind == "pref"}
    assert langs == {"bg", "cs", "el", "en", "es", "pl", "ro"}
    assert ("RZP", "cs", "syn") in {(l.text, l.lang, l.kind) for l in ems.labels}
    assert ("ems", "", "abbr") in {(l.text, l.lang, l.kind) for l in ems.labels}  # skos:notation
    assert set(ems.branches) == {"mv:arrival_mode", "https://example.org/mini-vocab#arrival_mode"}


def test_wide_drug_table_brands_and_abbreviations():
    terms = by_id(load_file("wide", Path(__file__).parents[2] / "ontologies" / "drugs.tsv",
                            iri_prefix="http://purl.bioontology.org/ontology/ATC/"))
    alteplase = terms["ATC:B01AD02"]
    assert alteplase.iri == "http://purl.bioontology.org/ontology/ATC/B01AD02"
    names = {(l.text, l.lang, l.kind) for l in alteplase.labels}
    assert {("alteplase", "en", "pref"), ("алтеплаза", "bg", "pref"), ("Actilyse", "", "brand"), ("rt-PA", "", "abbr")} <= names
    assert len(terms) >= 60


def test_enrichment_adds_translations_to_known_terms_only():
    specs = read_manifest(DATA / "mini-sources.yaml")
    terms = by_id(load_source(specs["mini"], DATA))
    assert ("Hemiparesia", "es") in {(l.text, l.lang) for l in terms["MINI:0000020"].labels}
    assert "MINI:0099999" not in terms  # translated in the babelon file, absent from the ontology
    assert not any(l.text == "Una definición" for l in terms["MINI:0000030"].labels)  # definitions are not names


def test_sssom_and_robot_template(tmp_path):
    sssom = tmp_path / "m.sssom.tsv"
    sssom.write_text(
        "# curie_map:\n#   MONDO: http://purl.obolibrary.org/obo/MONDO_\n"
        "subject_id\tsubject_label\tpredicate_id\tobject_id\tobject_label\tmapping_justification\n"
        "MONDO:1\tcerebral infarction\tskos:exactMatch\tICD10CM:I639\tCerebral infarction, unspecified\tsemapv:Manual\n"
        "MONDO:2\tbroad thing\tskos:broadMatch\tICD10CM:I63\tCerebral infarction\tsemapv:Manual\n"
    )
    terms = list(load_file("sssom", sssom, into="object"))
    assert [(t.id, t.labels[0].text) for t in terms] == [("ICD10CM:I63.9", "cerebral infarction")]
    robot = tmp_path / "t.tsv"
    robot.write_text("subject_id\ttranslation_value\tcomment\nID\tAL oboInOwl:hasExactSynonym@cs\t\nHP:1\tafázie\tOFFICIAL\n")
    (term,) = load_file("robot", robot)
    assert (term.id, term.labels[0].text, term.labels[0].lang, term.labels[0].kind) == ("HP:1", "afázie", "cs", "syn")


def test_code_prefixes():
    assert code_prefixes("ATC:B01AF01") == ("ATC:B", "ATC:B0", "ATC:B01", "ATC:B01A", "ATC:B01AF", "ATC:B01AF0")
    assert code_prefixes("ICD10CM:I63.011")[-3:] == ("ICD10CM:I63", "ICD10CM:I63.0", "ICD10CM:I63.01")


# (loader, file name, content, line the error must name, words the message must contain)
MALFORMED = [
    ("obo", "a.obo", "format-version: 1.2\n\n[Term]\nid: X:1\nname foo\n", 5, "tag: value"),
    ("obo", "b.obo", "[Term]\nid: X:1\nname: a\nsynonym: no quotes EXACT []\n", 4, "synonym"),
    ("obo", "c.obo", "[Term\nid: X:1\n", 1, "stanza"),
    ("obo", "d.obo", "[Term]\nname: no id\n", 1, "without an id"),
    ("rdf", "e.ttl", "@prefix s: <http://x/> .\n\ns:a s:b s:c .\ns:d s:e s:f s:g .\ns:h s:i s:j .\n", 4, "Bad syntax"),
    ("rdf", "e.owl", "<?xml version='1.0'?>\n<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>\n<a>\n</rdf:RDF>\n", 4, "xml"),
    ("terms", "f.tsv", "# c\nid\tlang\tlabel\tkind\nX:1\ten\tfoo\tpref\nX:2\ten\tbar\n", 4, "fields"),
    ("terms", "g.tsv", "id\tlang\tlabel\tkind\nX:1\ten\tfoo\tpreferred\n", 2, "unknown kind"),
    ("terms", "h.tsv", "id\tlang\tlabel\tkind\nX:1\tde\tfoo\tpref\n", 2, "unknown language"),
    ("terms", "i.csv", "id,lang,label\nX:1,en,foo\n", 1, "kind"),
    ("wide", "j.tsv", "id\tlabel@en\nX:1\tfoo\nX:1\tbar\n", 3, "duplicate id"),
    ("wide", "k.tsv", "id\tlabel@xx\nX:1\tfoo\n", 1, "unknown language"),
    ("sssom", "l.sssom.tsv", "# m\nsubject_id\tpredicate_id\tobject_id\nA:1\tskos:exactMatch\n", 3, "fields"),
    ("babelon", "m.babelon.tsv", "subject_id\tvalue\nHP:1\tx\n", 1, "babelon header"),
    ("robot", "n.tsv", "a\tb\nX\tAL rdfs:label@cs\nHP:1\tx\n", 2, "no ID column"),
]


@pytest.mark.parametrize("loader, name, content, line, words", MALFORMED, ids=[m[1] for m in MALFORMED])
def test_malformed_files_name_file_and_line(tmp_path, loader, name, content, line, words):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(OntologyError) as err:
        list(load_file(loader, path))
    assert f"{path}:{line}:" in str(err.value)
    assert words in str(err.value)


def test_missing_file_and_unknown_loader(tmp_path):
    with pytest.raises(OntologyError, match="not found"):
        list(load_file("obo", tmp_path / "nope.obo"))
    with pytest.raises(ConfigError, match="valid: .*obo"):
        get_loader("owlready")


@pytest.mark.parametrize(
    "manifest, words",
    [
        ("sources:\n  a: b: c\n", ":2: malformed YAML"),
        ("- a\n- b\n", "mapping"),
        ("x:\n  files: []\n", "'files'"),
        ("x:\n  files:\n    - {path: a.obo}\n", "'path' and 'loader'"),
    ],
)
def test_malformed_manifest(tmp_path, manifest, words):
    path = tmp_path / "sources.yaml"
    path.write_text(manifest)
    with pytest.raises(OntologyError, match=words) as err:
        read_manifest(path)
    assert str(path) in str(err.value)
