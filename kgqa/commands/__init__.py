"""The command-line layer: one module per ``kgqa`` sub-command, and how they report failures."""

from __future__ import annotations

from kgqa.errors import EXIT_BUG, EXIT_SIGTERM, debug_enabled, exit_code


def report_error(prog: str, exc: BaseException) -> int:
    """Print one line for an expected failure (a traceback only under KGQA_DEBUG or for a bug); return its exit code."""
    import sys
    import traceback

    code = exit_code(exc)
    if isinstance(exc, KeyboardInterrupt):
        name = "SIGTERM" if code == EXIT_SIGTERM else "SIGINT"
        print(f"{prog}: interrupted ({name})", file=sys.stderr)
    elif code == EXIT_BUG:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        print(f"{prog}: unexpected error (a bug): {type(exc).__name__}: {exc}", file=sys.stderr)
        return code
    else:
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"{prog}: error: {message}", file=sys.stderr)
    if debug_enabled():
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    return code
