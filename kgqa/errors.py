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
