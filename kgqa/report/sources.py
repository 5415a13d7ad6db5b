"""Where a report's records come from: a run directory's output files, or a triplestore.

Both return a :class:`ReportInput` of records, so the view model and templates never know the
transport. The triplestore holds no note text (only its digest and length), so reading from a
store joins the facts queried there with note texts read from a notes source, checking the
digest of each.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kgqa.errors import ConfigError, KgqaError
from kgqa.types import Fact, Note, NoteError

log = logging.getLogger(__name__)

NOTES_FILE = "notes.jsonl"
FACTS_FILE = "facts.jsonl"
ERRORS_FILE = "errors.jsonl"
SUMMARY_FILE = "summary.json"
HYDRA_CONFIG = Path(".hydra") / "config.yaml"
#: run summary keys shown in the index header, in this order, with their labels (the index
#: counts notes and facts itself, from what it shows)
RUN_KEYS = {"run_id": "run", "model": "model", "store": "store", "notes_failed": "notes failed",
            "seconds": "run seconds"}


@dataclass(frozen=True)
class ReportInput:
    notes: tuple[Note, ...]
    facts: tuple[Fact, ...]
    errors: tuple[NoteError, ...] = ()
    run: Mapping[str, Any] = field(default_factory=dict)
    #: catalogue file and concept/group selection the run used (from its Hydra config), if known
    catalogue_path: str | None = None
    catalogue_concepts: tuple[str, ...] = ()
    catalogue_groups: tuple[str, ...] = ()


def select_notes(notes: Iterable[Note], note_ids: Sequence[str]) -> list[Note]:
    """Keep the notes named in ``note_ids`` (all when empty); an unknown id is an error."""
    notes = list(notes)
    if not note_ids:
        return notes
    by_id = {n.id: n for n in notes}
    missing = [i for i in note_ids if i not in by_id]
    if missing:
        raise KgqaError(f"--note: no note with id {', '.join(map(repr, missing))} in the report's source")
    return [by_id[i] for i in dict.fromkeys(note_ids)]


def _read_errors(path: Path) -> list[NoteError]:
    if not path.is_file():
        return []
    out = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                out.append(NoteError(**json.loads(line)))
            except (TypeError, json.JSONDecodeError) as exc:
                raise KgqaError(f"{path}:{lineno}: not a kgqa note error ({exc})") from exc
    return out


def _run_catalogue(run_dir: Path) -> tuple[str | None, tuple[str, ...], tuple[str, ...]]:
    """The catalogue path and selection recorded in the run's Hydra config (None when absent)."""
    path = run_dir / HYDRA_CONFIG
    if not path.is_file():
        return None, (), ()
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from kgqa.config import register_configs

    register_configs()  # the kgqa_root resolver used by the default catalogue path
    try:
        cfg = OmegaConf.load(path)
        catalogue = OmegaConf.to_container(cfg.get("catalogue") or {}, resolve=True)
    except OmegaConfBaseException as exc:
        raise ConfigError(f"{path}: cannot read the run's catalogue config ({exc})") from exc
    assert isinstance(catalogue, dict)
    return (catalogue.get("path") or None, tuple(catalogue.get("concepts") or ()),
            tuple(catalogue.get("groups") or ()))


def _summary(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / SUMMARY_FILE
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise KgqaError(f"{path}: not valid JSON ({exc.msg})") from exc


def read_run_summary(run_dir: Path) -> dict[str, Any]:
    """The index header's run facts from ``summary.json``, labelled (empty when the run wrote none)."""
    summary = _summary(run_dir)
    return {label: summary[key] for key, label in RUN_KEYS.items() if key in summary}


def read_run_id(run_dir: Path) -> str | None:
    """The run id recorded in ``summary.json``, if any."""
    return _summary(run_dir).get("run_id")


def read_run_dir(run_dir: str | Path, note_ids: Sequence[str] = ()) -> ReportInput:
    """Records of a ``kgqa run`` output directory (``notes.jsonl``, ``facts.jsonl``, ``errors.jsonl``, ``summary.json``)."""
    from kgqa.records_io import read_facts_jsonl, read_notes_jsonl

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise KgqaError(f"{run_dir}: not a directory (expected the output directory of `kgqa run`)")
    for name in (NOTES_FILE, FACTS_FILE):
        if not (run_dir / name).is_file():
            raise KgqaError(f"{run_dir / name}: missing; is {run_dir} the output directory of `kgqa run`?")
    notes = select_notes(read_notes_jsonl(run_dir / NOTES_FILE), note_ids)
    wanted = {n.id for n in notes}
    facts = [f for f in read_facts_jsonl(run_dir / FACTS_FILE) if f.note_id in wanted]
    errors = _read_errors(run_dir / ERRORS_FILE)
    if note_ids:
        errors = [e for e in errors if e.note_id in wanted]
    run = read_run_summary(run_dir)
    path, concepts, groups = _run_catalogue(run_dir)
    return ReportInput(tuple(notes), tuple(facts), tuple(errors), run, path, concepts, groups)
