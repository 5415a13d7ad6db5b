"""SQuAD-style EM/F1 of a reader checkpoint on SQuAD-format files, decoded exactly as ``kgqa run`` decodes.

    python scripts/squad_scores.py models/kgqa-demo-xlmr-small ../shared/data/xquad/xquad.{en,es,el,ro}.json \
        --max-seq-length 128 --doc-stride 64

Every question is answered with the reader's best span (no null threshold: XQuAD-style sets have only
answerable questions; an unanswerable one scores 1 only for an empty prediction, which never happens here),
scored with the official normalisation (``training.metrics``). The language of a file is taken from its
name (``xquad.es.json`` -> ``es``) unless ``--lang`` is given. Last line: one JSON object, per file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kgqa.qa import Reader
from kgqa.qa.calibrate import DevRecord, dev_pairs
from kgqa.qa.config import ModelConfig, ReaderConfig, WindowConfig
from kgqa.types import LANGUAGES
from training.metrics import per_question_scores


def records(path: Path, lang: str) -> list[DevRecord]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    # PoQuAD's questions have no ids: numbered by position, as training/squad.py numbers them
    return [
        DevRecord(
            qa.get("id") or f"a{i}-p{j}-q{k}", qa["question"], p["context"], lang,
            tuple(a["text"] for a in qa.get("answers", ())),
        )
        for i, article in enumerate(data)
        for j, p in enumerate(article["paragraphs"])
        for k, qa in enumerate(p["qas"])
    ]


def file_lang(path: Path, given: str) -> str:
    if given:
        return given
    for part in reversed(path.name.split(".")):
        if part in LANGUAGES:
            return part
    raise SystemExit(f"{path}: cannot tell its language from the name; pass --lang")


def scores(reader: Reader, recs: list[DevRecord]) -> dict[str, float]:
    em = f1 = 0.0
    for rec, decoded in zip(recs, reader.decode_pairs(dev_pairs(recs))):
        best = decoded.candidates[0] if decoded.candidates else None
        e, f = per_question_scores(list(rec.answers), rec.context[best.start : best.end] if best else "")
        em, f1 = em + e, f1 + f
    n = max(1, len(recs))
    return {"n": len(recs), "EM": round(100 * em / n, 1), "F1": round(100 * f1 / n, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help="checkpoint directory")
    ap.add_argument("files", nargs="+", type=Path, help="SQuAD-format JSON files")
    ap.add_argument("--lang", default="", help="language of every file (default: from the file name)")
    ap.add_argument("--max-seq-length", type=int, default=384)
    ap.add_argument("--doc-stride", type=int, default=128)
    ap.add_argument("--max-question-length", type=int, default=48)
    ap.add_argument(
        "--limit", type=int, default=0,
        help="score the first N questions of each file (0 = all); XQuAD files are parallel, so the same N questions",
    )
    args = ap.parse_args(argv)
    window = WindowConfig(args.max_seq_length, args.doc_stride, args.max_question_length)
    reader = Reader.from_config(ModelConfig(path=args.model), ReaderConfig(window=window))
    out = {}
    for path in args.files:
        recs = records(path, file_lang(path, args.lang))
        out[path.name] = scores(reader, recs[: args.limit] if args.limit > 0 else recs)
        print(path.name, out[path.name], file=sys.stderr, flush=True)
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
