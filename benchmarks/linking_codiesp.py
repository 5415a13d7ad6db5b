"""Linking CodiEsp diagnosis mentions (Spanish, ICD-10) — kgqa's linker against two baselines, one process.

Data: ../shared/data/codiesp (CodiEsp v4, CC BY 4.0). Gold = the DIAGNOSTICO rows of ``{split}X.tsv``
(mention text → CIE-10-ES code). Dictionary: the *train* mentions as learned synonyms (with counts)
plus ICD-10-CM FY2026 names (ontologies/icd10cm: descriptions, inclusion terms, MONDO names).
Settings are tuned on ``dev`` only; ``test`` is held out and only reported.

With ``--dense e5`` (or ``e5-static``) kgqa's linker is also run fused with the dense stage over the same
dictionary (every ICD-10-CM name and train synonym embedded: 114k texts; ~15 minutes on 2 idle cores for
e5 the first time, seconds for the static table; cached), settings chosen on dev (``TUNED_DENSE``).

Baselines over the same dictionary:
  exact — a case-folded dictionary (text.casefold() → most frequent code);
  naive — ``rapidfuzz.process.extractOne(mention, all keys, scorer=WRatio)`` per mention.

Also measured: kgqa's linker with exhaustive candidates (``candidates=brute``: rapidfuzz over every key,
the ``process.cdist``/``extract`` route) instead of trigram blocking, on a sample.

Reported: acc@1, acc@5 and category-level (3-character) acc@1 on dev and test, NIL rate, mentions/s
of each side (full dev set for kgqa and exact; a sample for the naive loop in --quick mode) and the
index size. Rates are mentions per CPU second of this single-threaded process (the wall-clock rate and
the load average are reported too: on a shared machine the wall clock measures the neighbours).
Also on dev: ``link_many`` shared by ``--processes`` processes (wall rate, and per CPU second of all of
them), and ``link`` called once per mention as the pipeline does, with the linker's memo (hit rate
reported) and without. The last line of output is one JSON object.

    python benchmarks/linking_codiesp.py --quick
    python benchmarks/linking_codiesp.py
    python benchmarks/linking_codiesp.py --quick --dense e5
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import logging
import os
import random
import resource
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue
from kgqa.linking import Linker, LinkerConfig, parallel
from kgqa.linking.sources import load_source, read_manifest
from kgqa.linking.terms import Label, Term
from kgqa.types import Concept, ValueKind

log = logging.getLogger("linking_codiesp")
DIAGNOSIS = Concept(id="diagnosis", group="bench", kind=ValueKind.TEXT, questions={"es": ("¿Diagnóstico?",)}, target_class="x")
IRI = "http://purl.bioontology.org/ontology/ICD10CM/"

#: the settings chosen on dev (see docs/linking.md); the benchmark never looks at test to pick them
TUNED = {"nil_threshold": 0.5, "scorer": "token_sort_ratio", "top_k": 5, "count_prior": 0.02, "subspan_base": 0.5,
         "word_weight": 0.5, "word_floor": 0.95, "descendant_backoff": 0.3, "max_candidates": 100, "word_candidates": 50,
         "block_budget": 2000, "unspecified_backoff": True, "other_language_factor": 1.0}


#: the dense stage's settings over that dictionary, per encoder, chosen on dev (docs/linking.md)
TUNED_DENSE = {
    "e5": {"dense_low": 0.80, "dense_high": 0.90, "dense_margin": 0.01, "dense_skip": 1.01, "fuse_agree": 0.5},
}


def read_mentions(path: Path) -> list[tuple[str, str]]:
    out = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) >= 4 and row[1] == "DIAGNOSTICO" and row[3].strip():
                out.append((" ".join(row[3].split()), row[2].strip().upper()))
    return out


def learned_terms(train: Sequence[tuple[str, str]]) -> list[Term]:
    """Train mentions as learned synonyms: one term per code, each distinct text with its count."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for text, code in train:
        counts[code][text] += 1
    return [
        Term(id=f"ICD10CM:{code}", iri=IRI + code, labels=tuple(Label(t, "es", "learned", n) for t, n in c.items()))
        for code, c in sorted(counts.items())
    ]


def code_of(term_id: str) -> str:
    return term_id.partition(":")[2].upper()


def evaluate(predict: Callable[[list[str]], list[list[str]]] | Callable[[], Callable], gold: list[tuple[str, str]],
             repeat: int = 1) -> dict:
    """Accuracy and rates of ``predict`` on ``gold``. With ``repeat`` > 1, ``predict`` is a factory called
    once per repetition (each starts cold) and the fastest repetition gives the rates — timeit's practice:
    on a shared machine the slower runs measure the neighbours. Predictions are the same every time."""
    texts = [t for t, _ in gold]
    cpu = elapsed = float("inf")
    for _ in range(repeat):
        run = predict() if repeat > 1 else predict
        t0, c0 = time.perf_counter(), time.process_time()
        preds = run(texts)
        elapsed, cpu = min(elapsed, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
    n = len(gold)
    acc1 = sum(bool(p) and p[0] == c for p, (_, c) in zip(preds, gold)) / n
    acc5 = sum(c in p[:5] for p, (_, c) in zip(preds, gold)) / n
    cat1 = sum(bool(p) and p[0][:3] == c[:3] for p, (_, c) in zip(preds, gold)) / n
    nil = sum(not p for p in preds) / n
    # CPU seconds, not wall seconds, make the rate: the machine is shared, and a wall clock measures the
    # neighbours' load as much as this code (both single-threaded, so CPU time is the time on an idle core)
    return {"acc1": acc1, "acc5": acc5, "category_acc1": cat1, "nil_rate": nil, "n": n,
            "mentions_per_s": n / max(cpu, 1e-9), "mentions_per_wall_s": n / elapsed}


def pipeline_routes(dev, test, quick: bool, sample: int, rng: random.Random) -> dict:
    """CodiEsp and kgqa's multilingual dev set linked as ``kgqa run`` links them: the catalogue's
    ``comorbidities`` concept (its scope) with the linker configs of conf/linker (default, full, fused)."""
    from linking_multilingual import DENSE_SOURCES, FULL_SOURCES, dense_settings, evaluate_dev

    comorbidities = next(c for c in load_catalogue(DEFAULT_CATALOGUE).concepts if c.id == "comorbidities")
    base = LinkerConfig(ontology_dir=str(ROOT / "ontologies"))
    configs = {  # conf/linker/default.yaml, full.yaml, fused.yaml, fused_static.yaml
        "default": base,
        "full": replace(base, sources=FULL_SOURCES, descendant_backoff=0.3, unspecified_backoff=True),
        "fused": replace(base, mode="fused", dense_sources=DENSE_SOURCES),
        "fused_static": replace(base, mode="fused", dense_sources=DENSE_SOURCES, **dense_settings("e5-static")),
    }
    out: dict = {}
    for name, cfg in configs.items():
        t0 = time.perf_counter()
        lk = Linker.from_config(cfg)
        log.info("pipeline linker %s ready in %.1fs (%d names)", name, time.perf_counter() - t0, lk.index.n_labels)
        for split, gold in (("dev", dev), ("test", test)):
            if name.startswith("fused") and split == "dev":
                continue
            g = gold
            if name == "fused" and quick:  # the encoder runs for most mentions here: a sample in --quick mode
                g = rng.sample(gold, min(sample, len(gold)))
            c0 = time.process_time()
            preds = [[code_of(l.term_id) for l in lk.link(t, comorbidities, "es")] for t, _ in g]
            cpu = time.process_time() - c0
            distinct = len({t for t, _ in g})
            acc = sum(bool(p) and p[0] == c for p, (_, c) in zip(preds, g)) / len(g)
            key = "comorbidities_route" if name == "full" else f"comorbidities_route_{name}"
            out[f"{key}_{split}_acc1"] = round(acc, 4)
            out[f"{key}_{split}_nil_rate"] = round(sum(not p for p in preds) / len(g), 4)
            out[f"{key}_{split}_distinct_mentions_per_s"] = round(distinct / max(cpu, 1e-9), 1)
            if name.startswith("fused"):
                out[f"{key}_{split}_n"] = len(g)
            log.info("comorbidities route, linker=%s, %s: acc@1 %.3f, NIL %.3f, %.0f distinct mentions/CPU s", name, split,
                     acc, out[f"{key}_{split}_nil_rate"], out[f"{key}_{split}_distinct_mentions_per_s"])
        ml = evaluate_dev(lk)
        for miss in ml["misses"]:
            log.info("multilingual miss (linker=%s): %s", name, miss)
        prefix = "multilingual" if name == "default" else f"multilingual_{name}"
        for k, v in ml.items():
            if k.startswith("multilingual_"):
                out[prefix + k[len("multilingual"):]] = v
        if name == "fused":
            out["dense_encoded_mentions"] = lk.dense.encoded if lk.dense is not None else 0
            out["dense_labels"] = len(lk.dense.dense.key_ids) if lk.dense is not None else 0
    # end to end with the dense stage on, as the pipeline calls it: distinct mentions of the CodiEsp test
    # sample and the multilingual set through their routes, per CPU second
    out["distinct_mentions_per_s"] = out["comorbidities_route_fused_test_distinct_mentions_per_s"]
    out["distinct_mentions_per_s_static"] = out["comorbidities_route_fused_static_test_distinct_mentions_per_s"]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "codiesp")
    ap.add_argument("--quick", action="store_true", help="naive and brute-force baselines on a sample only")
    ap.add_argument("--sample", type=int, default=300, help="mentions the slow baselines see in --quick mode")
    ap.add_argument("--workers", type=int, default=1, help="rapidfuzz threads per cdist call")
    ap.add_argument("--repeat", type=int, default=3, help="timed repetitions of kgqa's runs; the fastest gives the rate")
    ap.add_argument("--dense", default="none", choices=["none", *TUNED_DENSE],
                    help="also link fused with this dense encoder over the whole dictionary (cached; e5: ~15 min once)")
    ap.add_argument("--processes", type=int, default=2, help="processes sharing link_many in the parallel run (this machine has 2 cores)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not args.data.is_dir():
        log.error("CodiEsp not found at %s (pass --data)", args.data)
        return 2
    train, dev, test = (read_mentions(args.data / s / f"{s}X.tsv") for s in ("train", "dev", "test"))
    log.info("mentions: train %d, dev %d, test %d", len(train), len(dev), len(test))

    # ---------------------------------------------------------------- dictionary / index
    icd_spec = read_manifest(ROOT / "ontologies" / "sources.yaml")["icd10cm"]
    t0 = time.perf_counter()
    icd_terms = list(load_source(icd_spec, ROOT / "ontologies"))
    cfg = replace(LinkerConfig(), workers=args.workers, **TUNED)
    linker = Linker.from_terms({"icd10cm": icd_terms, "codiesp-train": learned_terms(train)}, cfg)
    index = linker.index
    index.terms_named("")  # build the lazy lookup tables now: a one-off cost of loading, not of linking
    log.info("index: %d names, %d keys, built in %.1fs", index.n_labels, len(index.keys), time.perf_counter() - t0)

    def kgqa_predict(lk: Linker) -> Callable[[list[str]], list[list[str]]]:
        lk.index.forget_labels()  # every timed run starts cold
        lk.matcher.prepare()  # the word index and code points are built on first use: a cost of loading, not of linking
        return lambda texts: [[code_of(l.term_id) for l in links] for links in lk.link_many(texts, DIAGNOSIS, "es")]

    # ---------------------------------------------------------------- baselines' dictionary: key -> most used code
    votes: dict[str, Counter] = defaultdict(Counter)
    for term in icd_terms:
        for label in term.labels:
            votes[label.text.casefold()][code_of(term.id)] += 1
    for text, code in train:
        votes[text.casefold()][code] += 10  # an annotated use outweighs a terminology name
    best_code = {k: c.most_common(1)[0][0] for k, c in votes.items()}
    keys = list(best_code)

    def exact_predict(texts: list[str]) -> list[list[str]]:
        return [[best_code[t.casefold()]] if t.casefold() in best_code else [] for t in texts]

    def naive_predict(texts: list[str]) -> list[list[str]]:
        out = []
        for t in texts:
            hit = process.extractOne(t.casefold(), keys, scorer=fuzz.WRatio)
            out.append([best_code[hit[0]]] if hit else [])
        return out

    # The loaded Term records (kept for the baselines' dictionary) are about a million long-lived container
    # objects: move them out of the garbage collector's generations, or every full collection during the
    # timed runs rescans them. (The index itself is arrays and lists of strings, cheap for the collector.)
    gc.collect()
    gc.freeze()
    rng = random.Random(0)
    results: dict[str, dict] = {}
    for split, gold in (("dev", dev), ("test", test)):
        # a fresh linker per repetition: no scope, member or memo caches carried over
        results[f"kgqa_{split}"] = evaluate(lambda: kgqa_predict(Linker(index, cfg)), gold, args.repeat)
        results[f"exact_{split}"] = evaluate(exact_predict, gold)
        naive_gold = rng.sample(gold, min(args.sample, len(gold))) if args.quick else gold
        results[f"naive_{split}"] = evaluate(naive_predict, naive_gold)
        for name in ("kgqa", "exact", "naive"):
            r = results[f"{name}_{split}"]
            log.info("%-5s %-4s acc@1 %.3f acc@5 %.3f cat@1 %.3f NIL %.3f  %8.0f mentions/s (n=%d)", name, split,
                     r["acc1"], r["acc5"], r["category_acc1"], r["nil_rate"], r["mentions_per_s"], r["n"])

    # kgqa with exhaustive candidates (no blocking) on a sample, for the candidate-generation comparison
    brute = Linker(index, replace(cfg, candidates="brute"))
    sample = rng.sample(dev, min(args.sample, len(dev)))
    results["brute_dev_sample"] = evaluate(kgqa_predict(brute), sample)
    blocked = Linker(index, cfg)
    results["kgqa_dev_sample"] = evaluate(kgqa_predict(blocked), sample)
    log.info("candidates on the same %d dev mentions: ngram %.0f/s acc@1 %.3f | brute %.0f/s acc@1 %.3f", len(sample),
             results["kgqa_dev_sample"]["mentions_per_s"], results["kgqa_dev_sample"]["acc1"],
             results["brute_dev_sample"]["mentions_per_s"], results["brute_dev_sample"]["acc1"])

    # link_many over several processes (wall clock; CPU of this process plus the workers, reaped at close)
    par = Linker(index, replace(cfg, processes=args.processes, memo_size=0))
    kgqa_predict(par)
    parallel.start(par)  # forking the workers is a cost of loading
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = results["parallel_dev"] = evaluate(lambda: kgqa_predict(par), dev, args.repeat)
    par.close()  # the workers exit and are reaped: their CPU time shows in RUSAGE_CHILDREN
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) / args.repeat
    r["mentions_per_s"] = r["n"] / (r["n"] / r["mentions_per_s"] + worker_cpu)  # this process's best + workers' mean
    log.info("link_many over %d processes: %.0f mentions/wall s, %.0f per CPU s (acc@1 %.3f)", args.processes,
             r["mentions_per_wall_s"], r["mentions_per_s"], r["acc1"])

    # link() once per mention, as the pipeline calls it: with the memo (repeated mentions) and without
    for name, memo in (("loop_memo", cfg.memo_size), ("loop_no_memo", 0)):
        lk = Linker(index, replace(cfg, memo_size=memo))
        kgqa_predict(lk)
        linkers: list[Linker] = []

        def per_mention(memo=memo, linkers=linkers) -> Callable[[list[str]], list[list[str]]]:
            lk = Linker(index, replace(cfg, memo_size=memo))
            kgqa_predict(lk)
            linkers.append(lk)
            return lambda texts: [[code_of(l.term_id) for l in lk.link(t, DIAGNOSIS, "es")] for t in texts]

        results[name] = evaluate(per_mention, dev, args.repeat)
        lk = linkers[-1]
        results[name]["memo_hit_rate"] = lk.memo_hits / max(lk.memo_hits + lk.memo_misses, 1)
    log.info("link() per mention: %.0f mentions/s with the memo (hit rate %.2f), %.0f without",
             results["loop_memo"]["mentions_per_s"], results["loop_memo"]["memo_hit_rate"], results["loop_no_memo"]["mentions_per_s"])

    dense_figures: dict = {}
    if args.dense != "none":
        from kgqa.linking.cache import default_cache_dir

        dcfg = replace(cfg, mode="fused", encoder=args.dense, dense_sources=["icd10cm", "codiesp-train"], **TUNED_DENSE[args.dense])
        t0 = time.perf_counter()
        stage = Linker(index, dcfg, cache_dir=default_cache_dir()).dense  # label vectors: built once, then read back
        dense_figures["dense_index_ready_s"] = round(time.perf_counter() - t0, 1)
        for split, gold in (("dev", dev), ("test", test)):
            r = evaluate(kgqa_predict(Linker(index, dcfg, dense=stage)), gold)
            log.info("kgqa fused (%s) %s acc@1 %.4f acc@5 %.4f NIL %.4f  %.0f mentions/s", args.dense, split, r["acc1"],
                     r["acc5"], r["nil_rate"], r["mentions_per_s"])
            dense_figures.update({f"dense_{split}_acc1": round(r["acc1"], 4), f"dense_{split}_acc5": round(r["acc5"], 4),
                                  f"dense_{split}_nil_rate": round(r["nil_rate"], 4),
                                  f"dense_{split}_mentions_per_s": round(r["mentions_per_s"], 1)})
        dense_figures.update({"dense_encoder": args.dense, "dense_settings": TUNED_DENSE[args.dense]})

    routes = pipeline_routes(dev, test, args.quick, args.sample, rng)

    kd, nd = results["kgqa_dev"], results["naive_dev"]
    summary = {
        "dev_acc1": round(kd["acc1"], 4),
        "dev_acc5": round(kd["acc5"], 4),
        "dev_category_acc1": round(kd["category_acc1"], 4),
        "dev_nil_rate": round(kd["nil_rate"], 4),
        "test_acc1": round(results["kgqa_test"]["acc1"], 4),
        "test_acc5": round(results["kgqa_test"]["acc5"], 4),
        "test_category_acc1": round(results["kgqa_test"]["category_acc1"], 4),
        "mentions_per_s": round(kd["mentions_per_s"], 1),
        "mentions_per_wall_s": round(kd["mentions_per_wall_s"], 1),
        "test_mentions_per_s": round(results["kgqa_test"]["mentions_per_s"], 1),
        "load_average": round(os.getloadavg()[0], 1),
        "processes": args.processes,
        "parallel_mentions_per_wall_s": round(results["parallel_dev"]["mentions_per_wall_s"], 1),
        "parallel_mentions_per_cpu_s": round(results["parallel_dev"]["mentions_per_s"], 1),
        "loop_memo_mentions_per_s": round(results["loop_memo"]["mentions_per_s"], 1),
        "loop_memo_hit_rate": round(results["loop_memo"]["memo_hit_rate"], 4),
        "loop_no_memo_mentions_per_s": round(results["loop_no_memo"]["mentions_per_s"], 1),
        "naive_mentions_per_s": round(nd["mentions_per_s"], 1),
        "speedup_vs_naive": round(kd["mentions_per_s"] / nd["mentions_per_s"], 1),
        "exact_dev_acc1": round(results["exact_dev"]["acc1"], 4),
        "exact_test_acc1": round(results["exact_test"]["acc1"], 4),
        "naive_dev_acc1": round(nd["acc1"], 4),
        "naive_test_acc1": round(results["naive_test"]["acc1"], 4),
        "naive_n": nd["n"],
        "brute_sample_mentions_per_s": round(results["brute_dev_sample"]["mentions_per_s"], 1),
        "ngram_sample_mentions_per_s": round(results["kgqa_dev_sample"]["mentions_per_s"], 1),
        "brute_sample_acc1": round(results["brute_dev_sample"]["acc1"], 4),
        "ngram_sample_acc1": round(results["kgqa_dev_sample"]["acc1"], 4),
        "index_labels": linker.index.n_labels,
        "index_keys": len(linker.index.keys),
        **routes,
        **dense_figures,
        "settings": TUNED,
        "quick": args.quick,
        "repeat": args.repeat,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
