"""Average fine-tuned checkpoints of one model into a new checkpoint (training/soup.py).

    python scripts/average_checkpoints.py outputs/e5/small_qa_stage4/model outputs/e5/small_qa_stage3/model \
        --out outputs/e5/soup34/model

The first checkpoint's config, tokenizer, card and training record are copied; fit the result's calibration
afterwards (``kgqa train calibrate``), as for any new model.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    from training.soup import average_checkpoints

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sources", type=Path, nargs="+", help="checkpoint directories (model.safetensors each)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--weights", type=float, nargs="+", help="one per checkpoint, summing to 1 (default: equal)")
    args = ap.parse_args(argv)
    print(average_checkpoints(args.sources, args.out, args.weights))
    return 0


if __name__ == "__main__":
    sys.exit(main())
