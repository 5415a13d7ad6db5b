"""Pull a reader's per-concept null thresholds toward its default by how few dev positives each was fitted on
(``kgqa.qa.calibration.shrink_thresholds``).

    python scripts/shrink_calibration.py models/kgqa-e5-small-qa/kgqa_calibration.json \\
        eval/independent.dev.gold.jsonl --prior 10 --out /tmp/kgqa_calibration.json

Positives per concept: the notes of the gold file (kgqa's gold JSONL, the set the calibration was fitted on) that
annotate the concept. Prints one JSON object: the thresholds before and after.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def positives_per_concept(gold: Path) -> Counter:
    from kgqa.errors import KgqaError
    from kgqa.evaluation.gold import read_gold_jsonl

    counts: Counter = Counter()
    try:
        for note in read_gold_jsonl(gold):
            counts.update({a.concept_id for a in note.annotations})
    except KgqaError as exc:  # names the file and line
        raise SystemExit(str(exc)) from None
    return counts


def main(argv: list[str] | None = None) -> int:
    from kgqa.qa.calibration import load_calibration, shrink_thresholds

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("calibration", type=Path)
    ap.add_argument("gold", type=Path, help="gold JSONL the calibration was fitted on (its positives are counted)")
    ap.add_argument("--prior", type=float, default=10.0, help="positives a concept needs to weigh as much as the default")
    ap.add_argument("--lower-only", action="store_true", help="move only thresholds above the default")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    before = load_calibration(args.calibration)
    after = shrink_thresholds(before, positives_per_concept(args.gold), args.prior, args.lower_only)
    after.save(args.out)
    print(json.dumps({c: [round(before.null_thresholds[c], 3), round(after.null_thresholds[c], 3)]
                      for c in sorted(before.null_thresholds)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
