"""Load throughput of kgqa's stores against rdflib's SPARQLUpdateStore default, in one run.

Loads ``--facts`` facts' worth of kgqa note graphs (default 100,000) into

* the embedded store (pyoxigraph on disk — the default config — and in memory; one transaction per batch),
* an Oxigraph server started here on 127.0.0.1 (Graph Store HTTP Protocol PUT per note graph),

and, as the baseline, adds a slice of the same triples one by one through
``rdflib.Graph(store=SPARQLUpdateStore(...))`` — rdflib's default, one INSERT DATA request per
triple — into a second graph name on the same server (a slice: per-triple loading of the whole set
would take hours). Reports triples/s for each and ``ratio`` = Oxigraph-server throughput over the
rdflib baseline (both remote, same server). Graph building is not timed: only the store calls.

The note graphs come from ``kgqa.rdf.RdfBuilder`` (a template note with the shipped catalogue)
and are cloned per note with fresh note and case IRIs, so the triples have kgqa's real shape.

    python benchmarks/load_throughput.py            # 100,000 facts
    python benchmarks/load_throughput.py --quick    # 2,000 facts, for CI

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLUpdateStore

from kgqa import PROJECT_ROOT
from kgqa.catalogue import load_catalogue
from kgqa.rdf import RdfBuilder, RdfConfig
from kgqa.stores import StoreConfig, open_store
from kgqa.stores.testing import OxigraphServer
from kgqa.types import Answer, Fact, ModelInfo, Note, RunInfo, Value, ValueKind

log = logging.getLogger("benchmarks.load_throughput")

TEMPLATE_TEXT = (
    "Woman, 68 years. NIHSS 14 on admission, GCS 13. Blood pressure 182/95 mmHg, glucose 7.4 mmol/L. "
    "Ischemic stroke. Intravenous thrombolysis, door-to-needle 38 min; thrombectomy. "
    "Hypertension, diabetes, atrial fibrillation, smoker. mRS at discharge 2. NIHSS at discharge 4. "
    "Apixaban and atorvastatin at discharge."
)
# (concept, quote, value kind, value)
TEMPLATE_FACTS = [
    ("age", "68", ValueKind.INTEGER, 68),
    ("sex", "Woman", ValueKind.ENUM, "female"),
    ("nihss_score", "14", ValueKind.INTEGER, 14),
    ("gcs_score", "13", ValueKind.INTEGER, 13),
    ("systolic_pressure", "182", ValueKind.INTEGER, 182),
    ("diastolic_pressure", "95", ValueKind.INTEGER, 95),
    ("stroke_type", "Ischemic stroke", ValueKind.ENUM, "ischemic"),
    ("thrombolysis", "Intravenous thrombolysis", ValueKind.BOOLEAN, True),
    ("door_to_needle", "38 min", ValueKind.DURATION, 38),
    ("thrombectomy", "thrombectomy", ValueKind.BOOLEAN, True),
    ("risk_hypertension", "Hypertension", ValueKind.BOOLEAN, True),
    ("risk_diabetes", "diabetes", ValueKind.BOOLEAN, True),
    ("risk_atrial_fibrillation", "atrial fibrillation", ValueKind.BOOLEAN, True),
    ("risk_smoker", "smoker", ValueKind.BOOLEAN, True),
    ("discharge_mrs", "2", ValueKind.INTEGER, 2),
    ("discharge_nihss_score", "4", ValueKind.INTEGER, 4),
    ("discharge_apixaban", "Apixaban", ValueKind.BOOLEAN, True),
    ("discharge_statin", "atorvastatin", ValueKind.BOOLEAN, True),
]


def template() -> tuple[Graph, str, str, int]:
    """One realistic note graph, with the note id and case IRI fragment to rewrite per clone."""
    ids = [c for c, *_ in TEMPLATE_FACTS]
    catalogue = load_catalogue(PROJECT_ROOT / "kgqa" / "resources" / "catalogue" / "resq.yaml").select(
        ids=ids
    )
    builder = RdfBuilder(RdfConfig(), catalogue, environ={"KGQA_PSEUDONYM_KEY": "benchmark"})
    note = Note(id="tmplnote", text=TEMPLATE_TEXT, lang="en", patient_id="tmplpatient")
    facts = []
    for i, (concept, quote, kind, value) in enumerate(TEMPLATE_FACTS):
        start = TEMPLATE_TEXT.index(quote)
        answer = Answer.from_note(note, concept, start, start + len(quote), score=8.0, null_score=1.0,
                                  confidence=0.5 + i / 50, question=f"Question about {concept}?")  # fmt: skip
        facts.append(Fact(note.id, concept, Value(kind, value), answer))
    run = RunInfo(run_id="bench", started_at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), kgqa_version="bench",
                  model=ModelInfo(path="/models/bench", sha256="0" * 64), config_digest="0" * 64)  # fmt: skip
    graph = builder.note_graph(note, facts, run)
    case_fragment = str(builder.iris.case(note.case_id)).rsplit("/", 1)[1]
    return graph, note.id, case_fragment, len(facts)


def clones(tmpl: Graph, note_id: str, case_fragment: str, count: int, tag: str) -> Iterator[Graph]:
    """``count`` copies of the template with their own note, case and graph IRIs."""
    triples = list(tmpl)
    for k in range(count):
        new_note, new_case = f"{tag}{k:07d}", f"{tag}case{k:07d}"

        def swap(node, new_note=new_note, new_case=new_case):
            if isinstance(node, URIRef):
                text = str(node)
                if note_id in text or case_fragment in text:
                    return URIRef(text.replace(note_id, new_note).replace(case_fragment, new_case))
            elif isinstance(node, Literal) and str(node) == note_id:
                return Literal(new_note)
            return node

        ident = swap(tmpl.identifier)
        g = Graph(identifier=ident)
        cache: dict = {}
        for s, p, o in triples:
            g.add(
                (
                    cache.get(s) or cache.setdefault(s, swap(s)),
                    p,
                    cache.get(o) or cache.setdefault(o, swap(o)),
                )
            )
        yield g


def timed_load(store, graphs: Iterator[Graph], batch: int) -> tuple[int, float, int]:
    """(triples, seconds in store calls, failed graphs); graph building outside the clock."""
    triples = seconds = failed = 0
    while True:
        chunk = [g for _, g in zip(range(batch), graphs)]
        if not chunk:
            return triples, seconds, failed
        t0 = time.perf_counter()
        report = store.replace_graphs(chunk, verify=False)
        seconds += time.perf_counter() - t0
        triples += report.triples
        failed += len(report.failed)


def rdflib_per_triple(server: OxigraphServer, graphs: Iterator[Graph], limit: int) -> tuple[int, float]:
    """rdflib's default remote loading: Graph.add on a SPARQLUpdateStore, one request per triple."""
    store = SPARQLUpdateStore(query_endpoint=f"{server.base}/query", update_endpoint=f"{server.base}/update")
    done, seconds = 0, 0.0
    try:
        for source in graphs:
            remote = Graph(store=store, identifier=source.identifier)
            items = list(source)[: limit - done]
            t0 = time.perf_counter()
            for triple in items:
                remote.add(triple)
            seconds += time.perf_counter() - t0
            done += len(items)
            if done >= limit:
                break
    finally:
        store.close()
    return done, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 facts and a 300-triple baseline slice")
    parser.add_argument(
        "--facts", type=int, default=None, help="facts to load (default 100,000; --quick 2,000)"
    )
    parser.add_argument("--baseline-triples", type=int, default=None, help="triples for the rdflib baseline")
    parser.add_argument("--batch", type=int, default=50, help="note graphs per replace_graphs call")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    facts = args.facts or (2_000 if args.quick else 100_000)
    baseline_triples = args.baseline_triples or (300 if args.quick else 3_000)

    tmpl, note_id, case_fragment, facts_per_note = template()
    notes = -(-facts // facts_per_note)
    log.info("template: %d facts, %d triples per note; %d notes = %d facts", facts_per_note, len(tmpl), notes,
             notes * facts_per_note)  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="kgqa-bench-") as tmp:
        tmp_path = Path(tmp)
        with open_store(
            StoreConfig(kind="embedded", path=str(tmp_path / "embedded"), batch_size=args.batch)
        ) as store:
            e_triples, e_seconds, e_failed = timed_load(store, clones(tmpl, note_id, case_fragment, notes, "e"),
                                                        args.batch)  # fmt: skip
            assert store.count() == e_triples, "embedded store lost triples"
        log.info("embedded (on disk): %d triples in %.2fs", e_triples, e_seconds)
        with open_store(StoreConfig(kind="embedded", batch_size=args.batch)) as store:
            m_triples, m_seconds, m_failed = timed_load(store, clones(tmpl, note_id, case_fragment, notes, "m"),
                                                        args.batch)  # fmt: skip
        log.info("embedded (in memory): %d triples in %.2fs", m_triples, m_seconds)

        server = OxigraphServer(tmp_path / "oxigraph").start()
        try:
            cfg = StoreConfig(kind="sparql", query_url=f"{server.base}/query", update_url=f"{server.base}/update",
                              graph_store_url=f"{server.base}/store", batch_size=args.batch, timeout_s=120)  # fmt: skip
            with open_store(cfg) as store:
                s_triples, s_seconds, s_failed = timed_load(store, clones(tmpl, note_id, case_fragment, notes, "s"),
                                                            args.batch)  # fmt: skip
                assert store.count() == s_triples, "Oxigraph server lost triples"
            log.info("oxigraph server: %d triples in %.2fs", s_triples, s_seconds)
            r_triples, r_seconds = rdflib_per_triple(server, clones(tmpl, note_id, case_fragment, notes, "r"),
                                                     baseline_triples)  # fmt: skip
            log.info("rdflib SPARQLUpdateStore per triple: %d triples in %.2fs", r_triples, r_seconds)
        finally:
            server.kill()

    embedded_tps = e_triples / e_seconds
    server_tps = s_triples / s_seconds
    rdflib_tps = r_triples / r_seconds
    result = {
        "benchmark": "load_throughput",
        "facts": notes * facts_per_note,
        "notes": notes,
        "triples": e_triples,
        "embedded_triples_per_s": round(embedded_tps),
        "embedded_memory_triples_per_s": round(m_triples / m_seconds),
        "oxigraph_server_triples_per_s": round(server_tps),
        "rdflib_triples_per_s": round(rdflib_tps, 1),
        "rdflib_slice_triples": r_triples,
        "ratio": round(server_tps / rdflib_tps, 1),
        "embedded_ratio": round(embedded_tps / rdflib_tps, 1),
        "failed_graphs": e_failed + m_failed + s_failed,
        "baseline": "rdflib Graph(store=SPARQLUpdateStore).add, one INSERT DATA per triple, same Oxigraph server",
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
