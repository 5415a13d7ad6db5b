"""Named term sources: which files make up a source, and how each is loaded.

The manifest ``ontologies/sources.yaml`` maps a source name to its files, each with a loader from
:data:`kgqa.linking.loaders.LOADERS` and that loader's options. Files marked ``enrich: true`` only
add names to terms another file of the source defines (translations, mapped labels); they never
create terms of their own. ``prefix_hierarchy: true`` makes every prefix of a term's code one of its
branches (ATC, ICD-10), so ``ATC:B01`` in a concept's scope selects the antithrombotics.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from kgqa.errors import ConfigError, OntologyError
from kgqa.linking.loaders import get_loader
from kgqa.linking.terms import Term, code_prefixes, merge_terms

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceFile:
    path: str
    loader: str
    enrich: bool = False
    options: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class SourceSpec:
    name: str
    files: tuple[SourceFile, ...]
    prefix_hierarchy: bool = False
    description: str = ""

    def paths(self, base: Path) -> list[Path]:
        return [(base / f.path) for f in self.files]


def read_manifest(path: Path) -> dict[str, SourceSpec]:
    """Parse ``sources.yaml``; errors name the file and the source."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OntologyError(f"{path}: source manifest not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise OntologyError(f"{path}{line}: malformed YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise OntologyError(f"{path}: expected a mapping of source name -> spec")
    specs = {}
    for name, spec in data.items():
        if not isinstance(spec, dict) or not spec.get("files"):
            raise OntologyError(f"{path}: source {name!r} needs a non-empty 'files' list")
        files = []
        for i, f in enumerate(spec["files"]):
            if not isinstance(f, dict) or "path" not in f or "loader" not in f:
                raise OntologyError(f"{path}: source {name!r} file #{i + 1} needs 'path' and 'loader'")
            options = {k: v for k, v in f.items() if k not in ("path", "loader", "enrich")}
            get_loader(f["loader"])  # fail at manifest read, not half-way through a build
            files.append(SourceFile(f["path"], f["loader"], bool(f.get("enrich", False)), options))
        specs[name] = SourceSpec(
            name, tuple(files), bool(spec.get("prefix_hierarchy", False)), str(spec.get("description", ""))
        )
    return specs


def select(specs: dict[str, SourceSpec], names: list[str], key: str = "linker.sources") -> list[SourceSpec]:
    unknown = [n for n in names if n not in specs]
    if unknown:
        raise ConfigError(f"{key}: unknown term source(s) {', '.join(unknown)}; valid: {', '.join(sorted(specs))}")
    return [specs[n] for n in names]


def load_source(spec: SourceSpec, base: Path) -> Iterator[Term]:
    """All terms of one source, merged across its files."""
    primary: list[Term] = []
    enrich: list[Term] = []
    for f in spec.files:
        path = base / f.path
        loaded = list(get_loader(f.loader)(path, **f.options))
        log.debug("source %s: %d term fragments from %s", spec.name, len(loaded), path)
        (enrich if f.enrich else primary).extend(loaded)
    known = {t.id for t in primary}
    dropped = sum(1 for t in enrich if t.id not in known)
    if dropped:
        log.debug("source %s: %d enrichment fragments name unknown ids (ignored)", spec.name, dropped)
    merged = merge_terms(primary + [t for t in enrich if t.id in known])
    for term in merged:
        if spec.prefix_hierarchy:
            term = Term(term.id, term.iri, term.labels, term.branches + code_prefixes(term.id), term.obsolete, term.extra)
        yield term
