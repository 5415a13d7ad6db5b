"""Value micro-F1 of one ``kgqa eval`` run on subsets of the independent set (hand-written, CodiEsp).

``kgqa eval`` reports overall and per language; the CodiEsp cases are all Spanish, so their own
figure needs the run's facts scored again on that subset, with the concepts the run asked::

    python eval/subset_scores.py eval/independent.dev.gold.jsonl outputs/eval/independent-dev

prints one JSON line: {"all": F1, "hand-written": F1, "codiesp": F1, "hand-written/<lang>": F1, ...,
"prescriptions_precision": P, "prescriptions_recall": R} (the last two: the yes/no discharge drug concepts).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue
from kgqa.evaluation.gold import read_gold_jsonl
from kgqa.evaluation.scoring import score
from kgqa.records_io import read_facts_jsonl
from kgqa.types import ValueKind


def subset_f1(gold_path: Path, run_dir: Path, catalogue_path: Path) -> dict[str, float | None]:
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    # the notes the run evaluated: `kgqa eval --limit N` takes the file's first N
    golds = list(read_gold_jsonl(gold_path))[: report["notes"]]
    catalogue = load_catalogue(catalogue_path)
    concepts = [catalogue.get(cid) for cid in report["concepts"]]
    facts: dict[str, list] = {}
    for f in read_facts_jsonl(run_dir / "facts.jsonl"):
        facts.setdefault(f.note_id, []).append(f)
    subsets = {"all": golds}
    for origin in ("hand-written", "codiesp"):
        subsets[origin] = [g for g in golds if g.note.metadata.get("origin") == origin]
    for lang in sorted({g.note.lang for g in subsets["hand-written"]}):
        subsets[f"hand-written/{lang}"] = [g for g in subsets["hand-written"] if g.note.lang == lang]
    out: dict[str, float | None] = {}
    for name, sub in subsets.items():
        f1 = score(sub, facts, concepts).micro_f1() if sub else None
        out[name] = None if f1 is None else round(f1, 3)
    # discharge prescriptions (issue 23's target): the yes/no drug concepts of the discharge medication group
    drugs = [c for c in concepts if c.group == "discharge_medication" and c.kind is ValueKind.BOOLEAN]
    if drugs:
        m = score(golds, facts, drugs).metrics(("overall",))["value"]
        for key in ("precision", "recall"):
            out[f"prescriptions_{key}"] = None if m[key] is None else round(m[key], 3)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("gold", type=Path, help="the gold file the run evaluated")
    p.add_argument("run_dir", type=Path, help="kgqa eval --out directory (report.json, facts.jsonl)")
    p.add_argument("--catalogue", type=Path, default=DEFAULT_CATALOGUE,
                   help="the catalogue the run used (default: kgqa's default catalogue)")
    args = p.parse_args(argv)
    print(json.dumps(subset_f1(args.gold, args.run_dir, args.catalogue)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
