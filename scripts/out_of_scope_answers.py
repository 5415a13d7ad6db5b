"""How often a reader answers questions that notes about something else cannot answer (lower is better).

    python scripts/out_of_scope_answers.py models/kgqa-demo-xlmr-small ../shared/data/codiesp/dev/text_files \
        --lang es --limit 30 --max-seq-length 128 --doc-stride 64 \
        --concepts thrombolysis,thrombectomy,nihss_score --exclude 'ictus|stroke|NIHSS'

The notes and questions are chosen exactly as the ``out_of_scope`` training format chooses them
(``training.out_of_scope``: ``*.txt`` in sorted order, notes matching ``--exclude`` skipped, the catalogue's
first question in ``--lang``); every note is read as ``kgqa run`` reads it, with the checkpoint's own null
thresholds and calibration, and every answer the reader returns for these concepts counts as a false one.
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue
from kgqa.qa import Reader
from kgqa.qa.config import ModelConfig, ReaderConfig, WindowConfig
from kgqa.types import Note
from training.out_of_scope import load_out_of_scope


def false_answers(reader: Reader, notes_dir: Path, lang: str, concept_ids: list[str], exclude: str, limit: int,
                  catalogue: str = "") -> dict:
    """Answers ``reader`` gives to ``concept_ids`` on the out-of-scope notes of ``notes_dir``."""
    cat = load_catalogue(catalogue or DEFAULT_CATALOGUE)
    examples, _ = load_out_of_scope(
        notes_dir, dataset="out_of_scope", lang=lang, concepts=concept_ids, catalogue=cat.concepts,
        exclude_pattern=exclude, limit=limit,
    )
    texts = {ex.id.rsplit("::", 1)[0]: ex.context for ex in examples}
    notes = [Note(id=note_id, text=text, lang=lang) for note_id, text in texts.items()]
    answers = reader.read(notes, [cat.get(c) for c in concept_ids])
    by_concept = Counter(a.concept_id for note_answers in answers.values() for a in note_answers)
    answered = sum(by_concept.values())
    questions = len(notes) * len(concept_ids)
    return {
        "notes": len(notes),
        "questions": questions,
        "answered": answered,
        "rate": round(answered / questions, 4),
        "by_concept": dict(sorted(by_concept.items())),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help="checkpoint directory")
    ap.add_argument("notes", type=Path, help="directory of .txt notes about something else")
    ap.add_argument("--lang", required=True, help="language of the notes (and of the questions asked)")
    ap.add_argument("--concepts", required=True, help="comma-separated catalogue concept ids")
    ap.add_argument("--exclude", default="", help="skip notes matching this regular expression (case-insensitive)")
    ap.add_argument("--limit", type=int, default=0, help="at most this many notes (0 = all)")
    ap.add_argument("--catalogue", default="", help="catalogue file (default: kgqa's own)")
    ap.add_argument("--max-seq-length", type=int, default=384)
    ap.add_argument("--doc-stride", type=int, default=128)
    ap.add_argument("--max-question-length", type=int, default=48, help="model=demo sets 48")
    args = ap.parse_args(argv)
    window = WindowConfig(args.max_seq_length, args.doc_stride, args.max_question_length)
    reader = Reader.from_config(ModelConfig(path=args.model), ReaderConfig(window=window))
    result = false_answers(
        reader, args.notes, args.lang, args.concepts.split(","), args.exclude, args.limit, args.catalogue
    )
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
