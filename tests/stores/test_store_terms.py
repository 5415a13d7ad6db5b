"""Writing terms and binding parameters: nothing from a note can end a term or a block early."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import BNode, Graph, Literal, URIRef
from store_helpers import NASTY

from kgqa.errors import StoreError
from kgqa.stores import StoreConfig, open_store, terms
from kgqa.stores.http import RetryPolicy, TransientStoreError, public_url, with_retries

# Plain IRIs, not rdflib's XSD namespace object: pytest probes module attributes and XSD warns.
XSD_INTEGER = URIRef("http://www.w3.org/2001/XMLSchema#integer")
XSD_STRING = URIRef("http://www.w3.org/2001/XMLSchema#string")


@pytest.mark.parametrize(
    "node,expected",
    [
        (Literal('a"b'), r'"a\"b"'),
        (Literal("a\\b"), r'"a\\b"'),
        (Literal("l1\nl2\r"), r'"l1\nl2\r"'),
        (Literal("nul\x00\x1f\x7f"), r'"nul\u0000\u001F\u007F"'),
        (Literal("tab\t\b\f"), r'"tab\t\b\f"'),
        (Literal("} > #"), '"} > #"'),
        (Literal("x", lang="en-GB"), '"x"@en-GB'),
        (Literal("7", datatype=XSD_INTEGER), '"7"^^<http://www.w3.org/2001/XMLSchema#integer>'),
        (Literal("s", datatype=XSD_STRING), '"s"'),
        (URIRef("https://a.org/x#y"), "<https://a.org/x#y>"),
        (BNode("b1"), "_:b1"),
    ],
)
def test_term_spelling(node, expected):
    assert terms.term(node) == expected


@pytest.mark.parametrize("text", NASTY)
def test_every_nasty_literal_parses_back_identically_from_ntriples(text):
    g = Graph()
    g.add((URIRef("https://a/s"), URIRef("https://a/p"), Literal(text)))
    back = Graph().parse(data=terms.ntriples(g), format="nt")
    assert set(back) == set(g)


@pytest.mark.parametrize(
    "bad", ["", "a b", "a>b", "a<b", 'a"b', "a{b", "a}b", "a|b", "a^b", "a`b", "a\\b", "a\nb", "a\x00b"]
)
def test_iri_with_a_forbidden_character_is_refused(bad):
    with pytest.raises(StoreError, match="not a valid IRI"):
        terms.iri(bad)


def test_bad_language_tag_is_refused_even_if_rdflib_let_it_through():
    forged = Literal("x", lang="en")
    forged._language = "en } ;"  # rdflib checks tags on construction; the writer does not trust that
    with pytest.raises(StoreError, match="language tag"):
        terms.term(forged)


VALUES = 'VALUES (?x) { ("v") }'


@pytest.mark.parametrize(
    "query,expected",
    [
        ("SELECT ?x WHERE { ?s ?p ?x }", f"SELECT ?x WHERE {{ {VALUES} ?s ?p ?x }}"),
        ("SELECT * { ?s ?p ?x }", f"SELECT * {{ {VALUES} ?s ?p ?x }}"),
        ("ASK { ?s ?p ?x }", f"ASK {{ {VALUES} ?s ?p ?x }}"),
        (
            "CONSTRUCT { ?s ?p ?x } WHERE { ?s ?p ?x }",
            f"CONSTRUCT {{ ?s ?p ?x }} WHERE {{ {VALUES} ?s ?p ?x }}",
        ),
        (
            'PREFIX e: <http://e/{where}>\n# where { not here\nSELECT ?x where { ?s e:p "where {" }',
            f'PREFIX e: <http://e/{{where}}>\n# where {{ not here\nSELECT ?x where {{ {VALUES} ?s e:p "where {{" }}',
        ),
        ("SELECT ?where WHERE { ?s ?p ?where }", f"SELECT ?where WHERE {{ {VALUES} ?s ?p ?where }}"),
    ],
)
def test_values_block_opens_the_top_level_where_group(query, expected):
    assert terms.bind(query, {"x": Literal("v")}) == expected


def test_bind_refuses_bad_names_and_blank_nodes():
    with pytest.raises(StoreError, match="variable name"):
        terms.bind("SELECT * { }", {"x) } DROP ALL": Literal(1)})
    with pytest.raises(StoreError, match="IRI or a literal"):
        terms.bind("SELECT * { }", {"x": BNode()})
    with pytest.raises(StoreError, match="no WHERE group"):
        terms.bind("SELECT ?x", {"x": Literal(1)})


def test_retry_policy_backs_off_exponentially_with_a_cap():
    policy = RetryPolicy(retries=5, backoff_s=0.5, max_backoff_s=3.0)
    assert [policy.delay(i) for i in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    slept, calls = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise TransientStoreError("HTTP 503")
        return "done"

    assert with_retries(flaky, policy, "x", sleep=slept.append) == "done"
    assert slept == [0.5, 1.0]


def test_retries_stop_and_non_transient_errors_pass_straight_through():
    slept = []

    def down():
        raise TransientStoreError("HTTP 503: busy")

    with pytest.raises(StoreError, match=r"HTTP 503: busy \(gave up after 3 attempts\)"):
        with_retries(down, RetryPolicy(2, 0.1, 1.0), "x", sleep=slept.append)
    assert slept == [0.1, 0.2]
    calls = []

    def refused():
        calls.append(1)
        raise StoreError("HTTP 400")

    with pytest.raises(StoreError, match="HTTP 400"):
        with_retries(refused, RetryPolicy(5, 0.1, 1.0), "x", sleep=slept.append)
    assert len(calls) == 1


def test_public_url_drops_credentials_and_query():
    assert public_url("https://user:pw@db.example.org:7200/repositories/x?context=%3Cg%3E") == (
        "https://db.example.org:7200/repositories/x"
    )


# Any text a note can hold (lone surrogates cannot be UTF-8 encoded, so no note has them).
NOTE_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)


@settings(max_examples=150, deadline=None)
@given(NOTE_TEXT)
def test_any_text_round_trips_and_binds_exactly(text):
    store = open_store(StoreConfig(kind="embedded"))
    graph = Graph(identifier=URIRef("https://kgqa.example.org/g"))
    graph.add((URIRef("https://kgqa.example.org/s"), URIRef("https://kgqa.example.org/p"), Literal(text)))
    graph.add(
        (URIRef("https://kgqa.example.org/other"), URIRef("https://kgqa.example.org/p"), Literal(text + "x"))
    )
    assert store.replace_graphs([graph]).ok
    rows = store.query("SELECT ?s WHERE { ?s ?p ?o }", {"o": Literal(text)}).rows
    assert rows == ((URIRef("https://kgqa.example.org/s"),),)
    back = store.query("SELECT ?o WHERE { ?s ?p ?o }", {"s": URIRef("https://kgqa.example.org/s")}).rows
    assert back == ((Literal(text),),)
