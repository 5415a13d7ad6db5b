"""scripts/package_e5_reader.py: the e5 reader's card reports every measured figure and its sources."""

import importlib.util

import pytest

from kgqa import PROJECT_ROOT


def _script():
    spec = importlib.util.spec_from_file_location("package_e5_reader", PROJECT_ROOT / "scripts" / "package_e5_reader.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _scores(support, f1):
    block = {"precision": f1, "recall": f1, "f1": f1}
    return {"support": support, "predicted": support, "span_exact": block, "span_overlap": block, "value": block}


def test_card_has_dev_and_test_apart_squad_oos_and_attribution():
    script = _script()
    report = {
        "notes": 26, "overall": _scores(575, 0.71), "by_lang": {"en": _scores(80, 0.64), "bg": _scores(90, 0.77)},
        "calibration": {"ece": 0.08},
    }
    test = dict(report, notes=21, overall=_scores(446, 0.69))
    manifest = {
        "base": {"version": "0.3.0", "file_sha256": "ab" * 32},
        "tensors_in_delta": ["qa_outputs.weight", "bert.encoder.layer.11.output.dense.weight"],
    }
    card = script.render_card(
        manifest, "---\nx: 1\n---\n# kgqa extractive QA model (e5)\n\nTrained with kgqa.\n", 30.5, 3, 400,
        {"dev": report, "test": test}, {"xquad.en.json": {"n": 400, "EM": 40.0, "F1": 55.5}},
        {"es": {"false_answer_rate": 0.02}},
    )
    assert "**dev** (26 notes, 575 gold facts" in card and "**test** (21 notes, 446 gold facts" in card
    assert "| **all** | 575 |" in card and "| **all** | 446 |" in card
    assert "| xquad.en.json | 400 | 40.0 | 55.5 |" in card
    assert '"false_answer_rate": 0.02' in card
    assert "400 steps" in card and "lowest 3 layers" in card and "abababab" in card
    for attribution in ("CC BY 4.0", "Apache-2.0", "Zenodo 3837305", "MIT", "never use its output for patient care"):
        assert attribution in card
    assert card.rstrip().endswith("Trained with kgqa.")  # the training run's own card follows, front matter cut
    three_stages = script.render_card(
        manifest, "---\nx: 1\n---\n# t\n\nx\n", 30.5, 3, 1500, {}, {}, {},
        stages=[("e5_small_qa", 700), ("e5_small_qa_stage2", 1200), ("e5_small_qa_stage3", 1500)])
    assert "3400 steps" in three_stages and " in three stages, each continuing the one before: 700 of " \
        "`experiment=e5_small_qa`, then 1200 of `experiment=e5_small_qa_stage2`, then 1500 of " \
        "`experiment=e5_small_qa_stage3`" in three_stages  # fmt: skip
    one_stage = script.render_card(manifest, "---\nx: 1\n---\n# t\n\nx\n", 30.5, 3, 400, {}, {}, {},
                                   stages=[("e5_small_qa", 400)])  # fmt: skip
    assert "400 steps of 12 windows of ≤ 256 tokens — a fraction" in one_stage
    assert "model soup" not in one_stage
    souped = script.render_card(manifest, "---\nx: 1\n---\n# t\n\nx\n", 30.5, 3, 400, {}, {}, {},
                                recipe="Its weights are the mean of two stages (a model soup).")
    assert "training.\n\nIts weights are the mean of two stages (a model soup).\n\nAsk it with 256-token windows" in souped


def test_earlier_stages_are_read_from_their_runs(tmp_path):
    script = _script()
    (tmp_path / "kgqa_training.json").write_text('{"global_step": 700}')
    assert script._stage(f"e5_small_qa={tmp_path}") == ("e5_small_qa", 700)
    with pytest.raises(SystemExit, match="PRESET=MODEL_DIR"):
        script._stage(str(tmp_path))


def test_card_has_ece_and_a_coverage_accuracy_curve_per_language():
    script = _script()

    def cal(count, ece, acc):
        curve = [{"threshold": i / 10, "answered": count, "coverage": 1 - i / 20, "accuracy": acc + i / 100,
                  "recall": 0.5 - i / 50} for i in range(10)]
        return {"count": count, "ece": ece, "curve": curve}

    report = {
        "notes": 26, "overall": _scores(575, 0.71), "by_lang": {"en": _scores(80, 0.64), "bg": _scores(90, 0.77)},
        "calibration": cal(170, 0.05, 0.8), "calibration_by_lang": {"bg": cal(90, 0.04, 0.85), "en": cal(80, 0.07, 0.7)},
    }
    section = script.independent_section({"dev": report})
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    start = next(i for i, r in enumerate(rows) if r.startswith("| language | answers |"))
    header, rows = rows[start], rows[start + 1 :]  # the curve table, after the score table
    # thresholds 0.0, 0.2, 0.4, 0.6, 0.8
    assert header.count("t ≥") == 5 and "t ≥ 0.4" in header and "t ≥ 0.5" not in header
    bg = next(r for r in rows if r.startswith("| bg | 90 |"))
    # at t >= 0.4: coverage 0.8, accuracy 0.85 + 0.04, recall 0.5 - 0.08
    assert "| 0.040 |" in bg and "0.800, 0.890 / 0.420" in bg
    assert any(r.startswith("| **all** | 170 | 0.050 |") for r in rows)
