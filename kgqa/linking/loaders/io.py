"""Opening term files: plain or gzip-compressed text, errors that name the file."""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import IO

from kgqa.errors import OntologyError


def open_text(path: Path) -> IO[str]:
    """Open ``path`` for reading as UTF-8 text (``.gz`` transparently)."""
    if not path.is_file():
        raise OntologyError(f"{path}: ontology file not found")
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def error(path: Path, line: int | None, message: str) -> OntologyError:
    where = f"{path}:{line}" if line else str(path)
    return OntologyError(f"{where}: {message}")
