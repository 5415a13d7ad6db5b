"""``python -m kgqa.catalogue vocab [CATALOGUE.yaml] [OUT.ttl]``: regenerate ontologies/resq-vocab.ttl.

The catalogue engineer's generator (ontologies/README.md); :func:`kgqa.catalogue.write_vocabulary` does the work.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from kgqa.catalogue import write_vocabulary


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] != "vocab":
        print("usage: python -m kgqa.catalogue vocab [CATALOGUE.yaml] [OUT.ttl]", file=sys.stderr)
        return 2
    out, triples = write_vocabulary(
        Path(args[1]) if len(args) > 1 else None, Path(args[2]) if len(args) > 2 else None
    )
    print(f"wrote {triples} triples to {out}", file=sys.stderr)
    return 0
