"""scripts/package_demo_model.py: copies only what the reader loads and writes an honest model card."""

import importlib.util
import json

import pytest

from kgqa import PROJECT_ROOT


@pytest.fixture(scope="module")
def packager():
    spec = importlib.util.spec_from_file_location(
        "package_demo_model", PROJECT_ROOT / "scripts" / "package_demo_model.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _scores(support, predicted, f1):
    block = {"precision": f1, "recall": f1, "f1": f1}
    return {
        "support": support,
        "predicted": predicted,
        "span_exact": block,
        "span_overlap": block,
        "value": block,
        "null_accuracy": 0.5,
    }


def test_package_copies_reader_files_and_writes_card(packager, tiny_checkpoint, tmp_path):
    source = tmp_path / "run-model"
    source.mkdir()
    for f in (f for f in tiny_checkpoint.iterdir() if f.is_file()):  # qa tests may have added an onnx/ cache
        (source / f.name).write_bytes(f.read_bytes())
    (source / "optimizer.pt").write_bytes(b"x" * 10)  # training state must not be shipped
    (source / "README.md").write_text(
        "---\nlanguage:\n- mul\n---\n# kgqa extractive QA model (x)\n\nTrained with kgqa.\n"
    )
    report = {
        "notes": 14,
        "overall": _scores(40, 38, 0.625),
        "by_lang": {"en": _scores(20, 19, 0.75), "es": _scores(20, 19, 0.5)},
        "by_group": {"admission": _scores(40, 38, 0.625)},
        "calibration": {"ece": 0.125},
    }
    report_path = tmp_path / "report.json"
    report_path.write_text(json.dumps(report))
    (source / "kgqa_calibration.json").write_text(
        json.dumps({"version": 1, "temperature": 2.0, "bias": -1.0, "default_null_threshold": 3.0})
    )
    squad = {
        "data": [
            {
                "paragraphs": [
                    {
                        "context": "NIHSS 4.",
                        "qas": [
                            {
                                "id": "n1::nihss_score",
                                "question": "NIHSS?",
                                "answers": [{"text": "4", "answer_start": 6}],
                            },
                            {"id": "n1::gcs_score", "question": "GCS?", "answers": []},
                        ],
                    }
                ]
            }
        ]
    }
    squad_path = tmp_path / "train.squad.json"
    squad_path.write_text(json.dumps(squad))
    target = packager.package(source, report_path, tmp_path / "models" / "demo", trained_on=squad_path)

    shipped = {p.name for p in target.iterdir()}
    assert "optimizer.pt" not in shipped
    assert {"config.json", "model.safetensors", "README.md"} <= shipped
    card = (target / "README.md").read_text()
    assert "not a clinical model" in card and "held-out" in card
    assert "| es | 20 | 19 | 0.500 | 0.500 | 0.500 |" in card
    assert "| **all** | 40 | 38 | 0.625 |" in card
    assert "ece" not in card and "0.125" in card
    assert "Trained with kgqa." in card and "language:\n- mul" not in card

    # concepts never asked answerably in training are made unanswerable; the trained one keeps the default
    from kgqa.qa.calibration import load_calibration, resolve_null_threshold

    cal = load_calibration(target / "kgqa_calibration.json")
    assert "nihss_score" not in cal.null_thresholds
    assert cal.null_thresholds["gcs_score"] == packager.NEVER_ANSWER
    assert (
        resolve_null_threshold("nihss_score", None, config_thresholds={}, config_default=0.0, calibration=cal)
        == 3.0
    )
    assert "1 catalogue concepts (nihss_score)" in card

    from kgqa.qa import Reader
    from kgqa.qa.config import ModelConfig, ReaderConfig

    reader = Reader.from_config(ModelConfig(path=str(target)), ReaderConfig(device="cpu"))
    assert reader.model_info is not None

    # a calibration refitted by `kgqa train calibrate` replaces the run's own, and the card says so
    refit = tmp_path / "recal"
    refit.mkdir()
    (refit / "kgqa_calibration.json").write_text(
        json.dumps({"version": 1, "temperature": 1.5, "bias": 0.0, "default_null_threshold": 2.0})
    )
    (refit / "calibration_report.json").write_text(json.dumps({"fitted": "fitted on 2 evaluation questions"}))
    target = packager.package(
        source, report_path, tmp_path / "models" / "demo", trained_on=squad_path, calibration=refit / "kgqa_calibration.json"
    )
    cal = load_calibration(target / "kgqa_calibration.json")
    assert (cal.temperature, cal.default_null_threshold) == (1.5, 2.0)
    assert cal.null_thresholds["gcs_score"] == packager.NEVER_ANSWER  # still abstains outside training
    card = (target / "README.md").read_text()
    assert "refitted after training with `kgqa train calibrate` (fitted on 2 evaluation questions)" in card
    assert (source / "kgqa_calibration.json").read_text().count('"temperature": 2.0') == 1  # source untouched


def test_package_refuses_a_directory_without_a_model(packager, tmp_path):
    report = tmp_path / "r.json"
    report.write_text("{}")
    with pytest.raises(SystemExit, match="no config.json"):
        packager.package(tmp_path, report, tmp_path / "out")
