"""``kgqa synth``: write a synthetic annotated corpus of stroke discharge reports.

    kgqa synth --out data/synth --split train --n 200          # 200 notes per language
    kgqa synth --out data/synth --split heldout --n 20 --formats gold,notes

Outputs in ``--out``: ``<split>.gold.jsonl`` (kgqa's gold format, input of ``kgqa eval``),
``<split>.squad.json`` (SQuAD v2 with unanswerable questions, questions from the catalogue;
input of ``kgqa train qa``), ``<split>.notes.jsonl`` (plain notes for ``kgqa run``) and
``<split>.txt`` (the raw text, for MLM adaptation). The last line printed is a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from pathlib import Path

from kgqa import PROJECT_ROOT
from kgqa.types import LANGUAGES

log = logging.getLogger(__name__)

FORMATS = ("gold", "squad", "notes", "text")
DEFAULT_CATALOGUE = PROJECT_ROOT / "kgqa" / "resources" / "catalogue" / "resq.yaml"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kgqa synth", description="Generate synthetic annotated stroke notes.")
    p.add_argument("--out", required=True, type=Path, help="output directory")
    p.add_argument("--n", type=int, default=50, help="notes per language (default 50)")
    p.add_argument("--split", choices=("train", "heldout"), default="train",
                   help="template split: held-out notes use phrasings training notes never use")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--langs", default=",".join(LANGUAGES), help="comma-separated languages")
    p.add_argument("--formats", default="gold,squad,notes,text", help=f"comma-separated, of {', '.join(FORMATS)}")
    p.add_argument("--catalogue", type=Path, default=DEFAULT_CATALOGUE, help="catalogue the questions come from")
    p.add_argument("--unanswerable-ratio", type=float, default=0.15,
                   help="share of non-generated catalogue concepts asked as unanswerable questions")
    p.add_argument("--question-variants", choices=("first", "random"), default="random")
    return p


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    from kgqa.evaluation.gold import write_gold_jsonl
    from kgqa.records_io import write_notes_jsonl
    from kgqa.synth.generator import generate_corpus

    langs = tuple(x for x in args.langs.split(",") if x)
    formats = tuple(x for x in args.formats.split(",") if x)
    bad = [f for f in formats if f not in FORMATS] + [lang for lang in langs if lang not in LANGUAGES]
    if bad:
        print(f"kgqa synth: unknown format/language {', '.join(bad)}; formats: {FORMATS}, languages: {LANGUAGES}")
        return 2
    golds = list(generate_corpus(args.n, split=args.split, seed=args.seed, langs=langs))
    args.out.mkdir(parents=True, exist_ok=True)
    written = {}
    if "gold" in formats:
        written["gold"] = str(args.out / f"{args.split}.gold.jsonl")
        write_gold_jsonl(golds, written["gold"])
    if "notes" in formats:
        written["notes"] = str(args.out / f"{args.split}.notes.jsonl")
        write_notes_jsonl((g.note for g in golds), written["notes"])
    if "text" in formats:
        written["text"] = str(args.out / f"{args.split}.txt")
        Path(written["text"]).write_text("\n\n".join(g.note.text for g in golds) + "\n", encoding="utf-8")
    n_questions = 0
    if "squad" in formats:
        from kgqa.catalogue import load_catalogue
        from kgqa.synth.squad import to_squad

        catalogue = load_catalogue(args.catalogue)
        doc = to_squad(golds, list(catalogue), unanswerable_ratio=args.unanswerable_ratio,
                       question_variants=args.question_variants, seed=args.seed)
        n_questions = sum(len(a["paragraphs"][0]["qas"]) for a in doc["data"])
        written["squad"] = str(args.out / f"{args.split}.squad.json")
        Path(written["squad"]).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    summary = {
        "notes": len(golds),
        "annotations": sum(len(g.annotations) for g in golds),
        "questions": n_questions,
        "split": args.split,
        "files": written,
    }
    print(json.dumps(summary, ensure_ascii=False))
    return 0
