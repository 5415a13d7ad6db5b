"""Calibration: Platt scaling of margins, SQuAD-2-style null thresholds, the JSON a checkpoint carries."""

import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kgqa.errors import ConfigError
from kgqa.qa.calibration import (
    Calibration,
    CalibrationExample,
    best_null_threshold,
    fit_calibration,
    load_calibration,
    resolve_null_threshold,
    shrink_thresholds,
)


def test_fit_recovers_a_known_temperature_and_bias() -> None:
    rng = np.random.default_rng(0)
    margins = rng.normal(0, 4, size=4000)
    true_t, true_b = 2.5, -1.0
    p = 1 / (1 + np.exp(-(margins / true_t + true_b)))
    correct = rng.random(4000) < p
    cal = fit_calibration(
        CalibrationExample("c", float(m), bool(y), has_answer=True) for m, y in zip(margins, correct)
    )
    assert cal.temperature == pytest.approx(true_t, rel=0.15)
    # the fit is of the margin over the concept's threshold: the bias absorbs the shift
    threshold = cal.threshold_of("c")
    assert cal.bias == pytest.approx(true_b + threshold / true_t, abs=0.2)
    for m in (-6.0, 0.0, 4.0):
        assert cal.confidence(m, "c") == pytest.approx(1 / (1 + math.exp(-(m / true_t + true_b))), abs=0.04)
    assert cal.n_examples == 4000


def test_confidence_is_comparable_across_concepts_with_different_margin_scales() -> None:
    """An enumeration decoded over member-naming spans only has margins far below zero and is always
    right; a score concept is right above margin 2. Over each concept's own threshold, a right answer
    of either is confident; on the raw margin the enumeration's would all read as near zero."""
    rng = np.random.default_rng(1)
    sex = [CalibrationExample("sex", float(m), True, True) for m in rng.normal(-20, 3, 60)]
    sex += [CalibrationExample("sex", -math.inf, False, False) for _ in range(20)]
    age_margins = rng.normal(2, 4, 80)
    age = [CalibrationExample("age", float(m), bool(m > 2), True) for m in age_margins]
    cal = fit_calibration(sex + age)
    assert cal.relative_to_threshold
    assert cal.threshold_of("sex") < -20 < 0 < cal.threshold_of("age") < 4
    assert min(cal.confidence(e.margin, "sex") for e in sex if math.isfinite(e.margin)) > 0.5
    assert cal.confidence(8.0, "age") > 0.9
    assert cal.confidence(-4.0, "age") < 0.1
    # the same numbers read as a raw-margin calibration (files without the key) would not
    raw = Calibration(cal.temperature, cal.bias, cal.null_thresholds, cal.default_null_threshold)
    assert raw.confidence(-20.0, "sex") < 0.01 < cal.confidence(-20.0, "sex")


def test_confidence_is_monotone_and_in_unit_interval() -> None:
    cal = Calibration(temperature=0.5, bias=0.3)
    values = [cal.confidence(m) for m in (-1e6, -3.0, 0.0, 3.0, 1e6)]
    assert values == sorted(values)
    assert all(0.0 <= v <= 1.0 for v in values)
    assert cal.confidence(0.0) == pytest.approx(1 / (1 + math.exp(-0.3)))


@pytest.mark.parametrize(
    "examples,lo,hi",
    [
        # correct answers have margins >= 2, wrong ones and unanswerables <= 0: the cut lies between
        ([(3, True, True), (2, True, True), (0, False, False), (-1, False, False), (-2, False, True)], 0, 2),
        # every span is wrong and the gold says "no answer": abstain from everything
        ([(5, False, False), (4, False, False)], 5, math.inf),
        # every span is right: answer everything
        ([(-3, True, True), (-1, True, True)], -math.inf, -3),
    ],
)
def test_best_null_threshold(examples, lo, hi) -> None:
    t = best_null_threshold([CalibrationExample("c", m, c, h) for m, c, h in examples])
    assert lo <= t < hi


def test_answering_everything_leaves_room_below_the_lowest_margin() -> None:
    """Every dev answer right: unseen answers a little below the lowest dev margin are still answered."""
    margins = [-22.0, -18.0, -15.0, -10.0, -5.0, 3.0]
    examples = [CalibrationExample("sex", m, True, True) for m in margins]
    examples += [CalibrationExample("sex", -math.inf, False, False) for _ in range(3)]  # no member named
    t = best_null_threshold(examples)
    assert t == pytest.approx(-22.0 - float(np.std(margins)))
    assert t < -23.0


def test_per_concept_thresholds_need_enough_examples() -> None:
    many = [CalibrationExample("a", float(m), m > 1, True) for m in range(-5, 6)]
    few = [CalibrationExample("b", 1.0, True, True)]
    cal = fit_calibration(many + few, min_examples_per_concept=5)
    assert set(cal.null_thresholds) == {"a"}
    assert 0 < cal.null_thresholds["a"] < 2
    assert cal.default_null_threshold is not None


def test_json_round_trip(tmp_path) -> None:
    cal = Calibration(
        temperature=1.7, bias=-0.4, null_thresholds={"x": 1.2}, default_null_threshold=0.3, n_examples=9,
        relative_to_threshold=True,
    )
    path = cal.save(tmp_path)
    assert path.name == "kgqa_calibration.json"
    assert load_calibration(path) == cal
    # files written before the key existed keep their raw-margin meaning
    data = json.loads(path.read_text())
    del data["relative_to_threshold"]
    path.write_text(json.dumps(data))
    assert load_calibration(path).relative_to_threshold is False


@pytest.mark.parametrize(
    "content", ["{not json", json.dumps({"version": 99}), json.dumps({"version": 1, "temperature": -1})]
)
def test_bad_calibration_file_names_the_key(tmp_path, content) -> None:
    path = tmp_path / "cal.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match="calibration"):
        load_calibration(path)


@pytest.mark.parametrize(
    "config_thresholds,calibrated,concept_threshold,calibrated_default,expected",
    [
        ({"c": 1.0}, {"c": 2.0}, 3.0, 4.0, 1.0),  # the user's explicit word first
        ({}, {"c": 2.0}, 3.0, 4.0, 2.0),  # then the checkpoint's fitted threshold
        ({}, {}, 3.0, 4.0, 3.0),  # then the catalogue's
        ({}, {}, None, 4.0, 4.0),  # then the calibration's default
        ({}, {}, None, None, 5.0),  # then reader.null_threshold
        ({"other": 1.0}, {"other": 2.0}, None, None, 5.0),
    ],
)
def test_threshold_resolution_order(
    config_thresholds, calibrated, concept_threshold, calibrated_default, expected
):
    cal = Calibration(null_thresholds=calibrated, default_null_threshold=calibrated_default)
    got = resolve_null_threshold(
        "c", concept_threshold, config_thresholds=config_thresholds, config_default=5.0, calibration=cal
    )
    assert got == expected


@given(
    st.lists(
        st.tuples(st.sampled_from([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0, -math.inf]), st.booleans(), st.booleans()),
        min_size=1,
        max_size=30,
    )
)
def test_threshold_sweep_matches_brute_force(rows) -> None:
    examples = [CalibrationExample("c", m, correct and has, has) for m, correct, has in rows]

    def score(t: float) -> tuple[int, int]:
        right = sum((e.correct if e.margin > t else not e.has_answer) for e in examples)
        wrong = sum(e.margin > t and not e.correct for e in examples)
        return right, -wrong

    finite = sorted({e.margin for e in examples if math.isfinite(e.margin)})
    cuts = [f - 1.0 for f in finite[:1]] + [(x + y) / 2 for x, y in itertools.pairwise(finite)] + finite[-1:]
    best = max((score(c) for c in cuts), default=None)
    t = best_null_threshold(examples)
    if best is not None:
        assert score(t) == best


def test_thresholds_shrink_toward_the_default_by_how_few_positives_they_were_fitted_on(tmp_path) -> None:
    cal = Calibration(temperature=2.0, bias=0.1, null_thresholds={"few": 8.0, "many": 8.0, "none": 8.0, "low": -3.0},
                      default_null_threshold=-2.0, relative_to_threshold=True)
    out = shrink_thresholds(cal, {"few": 5, "many": 95, "low": 10}, prior=5)
    assert out.null_thresholds["few"] == pytest.approx((5 * 8 + 5 * -2) / 10)  # halfway: n == prior
    assert out.null_thresholds["many"] == pytest.approx((95 * 8 + 5 * -2) / 100)  # nearly its own
    assert out.null_thresholds["none"] == pytest.approx(-2.0)  # no positive: the default
    assert out.null_thresholds["low"] == pytest.approx((10 * -3 + 5 * -2) / 15)  # pulled up as well as down
    assert (out.temperature, out.bias, out.default_null_threshold) == (2.0, 0.1, -2.0)
    lowered = shrink_thresholds(cal, {"few": 5, "low": 10}, prior=5, lower_only=True)
    assert lowered.null_thresholds["low"] == -3.0 and lowered.null_thresholds["few"] == pytest.approx(3.0)
    assert shrink_thresholds(cal, {}, prior=0) == cal
    with pytest.raises(ValueError, match="prior"):
        shrink_thresholds(cal, {}, prior=-1)
    # the script counts a gold file's positives per concept and writes a loadable calibration
    import importlib.util
    from pathlib import Path

    path = cal.save(tmp_path / "cal.json")
    gold = tmp_path / "gold.jsonl"
    from kgqa.evaluation.gold import GoldAnnotation, GoldNote, write_gold_jsonl
    from kgqa.types import Note

    write_gold_jsonl([GoldNote(Note(id=str(i), text="LDL 3", lang="en"),
                               (GoldAnnotation("few", 4, 5, "3", 3), GoldAnnotation("few", 0, 3, "LDL", "LDL")))
                      for i in range(5)], gold)
    spec = importlib.util.spec_from_file_location("shrink", Path(__file__).parents[2] / "scripts" / "shrink_calibration.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main([str(path), str(gold), "--prior", "5", "--out", str(tmp_path / "out.json")]) == 0
    loaded = load_calibration(tmp_path / "out.json")
    assert loaded.null_thresholds["few"] == pytest.approx(3.0)  # 5 notes, each counted once
    assert loaded.null_thresholds["many"] == pytest.approx(-2.0)
    gold.write_text("not json\n")
    with pytest.raises(SystemExit, match="gold.jsonl:1"):
        script.main([str(path), str(gold), "--out", str(tmp_path / "x.json")])
