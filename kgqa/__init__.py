"""kgqa: knowledge-graph population from multilingual clinical notes with extractive QA."""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version
from pathlib import Path

try:
    __version__ = _version("kgqa")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"

#: The project root (checkout) — conf/, ontologies/ and queries/ live here.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
