"""Build the independent evaluation set: ``eval/independent.{dev,test}.gold.jsonl``.

The notes and their facts live in ``handwritten.py`` (notes written by hand for this set) and
``codiesp_cases.py`` (real CodiEsp cases, texts in ``codiesp/``). This script turns each fact's
surface string into character offsets, so no offset is ever counted by hand, and writes kgqa's gold
format (kgqa/evaluation/gold.py). It reads nothing outside ``eval/`` and is deterministic: the
test suite rebuilds the files and compares them byte for byte.

    python eval/build.py                 # rewrite eval/independent.{dev,test}.gold.jsonl
    python eval/build.py --out DIR       # write them elsewhere
    python eval/build.py --check         # also read every gold span with kgqa's values stage
                                         # and list where it disagrees with the gold value
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the note files beside this script

from kgqa.errors import RecordError
from kgqa.evaluation.gold import GoldAnnotation, GoldNote, write_gold_jsonl
from kgqa.types import Note

SPLITS = ("dev", "test")
OPEN, CLOSE = "[[", "]]"
CODIESP_SOURCE = "CodiEsp v4 (Miranda-Escalada et al., BSC / Plan TL, Zenodo 3837305), CC BY 4.0"
CODIESP_ATTRIBUTION = (
    "Miranda-Escalada A., Gonzalez-Agirre A., Armengol-Estapé J., Krallinger M. CodiEsp corpus: "
    "gold standard Spanish clinical cases coded in ICD10 (CIE10), v4. Barcelona Supercomputing Center "
    "(BSC) / Plan TL. Zenodo 3837305. CC BY 4.0."
)


def locate(text: str, surface: str, occurrence: int = 1) -> tuple[int, int]:
    """[start, end) of ``surface`` (or of its ``[[bracketed]]`` part) at its ``occurrence``-th match."""
    if OPEN in surface:
        before, rest = surface.split(OPEN, 1)
        inner, after = rest.split(CLOSE, 1)
        context, offset = before + inner + after, len(before)
    else:
        context, inner, offset = surface, surface, 0
    pos = -1
    for _ in range(occurrence):
        pos = text.find(context, pos + 1)
        if pos < 0:
            raise RecordError(f"{surface!r} (occurrence {occurrence}) is not in the note")
    return pos + offset, pos + offset + len(inner)


def annotations(text: str, facts: list[tuple], where: str) -> tuple[GoldAnnotation, ...]:
    out = []
    for fact in facts:
        concept_id, surface, value = fact[:3]
        occurrence = fact[3] if len(fact) > 3 else 1
        try:
            start, end = locate(text, surface, occurrence)
        except RecordError as exc:
            raise RecordError(f"{where}: {concept_id}: {exc}") from exc
        assertion = "negated" if value is False else "present"
        out.append(GoldAnnotation(concept_id, start, end, text[start:end], value, assertion))
    seen = Counter(a.concept_id for a in out)
    twice = sorted(c for c, n in seen.items() if n > 1)
    if twice:
        raise RecordError(f"{where}: one fact per concept and note, but {twice} have more")
    return tuple(sorted(out, key=lambda a: (a.start, a.end, a.concept_id)))


def handwritten_golds() -> list[tuple[str, GoldNote]]:
    from handwritten import NOTES

    out = []
    for n in NOTES:
        text = n["text"]
        note = Note(
            id=n["id"], text=text, lang=n["lang"], patient_id=n["id"],
            admission_date=dt.date.fromisoformat(n["admission"]),
            source="kgqa eval/handwritten.py",
            metadata={"origin": "hand-written", "eval_split": n["split"]},
        )
        out.append((n["split"], GoldNote(note, annotations(text, n["facts"], n["id"]))))
    return out


def codiesp_golds() -> list[tuple[str, GoldNote]]:
    from codiesp_cases import CASES

    out = []
    for c in CASES:
        text = (HERE / "codiesp" / f"{c['doc']}.txt").read_text(encoding="utf-8")
        note_id = f"codiesp-{c['doc']}"
        metadata: dict[str, Any] = {
            "origin": "codiesp", "eval_split": c["split"], "codiesp_split": c["codiesp_split"],
            "codiesp_document": c["doc"], "licence": "CC BY 4.0", "attribution": CODIESP_ATTRIBUTION,
        }
        if c.get("excerpt"):
            metadata["excerpt"] = c["excerpt"]
        note = Note(id=note_id, text=text, lang="es", patient_id=note_id, source=CODIESP_SOURCE,
                    metadata=metadata)
        out.append((c["split"], GoldNote(note, annotations(text, c["facts"], note_id))))
    return out


def build() -> dict[str, list[GoldNote]]:
    by_split: dict[str, list[GoldNote]] = {s: [] for s in SPLITS}
    for split, gold in handwritten_golds() + codiesp_golds():
        if split not in by_split:
            raise RecordError(f"{gold.note.id}: split {split!r} is not one of {SPLITS}")
        by_split[split].append(gold)
    for golds in by_split.values():
        golds.sort(key=lambda g: (g.note.metadata["origin"] != "hand-written", g.note.lang, g.note.id))
    return by_split


def write(out_dir: Path) -> dict[str, Path]:
    paths = {}
    for split, golds in build().items():
        paths[split] = out_dir / f"independent.{split}.gold.jsonl"
        write_gold_jsonl(golds, paths[split])
    return paths


def check(by_split: dict[str, list[GoldNote]]) -> int:
    """Read every gold span with kgqa's values stage; print where its value differs from the gold one."""
    from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue
    from kgqa.evaluation.scoring import values_equal
    from kgqa.types import Answer
    from kgqa.values.normalise import normalise

    catalogue = load_catalogue(DEFAULT_CATALOGUE)
    differ = total = 0
    for split, golds in by_split.items():
        for g in golds:
            for a in g.annotations:
                total += 1
                answer = Answer.from_note(g.note, a.concept_id, a.start, a.end, score=0.0, null_score=0.0,
                                          confidence=1.0)
                concept = catalogue.get(a.concept_id)
                value = normalise(answer, concept, g.note)
                if not (value.ok and values_equal(a.value, value, concept)):
                    differ += 1
                    print(f"{split}\t{g.note.id}\t{a.concept_id}\t{a.text!r}\tgold={a.value!r}\t"
                          f"read={value.value!r} ({value.status.value}{': ' + value.reason if value.reason else ''})")
    print(f"{differ} of {total} gold spans read differently by the values stage", file=sys.stderr)
    return differ


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=HERE, help="directory for the gold files (default eval/)")
    p.add_argument("--check", action="store_true", help="list spans the values stage reads differently")
    args = p.parse_args(argv)
    paths = write(args.out)
    by_split = build()
    for split, golds in by_split.items():
        facts = sum(len(g.annotations) for g in golds)
        langs = Counter(g.note.lang for g in golds if g.note.metadata["origin"] == "hand-written")
        codiesp = sum(g.note.metadata["origin"] == "codiesp" for g in golds)
        print(f"{paths[split]}: {len(golds)} notes ({dict(sorted(langs.items()))} hand-written, "
              f"{codiesp} CodiEsp), {facts} facts")
    if args.check:
        check(by_split)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
