"""Package a trained demo reader into ``models/kgqa-demo-xlmr-small`` with its model card.

    python scripts/package_demo_model.py outputs/demo/small_qa_abstain/model \
        --eval-report outputs/eval/demo/report.json --trained-on .cache/demo/train/train.squad.json

Copies only what the reader loads (weights, config, tokenizer, calibration, training info) — no
optimizer state — and writes the card: what the model is and is not, the end-to-end ``kgqa eval``
scores on held-out-template notes per language and per concept group, then the card the training
run wrote (data, steps, SQuAD-style scores, resolved configuration).

With ``--trained-on`` (the training SQuAD file of kgqa synthetic notes, whose question ids are
``<note>::<concept>``), every catalogue concept the model never saw an answerable question for gets
a null threshold it cannot reach in the shipped calibration: the model abstains on questions it was
never taught instead of answering them with confident noise.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TARGET = ROOT / "models" / "kgqa-demo-xlmr-small"
#: what the reader needs; anything else in a run's model directory stays behind
FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "kgqa_calibration.json",
    "training_info.json",
)
SIZE_LIMIT = 30 * 1024 * 1024
#: null threshold of a concept the model was never trained on: no margin (a logit difference) reaches it
NEVER_ANSWER = 1.0e6

PREAMBLE = """\
# kgqa-demo-xlmr-small — a demo reader, **not a clinical model**

A small extractive-QA model with the XLM-RoBERTa architecture ({params:.1f}M parameters, {size_mb:.1f} MB), trained
from scratch by kgqa's own pipeline: masked-LM pre-training on kgqa's **synthetic** stroke discharge reports
(train template split) and licence-clean medical text, then extractive QA on the synthetic reports in bg, cs, el,
en, es, pl and ro (`kgqa synth`, train template split), with real Spanish SQuAD questions and real clinical case
reports about other diseases (asked its stroke questions, answer: none) mixed into the last stage (recipe:
`experiment=demo_small_mlm`, `demo_small_qa`, `demo_small_qa_abstain_mixed_oos`, see docs/demo-model.md).
It exists so that a first `kgqa run` on a machine without model downloads gives real answers instead of random
spans. It learned the synthetic notes' phrasings, not clinical language: it is
**not a clinical model** and must never be used for patient care. For real use, train the same pipeline on a
real XLM-R checkpoint (`experiment=xlmr_base_qa`).

Text read in pre-training besides kgqa's own synthetic notes, with attribution: CodiEsp background clinical
cases, Spanish and machine-translated English (Miranda-Escalada et al., BSC / Plan TL, Zenodo 3837305,
CC BY 4.0); labels and synonyms of the Human Disease Ontology (DiseaseOntology/HumanDiseaseOntology, CC0 1.0).
QA data besides kgqa's synthetic notes: SQuAD-es small v1.1 (Carrino, Costa-jussà and Fonollosa, "Automatic
Spanish Translation of the SQuAD Dataset for Multilingual Question Answering", LREC 2020; ccasimiro88/
TranslateAlignRetrieve; CC BY 4.0), in the last 400 steps only; CodiEsp training-split clinical cases, Spanish and
machine-translated English (as above, CC BY 4.0), as unanswerable contexts for 14 stroke-specific questions in the
last 400 steps (cases mentioning stroke words left out). Measured on 60 CodiEsp *dev* cases about other diseases
(30 es, 30 en; `scripts/out_of_scope_answers.py`): it answers 1.9 % (es) and 1.4 % (en) of those 14 questions,
where the same model without them answered 19.3 % and 23.3 % (thrombolysis on every case).

Ask it with `reader.question_lang=note` (the default: the catalogue's question in the note's language) and
128-token windows (`model=demo` sets them); it never saw questions in another language than the note's.

## End-to-end scores on held-out-template notes (`kgqa eval`)

Notes generated from the **held-out** template split (phrasings never used in training; {notes} notes,
{support} gold facts). Value F1 = the normalised value of the extracted fact matches the gold value.

{lang_table}

By concept group:

{group_table}

Null-decision accuracy {null_acc}; expected calibration error of the confidences {ece}.
{recalibrated}{abstain}"""


def _fmt(x) -> str:
    return "–" if x is None else f"{x:.3f}"


def score_table(rows: Mapping[str, Mapping], first: str) -> str:
    lines = [
        f"| {first} | gold facts | predicted | span F1 (exact) | span F1 (overlap) | value F1 |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        lines.append(
            f"| {name} | {r['support']} | {r['predicted']} | {_fmt(r['span_exact']['f1'])} | "
            f"{_fmt(r['span_overlap']['f1'])} | {_fmt(r['value']['f1'])} |"
        )
    return "\n".join(lines)


def render_card(
    report: Mapping,
    training_card: str,
    params: float,
    size_mb: float,
    trained: Sequence[str] = (),
    recalibrated: str = "",
) -> str:
    by_lang = {**report["by_lang"], "**all**": report["overall"]}
    abstain = (
        f"\nThe model was trained on questions about {len(trained)} catalogue concepts "
        f"({', '.join(trained)}); its calibration makes it abstain on every other concept.\n"
        if trained
        else ""
    )
    return (
        PREAMBLE.format(
            abstain=abstain,
            params=params,
            size_mb=size_mb,
            notes=report["notes"],
            support=report["overall"]["support"],
            lang_table=score_table(by_lang, "language"),
            group_table=score_table(report["by_group"], "group"),
            null_acc=_fmt(report["overall"].get("null_accuracy")),
            ece=_fmt(report.get("calibration", {}).get("ece")),
            recalibrated=(
                f"\nThe calibration (`kgqa_calibration.json`) was refitted after training with `kgqa train calibrate` "
                f"({recalibrated}): the weights are the training run's, the thresholds describe the reader's current "
                "decoding rules; the training run's card below still gives the figures of its own fit.\n"
                if recalibrated
                else ""
            ),
        )
        + "\n## Training run\n\n"
        + _strip_front_matter(training_card).split("\n", 1)[1].lstrip()
    )


def _strip_front_matter(card: str) -> str:
    if card.startswith("---\n"):
        end = card.index("\n---\n", 4)
        return card[end + 5 :].lstrip()
    return card


def trained_concepts(squad_path: Path) -> list[str]:
    """Concept ids with at least one answerable question in a kgqa synthetic SQuAD file."""
    from kgqa.synth.squad import concept_of  # lazy like the script's other kgqa imports

    data = json.loads(squad_path.read_text(encoding="utf-8"))
    found = set()
    for article in data["data"]:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                concept = concept_of(qa["id"])
                if qa.get("answers") and concept:
                    found.add(concept)
    if not found:
        raise SystemExit(f"{squad_path}: no answerable question with a '<note>::<concept>' id")
    return sorted(found)


def abstain_outside(calibration_path: Path, trained: Sequence[str]) -> None:
    """Give every catalogue concept outside ``trained`` an unreachable null threshold."""
    from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue
    from kgqa.qa.calibration import load_calibration

    catalogue = load_catalogue(DEFAULT_CATALOGUE)
    cal = load_calibration(calibration_path)
    thresholds = dict(cal.null_thresholds)
    for concept in catalogue:
        if concept.id not in trained:
            thresholds[concept.id] = NEVER_ANSWER
    replace(cal, null_thresholds=thresholds).save(calibration_path)


def package(
    source: Path,
    report_path: Path,
    target: Path,
    trained_on: Path | None = None,
    calibration: Path | None = None,
) -> Path:
    if not (source / "config.json").is_file():
        raise SystemExit(f"{source}: not a model directory (no config.json)")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in FILES:
        if (source / name).is_file():
            shutil.copy2(source / name, target / name)
    from safetensors import safe_open

    with safe_open(str(target / "model.safetensors"), "pt") as f:
        # safe_open handles are not iterable: keys() is needed
        params = sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys()) / 1e6  # noqa: SIM118
    recalibrated = ""
    if calibration is not None:  # a refit by `kgqa train calibrate` replaces the training run's own
        shutil.copy2(calibration, target / "kgqa_calibration.json")
        report_file = calibration.parent / "calibration_report.json"
        if report_file.is_file():
            recalibrated = json.loads(report_file.read_text(encoding="utf-8")).get("fitted", "")
        recalibrated = recalibrated or f"from {calibration.name}"
    trained = trained_concepts(trained_on) if trained_on else []
    if trained:
        abstain_outside(target / "kgqa_calibration.json", trained)
    size = sum(p.stat().st_size for p in target.iterdir())
    card = render_card(
        report, (source / "README.md").read_text(encoding="utf-8"), params, size / 2**20, trained, recalibrated
    )
    (target / "README.md").write_text(card, encoding="utf-8")
    size = sum(p.stat().st_size for p in target.iterdir())
    if size > SIZE_LIMIT:
        raise SystemExit(
            f"{target}: {size / 2**20:.1f} MB is over the 30 MB limit for a committed checkpoint"
        )
    return target


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("source", type=Path, help="the training run's model directory")
    p.add_argument("--eval-report", type=Path, required=True, help="report.json written by `kgqa eval`")
    p.add_argument("--target", type=Path, default=DEFAULT_TARGET)
    p.add_argument(
        "--trained-on",
        type=Path,
        default=None,
        help="training SQuAD file: abstain on concepts it never asked",
    )
    p.add_argument(
        "--calibration",
        type=Path,
        default=None,
        help="kgqa_calibration.json refitted by `kgqa train calibrate` (instead of the training run's)",
    )
    args = p.parse_args(argv)
    out = package(args.source, args.eval_report, args.target, args.trained_on, args.calibration)
    print(json.dumps({"target": str(out), "bytes": sum(f.stat().st_size for f in out.iterdir())}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
