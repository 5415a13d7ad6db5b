"""`kgqa-train` (training.cli.main): a run per directory, refusal to overwrite, multirun sweeps with a summary."""

import csv
import json

import yaml

from training.cli import main
from training.sweep import RunRow, render_markdown, sort_rows


def test_single_run_then_refusal_to_overwrite(tmp_path, capsys):
    run = tmp_path / "run"
    args = ["qa", "experiment=tiny_qa", "trainer.max_steps=6", f"hydra.run.dir={run}"]
    assert main(args) == 0
    assert f"model saved in {run / 'model'}" in capsys.readouterr().out
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["global_step"] == 6 and metrics["run_name"] == "tiny_qa"
    # Hydra wrote the resolved config next to the run
    assert yaml.safe_load((run / ".hydra" / "config.yaml").read_text())["trainer"]["max_steps"] == 6
    assert main(args) == 1  # finished run: a clear error, nothing overwritten
    assert json.loads((run / "metrics.json").read_text()) == metrics


def test_multirun_sweep_writes_one_dir_per_run_and_a_summary(tmp_path):
    sweep = tmp_path / "sweep"
    code = main(
        [
            "qa",
            "experiment=tiny_qa",
            "trainer.max_steps=4",
            f"hydra.sweep.dir={sweep}",
            "-m",
            "trainer.learning_rate=1e-3,3e-3",
        ]
    )
    assert code == 0
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == ["0", "1"]
    for job in ("0", "1"):
        assert (sweep / job / "model" / "config.json").is_file()
    rows = list(csv.DictReader((sweep / "summary.csv").open()))
    lrs = sorted(
        float(o.split("=")[1])
        for r in rows
        for o in r["overrides"].split()
        if o.startswith("trainer.learning_rate=")
    )
    assert lrs == [1e-3, 3e-3]
    assert all(r["finished"] == "True" and r["steps"] == "4" for r in rows)
    f1s = [float(r["f1"]) for r in rows]
    assert f1s == sorted(f1s, reverse=True)  # best first
    assert "| run | overrides |" in (sweep / "summary.md").read_text()
    # the summary command rebuilds it for any directory of runs
    (sweep / "summary.md").unlink()
    assert main(["summary", str(sweep)]) == 0 and (sweep / "summary.md").is_file()


def test_summary_orders_qa_by_f1_and_mlm_by_loss():
    qa = [
        RunRow("a", "qa", "x=1", 5, 1.0, {"f1": 10.0}),
        RunRow("b", "qa", "x=2", 5, 1.0, {"f1": 30.0}),
        RunRow("c", "qa", "x=3", 0, None, {}, finished=False),
    ]
    assert [r.run_dir for r in sort_rows(qa)] == ["b", "a", "c"]
    mlm = [
        RunRow("a", "mlm", "", 5, 2.0, {"eval_loss": 3.0}),
        RunRow("b", "mlm", "", 5, 2.0, {"eval_loss": 2.0}),
    ]
    assert [r.run_dir for r in sort_rows(mlm)] == ["b", "a"]
    assert "eval_loss" in render_markdown(mlm) and "unfinished" in render_markdown(qa)


def test_usage_and_unknown_commands(capsys):
    assert main([]) == 2
    assert main(["--help"]) == 0
    assert "kgqa train {mlm,qa,distill,calibrate}" in capsys.readouterr().out
    assert main(["pretrain"]) == 2
    assert main(["summary", "/nonexistent/dir"]) == 2


def test_missing_checkpoint_is_a_clear_error_before_any_work(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["qa", "experiment=xlmr_base_qa", f"hydra.run.dir={run}"]) == 1
    out = capsys.readouterr()
    # Hydra's log handlers write to the console and to the run's log file
    assert "missing required value(s): model.checkpoint" in out.out + out.err
    assert "missing required value(s): model.checkpoint" in (run / "train_qa.log").read_text()
    assert not (run / "tokenizer").exists() and not (run / "checkpoints").exists()


def test_calibrate_refits_a_trained_checkpoint_as_its_training_did(tmp_path, capsys):
    """`kgqa train calibrate` runs the evaluation QA training ends with on the checkpoint as it is: with the
    same data and rules its fit is the training run's own, written into the run directory only."""
    run = tmp_path / "run"
    assert main(["qa", "experiment=tiny_qa", "trainer.max_steps=6", f"hydra.run.dir={run}"]) == 0
    model = run / "model"
    shipped = json.loads((model / "kgqa_calibration.json").read_text())
    before = {p.name: p.read_bytes() for p in model.iterdir() if p.is_file()}

    out = tmp_path / "recal"
    assert main(["calibrate", "experiment=tiny_qa", f"model.checkpoint={model}", f"output_dir={out}"]) == 0
    refit = json.loads((out / "kgqa_calibration.json").read_text())
    report = json.loads((out / "calibration_report.json").read_text())
    assert report["checkpoint"] == str(model) and report["questions"] > 0
    assert report["fitted"].startswith("fitted on") or "not fitted" in report["fitted"]
    assert refit["n_examples"] == shipped["n_examples"]
    for key in ("temperature", "bias"):
        assert abs(refit[key] - shipped[key]) < 1e-3 * max(1.0, abs(shipped[key]))
    assert {p.name: p.read_bytes() for p in model.iterdir() if p.is_file()} == before  # checkpoint untouched

    # a checkpoint that is not there, or no dev data to fit on: clear errors naming the key
    capsys.readouterr()
    assert main(["calibrate", "experiment=tiny_qa", f"model.checkpoint={tmp_path / 'nope'}", f"output_dir={tmp_path / 'x'}"]) == 1
    assert "model.checkpoint=" in "".join(capsys.readouterr()) and not (tmp_path / "x" / "kgqa_calibration.json").exists()
    import dataclasses

    import pytest

    from kgqa.errors import ConfigError
    from training.config import QaRunConfig
    from training.recalibrate import recalibrate

    cfg = QaRunConfig()
    cfg = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, checkpoint=str(model)))
    with pytest.raises(ConfigError, match="data.eval is empty"):
        recalibrate(cfg, tmp_path / "y")
