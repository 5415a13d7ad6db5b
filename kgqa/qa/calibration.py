"""Confidence calibration and null thresholds a checkpoint can carry (``kgqa_calibration.json``).

The reader's raw evidence for a span is its *margin*: ``score - null_score`` in logit units,
comparable across windows, questions and notes. Confidence is Platt scaling of the margin over the
concept's null threshold, ``sigmoid((margin - threshold) / temperature + bias)``, fitted on a dev set
by :func:`fit_calibration`, which first picks per-concept null thresholds the way SQuAD 2.0's
``find_best_thresh`` does (the threshold that maximises exact answers-or-abstentions on the dev set).

File format (JSON)::

    {"version": 1, "temperature": 1.7, "bias": -0.4,
     "null_thresholds": {"nihss_admission": 1.2, ...}, "default_null_threshold": 0.3,
     "n_examples": 812, "relative_to_threshold": true}

``relative_to_threshold`` (files written by :func:`fit_calibration`): confidence is
``sigmoid((margin - threshold of the concept) / temperature + bias)``; absent or false: of the raw margin.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from kgqa.errors import ConfigError

CALIBRATION_FILENAME = "kgqa_calibration.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Calibration:
    temperature: float = 1.0
    bias: float = 0.0
    null_thresholds: Mapping[str, float] = field(default_factory=dict)
    #: fitted over all concepts; used for concepts without enough dev examples of their own
    default_null_threshold: float | None = None
    n_examples: int = 0
    #: confidence is Platt scaling of the margin *over the concept's own threshold* (fitted files);
    #: False (files without the key): of the raw margin
    relative_to_threshold: bool = False

    def __post_init__(self) -> None:
        if not (self.temperature > 0 and math.isfinite(self.temperature)):
            raise ConfigError(f"calibration temperature must be a positive number, got {self.temperature!r}")

    def threshold_of(self, concept_id: str) -> float:
        """The null threshold this calibration fitted for a concept (its own, else the default, else 0)."""
        if concept_id in self.null_thresholds:
            return float(self.null_thresholds[concept_id])
        return 0.0 if self.default_null_threshold is None else float(self.default_null_threshold)

    def confidence(self, margin: float, concept_id: str | None = None) -> float:
        """Calibrated probability in [0, 1] that a span with this margin is a correct answer.

        With ``relative_to_threshold`` the evidence is the margin over the concept's fitted threshold:
        concepts differ in how large their margins run (an enumeration decoded over member-naming
        spans only has margins far below zero and is still always right), so a raw-margin scale
        would make their confidences incomparable.
        """
        if self.relative_to_threshold and concept_id is not None:
            margin -= self.threshold_of(concept_id)
        z = margin / self.temperature + self.bias
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        ez = math.exp(z)
        return ez / (1.0 + ez)

    def to_json(self) -> str:
        data = asdict(self)
        data["null_thresholds"] = dict(sorted(self.null_thresholds.items()))
        return json.dumps({"version": FORMAT_VERSION, **data}, indent=2, sort_keys=True)

    def save(self, path: str | Path) -> Path:
        """Write as JSON; a directory means ``<dir>/kgqa_calibration.json`` (next to the weights)."""
        path = Path(path)
        if path.is_dir():
            path = path / CALIBRATION_FILENAME
        path.write_text(self.to_json() + "\n", encoding="utf-8")
        return path


def load_calibration(path: str | Path) -> Calibration:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"reader.calibration_file: cannot read {path}: {exc}") from exc
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        raise ConfigError(
            f"reader.calibration_file: {path} is not a kgqa calibration (version {FORMAT_VERSION})"
        )
    try:
        return Calibration(
            temperature=float(data.get("temperature", 1.0)),
            bias=float(data.get("bias", 0.0)),
            null_thresholds={str(k): float(v) for k, v in dict(data.get("null_thresholds", {})).items()},
            default_null_threshold=(
                None if data.get("default_null_threshold") is None else float(data["default_null_threshold"])
            ),
            n_examples=int(data.get("n_examples", 0)),
            relative_to_threshold=bool(data.get("relative_to_threshold", False)),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"reader.calibration_file: {path}: {exc}") from exc


@dataclass(frozen=True)
class CalibrationExample:
    """One dev-set (question, context) pair as the reader decoded it.

    ``margin`` is the best span's ``score - null_score`` (``-inf`` when no span was possible);
    ``correct`` says whether that best span matches a gold answer; ``has_answer`` whether the gold
    has one at all (False: the right output is no answer).
    """

    concept_id: str
    margin: float
    correct: bool
    has_answer: bool


def _platt(margins: np.ndarray, labels: np.ndarray, iterations: int = 100) -> tuple[float, float]:
    """Logistic regression ``p = sigmoid(a * margin + b)`` by Newton's method (two parameters)."""
    # Newton from zero (IRLS) converges for logistic regression; larger starts can overshoot
    a, b = 0.0, 0.0
    # a little ridge keeps a separable dev set from sending the slope to infinity
    ridge = 1e-3
    for _ in range(iterations):
        z = np.clip(a * margins + b, -50, 50)
        p = 1.0 / (1.0 + np.exp(-z))
        w = p * (1 - p)
        grad = np.array([np.sum((p - labels) * margins) + ridge * a, np.sum(p - labels) + ridge * b])
        hess = np.array(
            [
                [np.sum(w * margins * margins) + ridge, np.sum(w * margins)],
                [np.sum(w * margins), np.sum(w) + ridge],
            ]
        )
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        a, b = a - step[0], b - step[1]
        if np.max(np.abs(step)) < 1e-9:
            break
    return float(a), float(b)


def best_null_threshold(examples: Sequence[CalibrationExample]) -> float:
    """Threshold maximising answered-correctly + abstained-correctly (SQuAD 2.0's ``find_best_thresh``).

    Ties go to the cut that emits fewer wrong answers: a wrong answer becomes a wrong fact. When
    answering everything is best, the cut lies a standard deviation of the margins below the lowest.
    One sweep over the examples sorted by margin (each cut moves one group from "answered" to
    "abstained"), so dev sets of any size are cheap.
    """
    finite = [e for e in examples if math.isfinite(e.margin)]
    if not finite:
        return 0.0
    finite.sort(key=lambda e: e.margin)
    # below every margin: all answered (examples with margin -inf always abstain)
    right = sum(e.correct if math.isfinite(e.margin) else not e.has_answer for e in examples)
    wrong = sum(math.isfinite(e.margin) and not e.correct for e in examples)
    # answering everything: no dev example argues for a cut close to the lowest margin, and unseen
    # answers' margins spread as the dev set's do, so the cut lies one standard deviation below it
    # (at least 1). "Lowest minus 1" turned away always-right answers of new notes a little lower.
    slack = max(1.0, float(np.std([e.margin for e in finite])))
    best_key, best_cut = (right, -wrong), finite[0].margin - slack
    i = 0
    while i < len(finite):
        margin = finite[i].margin
        while i < len(finite) and finite[i].margin == margin:  # a tie group moves together
            e = finite[i]
            right += (not e.has_answer) - e.correct
            wrong -= not e.correct
            i += 1
        cut = (margin + finite[i].margin) / 2 if i < len(finite) else margin
        if (right, -wrong) > best_key:
            best_key, best_cut = (right, -wrong), cut
    return float(best_cut)


def shrink_thresholds(calibration: Calibration, positives: Mapping[str, int], prior: float,
                      lower_only: bool = False) -> Calibration:
    """Each concept's own null threshold pulled toward the default by how few positives it was fitted on:
    ``(n * own + prior * default) / (n + prior)`` with ``n`` the concept's answerable dev examples.

    Why: :func:`best_null_threshold` on a concept with a handful of positives is set by one or two high-margin
    wrong answers (cholesterol's 8.4 on 7 dev notes turned away most right answers elsewhere); ``prior`` is how
    many positives a concept needs before its own threshold counts as much as the default. With
    ``lower_only`` only thresholds above the default move (a low one was set by right answers at low margins,
    not by a wrong one). Confidence scaling is unchanged; a concept without a threshold of its own keeps the
    default.
    """
    if prior < 0:
        raise ValueError(f"prior must be >= 0, got {prior}")
    if calibration.default_null_threshold is None or prior == 0:
        return calibration
    default = float(calibration.default_null_threshold)
    shrunk = {}
    for concept_id, own in calibration.null_thresholds.items():
        n = max(0, int(positives.get(concept_id, 0)))
        keep = lower_only and float(own) <= default
        shrunk[concept_id] = float(own) if keep else (n * float(own) + prior * default) / (n + prior)
    return replace(calibration, null_thresholds=shrunk)


def fit_calibration(
    examples: Iterable[CalibrationExample], *, min_examples_per_concept: int = 20
) -> Calibration:
    """Fit temperature/bias (Platt scaling of the margin) and null thresholds on dev-set examples.

    Concepts with fewer than ``min_examples_per_concept`` examples get no threshold of their own
    and fall back to ``default_null_threshold`` (fitted on all examples).
    """
    examples = list(examples)
    if not examples:
        raise ValueError("fit_calibration needs at least one example")
    by_concept: dict[str, list[CalibrationExample]] = {}
    for e in examples:
        by_concept.setdefault(e.concept_id, []).append(e)
    thresholds = {
        cid: best_null_threshold(exs)
        for cid, exs in by_concept.items()
        if len(exs) >= min_examples_per_concept
    }
    fitted = Calibration(
        null_thresholds=thresholds,
        default_null_threshold=best_null_threshold(examples),
        n_examples=len(examples),
        relative_to_threshold=True,
    )
    # Platt scaling of the margin over each concept's threshold (see Calibration.confidence)
    answered = [e for e in examples if math.isfinite(e.margin)]
    labels = np.array([float(e.correct) for e in answered])
    if answered and 0 < labels.sum() < len(labels):
        a, b = _platt(np.array([e.margin - fitted.threshold_of(e.concept_id) for e in answered]), labels)
        if a > 1e-6:  # a non-positive slope means the margin carries no signal: keep the identity
            return replace(fitted, temperature=1.0 / a, bias=b)
    return fitted


def resolve_null_threshold(
    concept_id: str,
    concept_threshold: float | None,
    *,
    config_thresholds: Mapping[str, float],
    config_default: float,
    calibration: Calibration,
) -> float:
    """The null threshold of one concept, most specific source first.

    ``reader.null_thresholds[concept]`` (the user's explicit word) > the checkpoint calibration's
    per-concept threshold (fitted for this very model) > the catalogue's ``Concept.null_threshold``
    > the calibration's default > ``reader.null_threshold``.
    """
    if concept_id in config_thresholds:
        return float(config_thresholds[concept_id])
    if concept_id in calibration.null_thresholds:
        return float(calibration.null_thresholds[concept_id])
    if concept_threshold is not None:
        return float(concept_threshold)
    if calibration.default_null_threshold is not None:
        return float(calibration.default_null_threshold)
    return float(config_default)
