"""Running a function as a Hydra app from a ``kgqa <command>`` sub-command.

Hydra reads ``sys.argv``; the dispatcher strips the sub-command and hands the rest here, so every Hydra
flag works as usual (``--cfg job``, ``-m``, ``hydra.run.dir=…``, ``key=value`` overrides, ``--help``).

Errors: Hydra would print an exception raised by the task with a long traceback and exit 1. The task
is therefore run inside a guard that turns every expected failure (a :class:`~kgqa.errors.KgqaError`,
Ctrl-C, SIGTERM) into one line on stderr and its documented exit code (:mod:`kgqa.errors`); a
traceback is printed only with ``KGQA_DEBUG=1`` or for an unexpected error (a bug). Hydra's own
failures before the task starts (a bad override, an unknown config group) exit with
:data:`~kgqa.errors.EXIT_CONFIG`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

import hydra
from omegaconf import DictConfig

from kgqa.commands import report_error
from kgqa.config import CONF_DIR, HYDRA_VERSION_BASE, register_configs
from kgqa.errors import EXIT_CONFIG


def run_hydra_app(
    argv: Sequence[str], task: Callable[[DictConfig], int | None], *, config_name: str, prog: str
) -> int:
    register_configs()
    outcome: dict[str, int] = {}

    @hydra.main(config_path=str(CONF_DIR), config_name=config_name, version_base=HYDRA_VERSION_BASE)
    def _app(cfg: DictConfig) -> None:
        try:
            rc = task(cfg) or 0
        except BaseException as exc:  # every failure becomes one line and an exit code
            if isinstance(exc, SystemExit):
                raise
            rc = report_error(prog, exc)
        outcome["rc"] = max(outcome.get("rc", 0), rc)  # multirun: the worst job decides

    saved = sys.argv
    sys.argv = [prog, *argv]
    try:
        _app()
    except KeyboardInterrupt as exc:  # while Hydra composes or sets up the run directory
        return report_error(prog, exc)
    except ValueError as exc:  # Hydra's own command-line checks (the task's errors never get here)
        print(f"{prog}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_CONFIG
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if code and "rc" not in outcome:
            return EXIT_CONFIG  # Hydra refused the command line or the config (it printed why)
        return outcome.get("rc", code)
    finally:
        sys.argv = saved
    return outcome.get("rc", 0)
