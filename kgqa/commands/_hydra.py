"""Running a function as a Hydra app from a ``kgqa <command>`` sub-command.

Hydra reads ``sys.argv``; the dispatcher strips the sub-command and hands the rest here, so every Hydra
flag works as usual (``--cfg job``, ``-m``, ``hydra.run.dir=…``, ``key=value`` overrides, ``--help``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

import hydra
from omegaconf import DictConfig

from kgqa.config import CONF_DIR, HYDRA_VERSION_BASE, register_configs


def run_hydra_app(
    argv: Sequence[str], task: Callable[[DictConfig], int | None], *, config_name: str, prog: str
) -> int:
    register_configs()
    outcome: dict[str, int] = {}

    @hydra.main(config_path=str(CONF_DIR), config_name=config_name, version_base=HYDRA_VERSION_BASE)
    def _app(cfg: DictConfig) -> None:
        rc = task(cfg) or 0
        outcome["rc"] = max(outcome.get("rc", 0), rc)  # multirun: the worst job decides

    saved = sys.argv
    sys.argv = [prog, *argv]
    try:
        _app()
    finally:
        sys.argv = saved
    return outcome.get("rc", 0)
