"""``kgqa eval GOLD.jsonl [--out DIR] [--limit N] [--concepts gold|all] [hydra overrides…]``.

Runs the configured pipeline (reader → values → linker; no RDF, no store) over the notes of a
gold file (kgqa's gold format, see kgqa/evaluation/gold.py and docs/demo-model.md) and scores
the facts per concept, concept group and language: span P/R/F1 (exact and overlap), value
micro-F1 and accuracy after normalisation, linking accuracy, null-decision accuracy, and the
reliability of confidences. Writes ``report.json``, ``reliability.png`` and ``facts.jsonl``
into ``--out`` and prints the tables; the LAST line of output is one JSON object with the
overall and per-language micro-F1 of extracted values.

    kgqa eval .cache/synth/heldout.gold.jsonl --out outputs/eval/demo model.path=models/kgqa-demo-xlmr-small

``--run RUN_DIR`` scores the facts a finished ``kgqa run`` wrote (its ``facts.jsonl`` and
``notes.jsonl``; ``runner=local`` and ``runner=ray`` alike) instead of running the reader: the
run must have read the gold notes (same ids, same texts — offsets are compared)::

    kgqa run notes.path=.cache/synth/heldout.notes.jsonl runner=ray hydra.run.dir=outputs/heldout
    kgqa eval .cache/synth/heldout.gold.jsonl --run outputs/heldout
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)


def parse_args(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    p = argparse.ArgumentParser(prog="kgqa eval", description=__doc__.split("\n\n")[1],
                                epilog="Other arguments are Hydra overrides of the run config (conf/config.yaml).")
    p.add_argument("gold", type=Path, help="gold notes (JSONL, kgqa's gold format)")
    p.add_argument("--out", type=Path, default=None, help="report directory (default outputs/eval/<time>)")
    p.add_argument("--limit", type=int, default=0, help="evaluate only the first N notes (0 = all)")
    p.add_argument("--run", type=Path, default=None, metavar="RUN_DIR",
                   help="score the facts of this finished `kgqa run` (its facts.jsonl) instead of running the reader")
    p.add_argument("--concepts", choices=("gold", "all"), default="gold",
                   help="gold: the catalogue concepts annotated somewhere in the gold file, asked with the concepts "
                        "they are derived from (default); "
                        "all: every concept of the configured catalogue")
    args, rest = p.parse_known_args(list(argv))
    unknown = [a for a in rest if "=" not in a]
    if unknown:
        p.error(f"unrecognised arguments: {' '.join(unknown)} (Hydra overrides look like key=value)")
    return args, rest


def compose_run_config(overrides: Sequence[str]):
    from hydra import compose, initialize_config_dir

    from kgqa.config import CONF_DIR, HYDRA_VERSION_BASE, RunConfig, register_configs, to_object

    register_configs()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=HYDRA_VERSION_BASE):
        cfg = compose(config_name="config", overrides=list(overrides))
    return to_object(cfg, RunConfig)


class _NoGraph:
    """Evaluation needs facts only: building RDF per note would be wasted work."""

    def note_graph(self, note, facts, run):
        import rdflib

        return rdflib.Graph()


def extract(cfg, golds, concept_ids: Sequence[str]) -> tuple[dict[str, list], list, object]:
    """Run reader → values → linker over the gold notes; facts by note id, note errors, the pipeline."""
    from kgqa import __version__
    from kgqa.commands.run import build_pipeline
    from kgqa.types import RunInfo

    cfg.catalogue.concepts = list(concept_ids)
    cfg.catalogue.groups = []
    # no graph leaves evaluation, so no case IRI is minted: it needs no pseudonymisation key (a fresh machine has none)
    cfg.rdf.pseudonymise = False
    pipeline = build_pipeline(cfg)
    pipeline.builder = _NoGraph()
    run = RunInfo(run_id="eval", started_at=dt.datetime.now(dt.timezone.utc), kgqa_version=__version__,
                  model=pipeline.reader.model_info, config_digest="")
    facts: dict[str, list] = {}
    errors = []
    notes = [g.note for g in golds]
    size = max(1, cfg.runner.notes_per_batch)
    for i in range(0, len(notes), size):
        batch = pipeline.process(notes[i : i + size], run)
        errors.extend(batch.errors)
        for result in batch.results:
            facts[result.note.id] = list(result.facts)
        log.info("evaluated %d/%d notes", min(i + size, len(notes)), len(notes))
    return facts, errors, pipeline


def facts_of_run(run_dir: Path, golds, concept_ids: Sequence[str]) -> tuple[dict[str, list], list, dict]:
    """The facts a finished run wrote for the gold notes (by note id), its errors for them, and its model.

    The run's note texts must be the gold texts (sha256 in its notes.jsonl): spans are compared by offset.
    """
    from kgqa.errors import KgqaError
    from kgqa.records_io import read_facts_jsonl, read_notes_jsonl
    from kgqa.types import NoteError

    for name in ("facts.jsonl", "notes.jsonl"):
        if not (run_dir / name).is_file():
            raise KgqaError(f"{run_dir / name}: missing; is {run_dir} the output directory of `kgqa run`?")
    gold_sha = {g.note.id: g.note.sha256 for g in golds}
    run_sha = {n.id: n.sha256 for n in read_notes_jsonl(run_dir / "notes.jsonl")}
    changed = sorted(i for i in gold_sha if i in run_sha and run_sha[i] != gold_sha[i])
    if changed:
        raise KgqaError(f"{run_dir}: the run read other texts than the gold file for {len(changed)} note(s), "
                        f"e.g. {changed[0]!r}; offsets cannot be compared")
    missing = [i for i in gold_sha if i not in run_sha]
    if missing:
        log.warning("%d of %d gold notes are not in the run (scored as answering nothing)", len(missing), len(gold_sha))
    wanted = set(concept_ids)
    facts: dict[str, list] = {i: [] for i in gold_sha if i in run_sha}
    for fact in read_facts_jsonl(run_dir / "facts.jsonl"):
        if fact.note_id in facts and fact.concept_id in wanted:
            facts[fact.note_id].append(fact)
    errors = []
    if (run_dir / "errors.jsonl").is_file():
        for line in (run_dir / "errors.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip() and (e := NoteError(**json.loads(line))).note_id in gold_sha:
                errors.append(e)
    summary_path = run_dir / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.is_file() else {}
    return facts, errors, {"path": summary.get("model", ""), "run_dir": str(run_dir), "runner": summary.get("runner", "")}


def main(argv: Sequence[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    args, overrides = parse_args(argv)
    from kgqa.catalogue import load_catalogue
    from kgqa.errors import KgqaError
    from kgqa.evaluation.gold import read_gold_jsonl
    from kgqa.evaluation.reliability import calibration_summary, plot_reliability
    from kgqa.evaluation.report import render, summary_line
    from kgqa.evaluation.scoring import report_dict, score
    from kgqa.records_io import write_facts_jsonl
    from kgqa.values.derive import derivation_sources

    try:
        cfg = compose_run_config(overrides)
        golds = list(read_gold_jsonl(args.gold))
        if args.limit:
            golds = golds[: args.limit]
        if not golds:
            print(f"kgqa eval: no gold notes in {args.gold}", file=sys.stderr)
            return 2
        catalogue = load_catalogue(cfg.catalogue.path)
        if args.concepts == "gold":
            annotated = {a.concept_id for g in golds for a in g.annotations}
            missing = sorted(annotated - set(catalogue.ids))
            if missing:
                log.warning("gold concepts not in the catalogue (not scored): %s", ", ".join(missing))
            concept_ids = [cid for cid in catalogue.ids if cid in annotated]
        else:
            sel = catalogue.select(ids=tuple(cfg.catalogue.concepts), groups=tuple(cfg.catalogue.groups)) \
                if cfg.catalogue.concepts or cfg.catalogue.groups else catalogue
            concept_ids = list(sel.ids)
        concepts = [catalogue.get(cid) for cid in concept_ids]
        # what `kgqa run` would derive a scored concept from is asked too (a discharge drug list for the
        # prescription categories, two times for door-to-needle), and scored only through what it derives;
        # `--concepts all` asks the configured catalogue as `kgqa run` with the same overrides does, no more
        asked = concept_ids + derivation_sources(catalogue, concept_ids) if args.concepts == "gold" else concept_ids
        if args.run is not None:
            facts, errors, model = facts_of_run(args.run, golds, asked)
        else:
            facts, errors, pipeline = extract(cfg, golds, asked)
            model = {"path": pipeline.reader.model_info.path, "sha256": pipeline.reader.model_info.sha256}
    except KgqaError as exc:
        print(f"kgqa eval: {exc}", file=sys.stderr)
        return 1
    for e in errors:
        log.warning("note %s failed in stage %s: %s", e.note_id, e.stage, e.reason)

    scores = score(golds, facts, concepts)
    report = report_dict(scores)
    calibration = calibration_summary(scores.calibration, report["overall"]["support"])
    report["calibration"] = calibration
    report["calibration_by_lang"] = {
        lang: calibration_summary(pairs, report["by_lang"][lang]["support"])
        for lang, pairs in sorted(scores.calibration_by_lang.items())
    }
    report["model"] = model
    report["gold"] = str(args.gold)
    report["concepts"] = concept_ids
    report["asked"] = asked
    report["errors"] = [{"note": e.note_id, "stage": e.stage, "reason": e.reason} for e in errors]

    out = args.out or Path("outputs") / "eval" / dt.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    plot_reliability(calibration, out / "reliability.png", title=f"kgqa eval ({len(golds)} notes)")
    write_facts_jsonl((f for fs in facts.values() for f in fs), out / "facts.jsonl")

    print(render(report))
    print(f"\nreport: {out / 'report.json'}; reliability diagram: {out / 'reliability.png'}")
    print(json.dumps(summary_line(report), ensure_ascii=False))
    return 0
