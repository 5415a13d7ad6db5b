"""``kgqa train mlm|qa [overrides]`` — the training pipeline's Hydra apps (same as ``kgqa-train``)."""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str]) -> int:
    from training.cli import main as train_main

    return int(train_main(list(argv)) or 0)
