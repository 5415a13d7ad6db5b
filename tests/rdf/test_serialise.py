"""TriG / N-Quads / JSON-LD output: round trips, determinism, the embedded Web Annotation context."""

from __future__ import annotations

import json

import pytest
from rdflib.compare import to_isomorphic

from kgqa.errors import ConfigError
from kgqa.rdf import read_dataset, serialise, to_dataset, write_dataset
from kgqa.rdf.serialise import annotation_context


def _named(ds):
    return {g.identifier: to_isomorphic(g) for g in ds.graphs() if len(g)}


@pytest.mark.parametrize("fmt, suffix", [("trig", ".trig"), ("nquads", ".nq"), ("json-ld", ".jsonld")])
def test_round_trip_keeps_every_named_graph(tmp_path, graphs, fmt, suffix):
    path = write_dataset(graphs, tmp_path / f"out{suffix}", fmt)
    back = _named(read_dataset(path))
    assert back == _named(to_dataset(graphs))


SERIALISE_IN_A_FRESH_PROCESS = """
import hashlib, sys
sys.path.insert(0, sys.argv[1])
from rdf_factories import CONCEPTS, TEST_ENV, build_graphs
from kgqa.rdf import RdfBuilder, RdfConfig, serialise
graphs = build_graphs(RdfBuilder(RdfConfig(), CONCEPTS, environ=TEST_ENV))
print(" ".join(hashlib.sha256(serialise(graphs, f).encode()).hexdigest() for f in ("trig", "nquads", "json-ld")))
"""


def test_output_bytes_do_not_depend_on_the_process_hash_seed():
    # rdflib orders named graphs and multi-valued properties by hash, which Python salts per process
    import os
    import subprocess
    import sys
    from pathlib import Path

    digests = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", SERIALISE_IN_A_FRESH_PROCESS, str(Path(__file__).parent)],
                             env=env, capture_output=True, text=True, check=True)
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_nquads_lines_are_sorted(graphs):
    lines = serialise(graphs, "nquads").splitlines()
    assert lines == sorted(lines) and len(lines) == sum(len(g) for g in graphs)


def test_jsonld_embeds_the_web_annotation_context(graphs):
    doc = json.loads(serialise(graphs, "json-ld"))
    context = doc["@context"]
    assert isinstance(context, list) and context[0] == annotation_context()
    assert "anno.jsonld" not in json.dumps(context)  # embedded, never fetched
    text = json.dumps(doc)
    # annotation consumers see Web Annotation terms, not full IRIs
    assert '"TextPositionSelector"' in text and '"TextQuoteSelector"' in text and '"exact"' in text


def test_annotation_context_is_the_w3c_one():
    ctx = annotation_context()
    assert ctx["oa"] == "http://www.w3.org/ns/oa#"
    assert ctx["start"] == {"@id": "oa:start", "@type": "xsd:nonNegativeInteger"}
    assert ctx["body"] == {"@type": "@id", "@id": "oa:hasBody"}


@pytest.mark.parametrize("fmt", ["turtle", "xml", ""])
def test_unknown_format_is_refused(graphs, fmt):
    with pytest.raises(ConfigError, match="not one of"):
        serialise(graphs, fmt)


def test_written_file_is_replaced_atomically(tmp_path, graphs):
    path = tmp_path / "g.trig"
    write_dataset(graphs, path)
    first = path.read_text(encoding="utf-8")
    write_dataset(graphs[:1], path)
    assert path.read_text(encoding="utf-8") != first
    assert not list(tmp_path.glob("*.tmp"))
