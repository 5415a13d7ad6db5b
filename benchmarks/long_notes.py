"""Seconds per note through kgqa's per-note stages as a note grows from 2 KB to 2 MB, and the old
quadratic assertion step next to the current one, in one process.

Workload: one English discharge note (``samples/notes/en-0001.txt``) with its line breaks turned
into spaces (a single-line note, the shape that stalled a run: issue 24) and repeated to each size,
written to a ``.txt`` file. Per size, the stages a note goes through in ``kgqa run``, timed apart:

* ``read``: the file read and checked (size, encoding, language) by ``kgqa.notes.iter_notes``;
* ``qa``: the reader over every window of the note for the chosen concepts, including the value
  check of each candidate span (``reader.value_span_kinds``: the values stage and assertion cues
  run on every candidate, so a per-span cost that grows with the note makes this stage quadratic);
* ``values``: values, linking and derived facts of the answers (``Pipeline.facts_for``);
* ``rdf``: the note's named graph.

``growth`` is the exponent ``b`` of ``seconds ~ size**b`` between the two largest sizes (1 =
linear, 2 = quadratic). The baseline is the assertion step as it was before (sentence bounds found
by a scan from the note's start with ``text[pos:]`` slices, no window cap), run here on the same
spans as the current one (spans spread evenly over the note) up to ``--baseline-max`` bytes;
``ratio`` = its seconds per span over the current code's, at the largest size both ran.

The model is the tiny random one built locally (``--model demo`` for the shipped demo reader): the
figures measure kgqa's machinery, whose cost per window is what grows with the note.

    python benchmarks/long_notes.py --quick        # 2 KB .. 128 KB, baseline up to 128 KB
    python benchmarks/long_notes.py                # 2 KB .. 2 MB,   baseline up to 200 KB

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import math
import os
import re
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("KGQA_PSEUDONYM_KEY", "benchmark-key-not-secret")

log = logging.getLogger("benchmarks.long_notes")

#: concepts of several value kinds whose candidates are value-checked (integer, date/time, boolean)
CONCEPTS = ("nihss_score", "onset_timestamp", "thrombolysis")


def note_text(size: int) -> str:
    base = (ROOT / "samples" / "notes" / "en-0001.txt").read_text(encoding="utf-8").replace("\n", " ")
    return (base * (size // len(base) + 1))[:size]


# ------------------------------------------------------------------ the assertion step as it was


def _old_sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """kgqa.values.assertion.sentence_bounds before issue 24 (a scan and a slice per break)."""

    def next_is_upper(pos: int) -> bool:
        rest = text[pos:].lstrip()
        return not rest or rest[0].isupper()

    s = 0
    for m in re.finditer(r"\n|[.!?;](?=\s+[^\W\d_])", text):
        if m.end() > start:
            break
        if m.group(0) == "\n" or next_is_upper(m.end()):
            s = m.end()
    e = len(text)
    for m in re.finditer(r"\n|[.!?;](?=\s|$)", text[end:]):
        pos = end + m.start()
        if m.group(0) == "\n" or pos + 1 >= len(text) or next_is_upper(pos + 1):
            e = pos
            break
    return s, e


@contextmanager
def old_assertion_step():
    from kgqa.values import assertion

    saved = assertion.sentence_bounds, assertion._window_start, assertion._window_end
    assertion.sentence_bounds = _old_sentence_bounds
    assertion._window_start = lambda text, s, start: s
    assertion._window_end = lambda text, end, e: e
    try:
        yield
    finally:
        assertion.sentence_bounds, assertion._window_start, assertion._window_end = saved


def seconds_per_span(text: str, spans: int) -> float:
    from kgqa.values import assertion

    words = [m.start() for m in re.finditer(r"\b\w", text)]
    chosen = [words[i * len(words) // spans] for i in range(spans)]
    assertion.detect(text, 0, 1, "en")  # per-note work (the current code's sentence breaks) outside the timing
    t0 = time.perf_counter()
    for pos in chosen:
        assertion.detect(text, pos, pos + 1, "en")
    return (time.perf_counter() - t0) / spans


# ------------------------------------------------------------------ the per-note stages


def build_pipeline(model: str, concepts: tuple[str, ...], work: Path):
    from kgqa.commands.run import build_pipeline as build
    from kgqa.commands.run import make_run_info
    from kgqa.config import RunConfig, compose, to_object

    overrides = ["store=memory", f"notes.path={work}", f"catalogue.concepts=[{','.join(concepts)}]"]
    if model == "tiny":
        from kgqa.qa.tiny import build_tiny_checkpoint

        overrides += ["model=local", f"model.path={build_tiny_checkpoint(work / 'tiny')}"]
    elif model != "demo":
        overrides += ["model=local", f"model.path={model}"]
    cfg = to_object(compose(overrides), RunConfig)
    pipeline = build(cfg)
    return pipeline, make_run_info(cfg, pipeline, json.dumps(overrides))


def time_stages(pipeline, run, text: str, work: Path, tag: str) -> dict:
    from kgqa.notes import iter_notes
    from kgqa.types import Note

    folder = work / f"note-{tag}"
    folder.mkdir()
    (folder / "long.txt").write_text(text, encoding="utf-8")
    (folder / "long.json").write_text(json.dumps({"lang": "en", "admission_date": "2025-03-12"}), encoding="utf-8")
    out: dict = {"bytes": len(text.encode("utf-8"))}
    t = time.perf_counter()
    (note,) = list(iter_notes(folder, max_bytes=4 * len(text) + 1))
    out["read"] = time.perf_counter() - t
    assert isinstance(note, Note), note
    t = time.perf_counter()
    answers = pipeline.reader.read([note], pipeline.concepts).get(note.id, [])
    out["qa"] = time.perf_counter() - t
    t = time.perf_counter()
    facts = pipeline.facts_for(note, answers)
    out["values"] = time.perf_counter() - t
    t = time.perf_counter()
    graph = pipeline.builder.note_graph(note, facts, run)
    out["rdf"] = time.perf_counter() - t
    out["total"] = out["read"] + out["qa"] + out["values"] + out["rdf"]
    out["answers"], out["triples"] = len(answers), len(graph)
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


def growth(rows: list[dict], key: str) -> float | None:
    """Exponent b of seconds ~ bytes**b between the two largest sizes."""
    if len(rows) < 2 or rows[-2][key] <= 0 or rows[-1][key] <= 0:
        return None
    a, b = rows[-2], rows[-1]
    return round(math.log(b[key] / a[key]) / math.log(b["bytes"] / a["bytes"]), 2)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 KB .. 128 KB notes (CI)")
    ap.add_argument("--sizes", help="comma-separated note sizes in bytes (overrides the default ladder)")
    ap.add_argument("--model", default="tiny", help="tiny (random, built here), demo, or a checkpoint path")
    ap.add_argument("--concepts", default=",".join(CONCEPTS), help="concept ids asked of each note")
    ap.add_argument("--baseline-max", type=int, help="largest note the old assertion step runs on")
    ap.add_argument("--spans", type=int, default=200, help="spans per note for the assertion-step comparison")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if args.sizes:
        sizes = [int(s) for s in args.sizes.split(",")]
    elif args.quick:
        sizes = [2_000, 8_000, 32_000, 128_000]
    else:
        sizes = [2_000, 20_000, 200_000, 2_000_000]
    baseline_max = args.baseline_max or (128_000 if args.quick else 200_000)
    concepts = tuple(c for c in args.concepts.split(",") if c)

    with tempfile.TemporaryDirectory(prefix="kgqa-long-notes-") as tmp:
        work = Path(tmp)
        pipeline, run = build_pipeline(args.model, concepts, work)
        time_stages(pipeline, run, note_text(2_000), work, "warm-up")  # first-call costs out of the figures
        rows, spans = [], []
        for size in sizes:
            text = note_text(size)
            row = time_stages(pipeline, run, text, work, str(size))
            row["seconds_per_mb"] = round(row["total"] / (row["bytes"] / 1e6), 2)
            rows.append(row)
            current = seconds_per_span(text, args.spans)
            old = None
            if size <= baseline_max:
                with old_assertion_step():
                    old = seconds_per_span(text, args.spans)
            spans.append({"bytes": row["bytes"], "current_ms": round(current * 1e3, 4),
                          "old_ms": round(old * 1e3, 4) if old is not None else None})
            print(f"{row['bytes']:>9} B  total {row['total']:8.2f} s  (read {row['read']:.3f}, qa {row['qa']:.2f}, "
                  f"values {row['values']:.3f}, rdf {row['rdf']:.3f})  {row['seconds_per_mb']:8.1f} s/MB  "
                  f"assertion per span: {spans[-1]['current_ms']} ms, old {spans[-1]['old_ms']} ms", flush=True)

    both = [s for s in spans if s["old_ms"] is not None]
    summary = {
        "benchmark": "long_notes",
        "date": dt.date.today().isoformat(),
        "quick": args.quick,
        "model": args.model,
        "concepts": list(concepts),
        "notes": rows,
        "growth": {key: growth(rows, key) for key in ("read", "qa", "values", "rdf", "total")},
        "assertion_ms_per_span": spans,
        "assertion_growth": {
            "current": growth([{"bytes": s["bytes"], "t": s["current_ms"]} for s in spans], "t"),
            "old": growth([{"bytes": s["bytes"], "t": s["old_ms"]} for s in both], "t"),
        },
        "baseline": "assertion step before issue 24 (scan + text[pos:] per sentence break, no window cap)",
        "ratio_bytes": both[-1]["bytes"] if both else None,
        "ratio": round(both[-1]["old_ms"] / both[-1]["current_ms"], 1) if both and both[-1]["current_ms"] else None,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
