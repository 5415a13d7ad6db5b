"""The independent **dev** notes as a SQuAD v2 file, to fit a reader's calibration on (never to train on).

A reader's confidence and per-concept null thresholds (``kgqa_calibration.json``) are fitted on dev
questions. Fitted on the generator's held-out notes they describe how the reader behaves on synthetic
phrasings; fitted on independently written notes they describe the notes the product meets. Every note
gets one question per concept its file annotates anywhere (what ``kgqa eval --concepts gold`` asks),
in the note's language, the catalogue's first phrasing, answerable with the gold spans or unanswerable::

    python eval/to_squad.py eval/independent.dev.gold.jsonl .cache/eval/independent.dev.squad.json
    kgqa train calibrate experiment=e5_small_qa_stage2 model.checkpoint=RUN/model output_dir=RUN/calibration-dev \\
        '~data.eval.xquad_en' '~data.eval.xquad_es' '~data.eval.synth_heldout' \\
        +data.eval.independent_dev.path=.cache/eval/independent.dev.squad.json +data.eval.independent_dev.lang=mul

Question ids are ``<note id>::<concept id>`` (kgqa.synth.squad), so the fit is per concept. Refuses a
test file: the test split must stay unseen by every fit.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue
from kgqa.evaluation.gold import GoldNote, read_gold_jsonl
from kgqa.synth.squad import question_for, question_id
from kgqa.types import Concept


def independent_squad(golds: Sequence[GoldNote], concepts: Sequence[Concept]) -> dict:
    """SQuAD v2 for ``golds``: every note asked every concept of ``concepts`` (the annotated ones)."""
    annotated = {a.concept_id for g in golds for a in g.annotations}
    asked = [c for c in concepts if c.id in annotated]
    data = []
    for gold in golds:
        qas = []
        for concept in asked:
            question = question_for(concept, gold.note.lang)
            if question is None:
                continue
            spans = gold.for_concept(concept.id)
            qas.append({
                "id": question_id(gold.note.id, concept.id),
                "question": question,
                "answers": [{"text": a.text, "answer_start": a.start} for a in spans],
                "is_impossible": not spans,
            })
        data.append({"title": gold.note.id, "paragraphs": [{"context": gold.note.text, "qas": qas}]})
    return {"version": "v2.0", "data": data}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("gold", type=Path, help="gold JSONL (the dev split)")
    p.add_argument("out", type=Path, help="SQuAD v2 JSON to write")
    p.add_argument("--catalogue", type=Path, default=DEFAULT_CATALOGUE)
    args = p.parse_args(argv)
    if ".test." in args.gold.name:
        print(f"to_squad: {args.gold} is the test split; calibration is fitted on dev only", file=sys.stderr)
        return 2
    golds = list(read_gold_jsonl(args.gold))
    catalogue = load_catalogue(args.catalogue)
    doc = independent_squad(golds, [catalogue.get(cid) for cid in catalogue.ids])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    n = sum(len(p["qas"]) for a in doc["data"] for p in a["paragraphs"])
    unanswerable = sum(q["is_impossible"] for a in doc["data"] for p in a["paragraphs"] for q in p["qas"])
    print(f"{args.out}: {len(doc['data'])} notes, {n} questions ({unanswerable} unanswerable)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
