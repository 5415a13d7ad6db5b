"""Discharge prescriptions on kgqa's independent notes (eval/independent.*.gold.jsonl), from the medication
list span through values → linking → derive, as ``kgqa run`` does after the reader.

The reader is replaced by an oracle list span: from the first to the last gold discharge-drug annotation of
a note (what a reader answering "What is the discharge medication?" with one span returns). So this
measures the list splitting, the drug linking (INN, brands, 7 languages) and the ATC → RES-Q category
derivation, not the reader. Scored per (note, prescription concept) against the gold ``discharge_*``
booleans; concepts the gold never annotates (``discharge_any_*``, ``discharge_other``) are not scored.

    python benchmarks/linking_prescriptions.py
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue
from kgqa.linking import Linker, LinkerConfig
from kgqa.pipeline import Pipeline
from kgqa.types import Answer, Note
from kgqa.values import derive, normalise

log = logging.getLogger("linking_prescriptions")
NOT_DRUGS = {"discharge_date", "discharge_destination", "discharge_nihss_score", "discharge_mrs"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mode", default="lexical", choices=["lexical", "fused"])
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    catalogue = load_catalogue(DEFAULT_CATALOGUE)
    cfg = replace(LinkerConfig(ontology_dir=str(ROOT / "ontologies")), mode=args.mode)
    pipe = Pipeline(catalogue=catalogue, reader=None, normalise=normalise, linker=Linker.from_config(cfg), builder=None,
                    derive=derive)
    gold_concepts: set[str] = set()
    notes = []
    for split in ("dev", "test"):
        for line in (ROOT / "eval" / f"independent.{split}.gold.jsonl").open(encoding="utf-8"):
            rec = json.loads(line)
            drugs = [a for a in rec["annotations"] if a["concept"].startswith("discharge_") and a["concept"] not in NOT_DRUGS]
            gold_concepts |= {a["concept"] for a in drugs}
            notes.append((rec["note"], drugs))
    tp = fp = fn = 0
    for n, drugs in notes:
        note = Note(id=n["id"], text=n["text"], lang=n["lang"])
        gold = {a["concept"] for a in drugs if a["assertion"] == "present"}
        derived: set[str] = set()
        if drugs:
            start, end = min(a["start"] for a in drugs), max(a["end"] for a in drugs)
            ans = Answer.from_note(note, "discharge_other_drugs", start, end, score=1.0, null_score=0.0, confidence=1.0)
            facts = pipe.facts_for(note, [ans])
            derived = {f.concept_id for f in facts if f.derived_from} & gold_concepts
        tp += len(gold & derived)
        fp += len(derived - gold)
        fn += len(gold - derived)
        if gold != derived:
            log.info("%s (%s): missed %s, extra %s | span %r", note.id, note.lang, sorted(gold - derived),
                     sorted(derived - gold), note.text[start:end] if drugs else "")
    out = {"prescription_recall": round(tp / max(tp + fn, 1), 4), "prescription_precision": round(tp / max(tp + fp, 1), 4),
           "prescriptions_gold": tp + fn, "notes": len(notes), "mode": args.mode, "reader": "oracle list span"}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
