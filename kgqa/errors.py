"""Typed errors. Messages name the offending value and, where there is one, the config key or file."""


class KgqaError(Exception):
    """Base class of every error kgqa raises on purpose."""


class RecordError(KgqaError, ValueError):
    """A record (Note, Answer, …) would break one of its invariants."""


class ConfigError(KgqaError):
    """A configuration value is missing, of the wrong type or inconsistent."""


class NoteReadError(KgqaError):
    """A note could not be read; the message names the file."""


class CatalogueError(KgqaError):
    """The concept catalogue is malformed; the message names the concept and field."""


class ModelLoadError(KgqaError):
    """A reader checkpoint could not be loaded from its path."""


class OntologyError(KgqaError):
    """An ontology file is malformed; the message names file and line."""


class StoreError(KgqaError):
    """A triplestore refused or failed an operation; the message carries the server's words, never a password."""


class QueryError(KgqaError):
    """A named query is unknown or lacks a parameter."""


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; ``signum`` says which (a KeyboardInterrupt, so ``except Exception`` lets it by)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


# ---------------------------------------------------------------------- exit codes

#: Exit codes of every ``kgqa`` command (documented in README.md, "Exit codes").
EXIT_OK = 0
#: the command finished, but some of its work failed (notes failed or skipped, a SHACL violation, a failed load)
EXIT_PARTIAL = 1
#: configuration or usage error (bad override, missing path, value out of range, unknown option)
EXIT_CONFIG = 2
#: the triplestore is unreachable, refused a request, or is locked by another process
EXIT_STORE = 3
#: the reader's checkpoint could not be loaded
EXIT_MODEL = 4
#: input data could not be read (notes, catalogue, ontology, a run directory)
EXIT_INPUT = 5
#: an unexpected error: a bug (the traceback is printed)
EXIT_BUG = 70
#: interrupted by SIGINT (Ctrl-C) / SIGTERM: 128 + the signal number, as shells report it
EXIT_SIGINT = 130
EXIT_SIGTERM = 143

DEBUG_ENV = "KGQA_DEBUG"


def exit_code(exc: BaseException) -> int:
    """The documented exit code for an exception kgqa expects (EXIT_BUG for anything else)."""
    if isinstance(exc, Interrupted):
        return 128 + exc.signum
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_SIGINT
    for kinds, code in (
        ((ConfigError, QueryError), EXIT_CONFIG),
        ((StoreError,), EXIT_STORE),
        ((ModelLoadError,), EXIT_MODEL),
        ((NoteReadError, CatalogueError, OntologyError, RecordError), EXIT_INPUT),
    ):
        if isinstance(exc, kinds):
            return code
    return EXIT_PARTIAL if isinstance(exc, KgqaError) else EXIT_BUG


def debug_enabled() -> bool:
    """``KGQA_DEBUG=1`` (or ``true``/``yes``): errors print their traceback too."""
    import os

    return os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes", "on")
