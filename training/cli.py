"""``kgqa train mlm|qa|distill|calibrate …`` / ``kgqa-train …``: thin Hydra wrappers around train_mlm / train_qa /
train_decomposed (training/distill.py) / recalibrate.

The Hydra app (config groups, overrides, ``-m`` sweeps, ``--cfg job``, one directory per run)
is here and nowhere else; the training functions receive typed schema objects. After a sweep a
summary table across its runs is written into the sweep directory by a Hydra callback
(``kgqa-train summary DIR`` builds it for any directory of runs).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from kgqa.errors import ConfigError, KgqaError

log = logging.getLogger("training")

USAGE = """usage: kgqa train {mlm,qa,distill,calibrate} [hydra overrides…] | kgqa train summary RUNS_DIR

  mlm        masked-LM domain adaptation        (conf/train_mlm.yaml)
  qa         SQuAD-style QA fine-tuning          (conf/train_qa.yaml)
  distill    fine-tune a QA checkpoint for decomposed reading, distilled from the joint reader
             (conf/train_qa_decomposed.yaml, presets in conf/decomposed/; reader.encoding=auto then reads it so)
  calibrate  refit model.checkpoint's calibration on data.eval, no training (conf/train_qa.yaml);
             writes kgqa_calibration.json into the run directory, for reader.calibration_file
  summary    table of the runs under RUNS_DIR (a multirun sweep directory)

examples:
  kgqa train qa experiment=tiny_qa
  kgqa train qa experiment=xlmr_base_qa model.checkpoint=/models/xlm-roberta-base
  kgqa train qa experiment=tiny_qa -m trainer.learning_rate=1e-3,3e-3
  kgqa train qa experiment=tiny_qa --cfg job        # print the composed config
  kgqa train qa hydra.run.dir=outputs/train/qa/run1 resume=true   # continue an interrupted run
  kgqa train distill decomposed=e5_small_qa [resume=true]
  kgqa train calibrate experiment=demo_small_qa_abstain model.checkpoint=models/kgqa-demo-xlmr-small
"""


def _offline() -> None:
    # nothing is ever fetched from a hub: checkpoints and tokenizers are local directories
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ.setdefault(var, "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _task(kind: str) -> Callable:
    from training.config import MlmRunConfig, QaRunConfig

    def run(cfg, run_dir: Path) -> float | None:
        from omegaconf import OmegaConf

        from kgqa.config import to_object

        # to_object would quietly fill a missing value (???) with the schema default: refuse instead
        missing = sorted(OmegaConf.missing_keys(cfg))
        if missing:
            raise ConfigError(
                f"missing required value(s): {', '.join(missing)} "
                "(e.g. model.checkpoint=/path/to/a/local/checkpoint)"
            )

        if kind == "calibrate":
            from training.recalibrate import recalibrate

            result = recalibrate(to_object(cfg, QaRunConfig), run_dir)
            return result.evaluation.metrics.get("all", {}).get("f1")
        if kind == "mlm":
            from training.mlm import train_mlm

            result = train_mlm(to_object(cfg, MlmRunConfig), run_dir)
            print(f"model saved in {result.model_dir}", flush=True)
            return result.eval_loss
        from training.qa import train_qa

        qa_result = train_qa(to_object(cfg, QaRunConfig), run_dir)
        print(f"model saved in {qa_result.model_dir}", flush=True)
        return qa_result.metrics.get("all", {}).get("f1")

    return run


def run_app(kind: str, overrides: list[str]) -> int:
    """Run the Hydra app for ``kind`` with command-line style ``overrides``; 0 when every run succeeded."""
    import hydra
    from hydra.core.hydra_config import HydraConfig

    from kgqa.config import CONF_DIR, HYDRA_VERSION_BASE
    from training.config import register_configs

    register_configs()
    task = _task(kind)
    failed = 0

    config_name = "train_qa" if kind == "calibrate" else f"train_{kind}"  # calibrate: a QA run's data and window

    @hydra.main(config_path=str(CONF_DIR), config_name=config_name, version_base=HYDRA_VERSION_BASE)
    def app(cfg) -> float | None:
        nonlocal failed
        run_dir = Path(cfg.output_dir) if cfg.output_dir else Path(HydraConfig.get().runtime.output_dir)
        try:
            return task(cfg, run_dir)
        except KgqaError as exc:
            # a clear one-line error, no traceback: the message names the key or file at fault
            log.error("%s run in %s failed: %s", kind, run_dir, exc)
            failed += 1
            return None

    # argparse stops taking overrides after a flag: `… experiment=x -m a=1,2` must work like `-m experiment=x a=1,2`
    flags = [a for a in overrides if a in ("-m", "--multirun")]
    rest = [a for a in overrides if a not in ("-m", "--multirun")]
    saved_argv = sys.argv
    sys.argv = [f"kgqa-train {kind}", *flags, *rest]
    try:
        app()
    except SystemExit as exc:  # Hydra exits on bad overrides and after --help/--cfg
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if code:
            return code
    finally:
        sys.argv = saved_argv
    # (the sweep summary is written by training.sweep.SweepSummaryCallback, configured in conf/train_*.yaml)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    _offline()
    if not argv or argv[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "summary":
        from training.sweep import write_summary

        if len(rest) != 1 or not Path(rest[0]).is_dir():
            sys.stderr.write("usage: kgqa train summary RUNS_DIR (an existing directory)\n")
            return 2
        logging.basicConfig(level=logging.INFO, format="%(message)s")
        return 0 if write_summary(rest[0]) else 1
    if cmd == "distill":
        from training.distill import main as distill_main

        return distill_main(rest)
    if cmd not in ("mlm", "qa", "calibrate"):
        sys.stderr.write(f"kgqa train: unknown command {cmd!r}\n{USAGE}")
        return 2
    return run_app(cmd, rest)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
