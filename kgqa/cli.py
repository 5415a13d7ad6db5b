"""``kgqa`` command line: a thin dispatcher to one module per sub-command.

This module and the command modules are the only places that see Hydra's DictConfig; stages get
typed config objects. The hub is never contacted: offline variables are set before anything
from Hugging Face is imported.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

from kgqa.errors import KgqaError

#: sub-command -> (module with main(argv) -> int, one-line description)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("kgqa.commands.run", "extract facts from notes into the triplestore (Hydra app; overrides: key=value)"),
    "query": ("kgqa.commands.query", "run a named SPARQL query from queries/ (kgqa query NAME param=value …)"),
    "validate": ("kgqa.commands.validate", "SHACL-validate a run's output or the store (RES-Q PLUS + kgqa shapes)"),
    "eval": ("kgqa.commands.eval", "evaluate extraction against gold-annotated notes"),
    "report": ("kgqa.commands.report", "write the HTML review report of a run"),
    "review": ("kgqa.commands.review", "review facts in a local web app (accept/reject/correct); review export"),
    "store": ("kgqa.commands.store", "triplestore administration: init | health | count | graphs | drop | load RUN_DIR"),
    "shards": ("kgqa.commands.shards", "load sharded N-Quads (runner=ray output) into the store"),
    "synth": ("kgqa.commands.synth", "generate synthetic annotated stroke notes"),
    "models": ("kgqa.commands.models", "local copies of pretrained encoders (kgqa models import-e5 --out DIR)"),
    "train": ("kgqa.commands.train", "training: kgqa train mlm|qa [overrides] (Hydra apps)"),
}

OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")


def set_offline() -> None:
    """No network at run time: a model path must be local (a user with hub access may unset these)."""
    for var in OFFLINE_VARIABLES:
        os.environ.setdefault(var, "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: kgqa <command> [args]", "", "commands:"]
    lines += [f"  {name.ljust(width)}  {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "`kgqa <command> --help` shows a command's own help (Hydra apps: its config groups and overrides)."]
    lines += ["Exit codes: 0 ok, 1 partly failed, 2 config/usage, 3 store, 4 model, 5 input, 130/143 interrupted;",
              "KGQA_DEBUG=1 prints tracebacks (README.md, 'Exit codes')."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    set_offline()
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    if args[0] in ("--version", "-V"):
        from kgqa import __version__

        print(f"kgqa {__version__}")
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"kgqa: unknown command {name!r}; valid commands: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    from kgqa.commands import report_error

    try:
        module = importlib.import_module(COMMANDS[name][0])
        return int(module.main(rest) or 0)
    except (KgqaError, KeyboardInterrupt) as exc:  # a command that let one through: one line, its exit code
        return report_error(f"kgqa {name}", exc)


if __name__ == "__main__":
    sys.exit(main())
