"""Sampling one synthetic stroke case: canonical, clinically coherent values per concept.

Values are canonical (ISO dates, 24 h times, member ids, English drug INNs); the language
modules only decide how they are written. Coherence matters because the reader must learn
to tell similar numbers apart (admission vs discharge NIHSS, systolic vs diastolic), so the
values are drawn so that those pairs usually differ.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

#: discharge drug -> the catalogue's boolean concept that a mention of it makes true
DRUG_CONCEPTS: dict[str, str] = {
    "aspirin": "discharge_asa",
    "clopidogrel": "discharge_clopidogrel",
    "atorvastatin": "discharge_statin",
    "rosuvastatin": "discharge_statin",
    "apixaban": "discharge_apixaban",
    "rivaroxaban": "discharge_rivaroxaban",
    "dabigatran": "discharge_dabigatran",
    "warfarin": "discharge_warfarin",
    "ramipril": "discharge_antihypertensives",
    "amlodipine": "discharge_antihypertensives",
}

RISK_FACTORS: dict[str, float] = {
    "risk_hypertension": 0.6,
    "risk_diabetes": 0.25,
    "risk_atrial_fibrillation": 0.2,
    "risk_hyperlipidemia": 0.35,
    "risk_smoker": 0.25,
}

ANTIPLATELETS = ("aspirin", "clopidogrel")
ANTICOAGULANTS = ("apixaban", "rivaroxaban", "dabigatran", "warfarin")
STATINS = ("atorvastatin", "rosuvastatin")
ANTIHYPERTENSIVES = ("ramipril", "amlodipine")


@dataclass
class Case:
    """Canonical values by concept id (a concept missing here is absent from the note)."""

    values: dict[str, Any] = field(default_factory=dict)
    #: ordered discharge drugs (a list concept)
    drugs: list[str] = field(default_factory=list)
    #: values written into the note that are not gold facts (distractors)
    extras: dict[str, Any] = field(default_factory=dict)


def _time_plus(base: dt.datetime, minutes: int) -> dt.datetime:
    return base + dt.timedelta(minutes=minutes)


def _weighted(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([k for k, _ in table], weights=[w for _, w in table])[0]


def sample_case(rng: random.Random) -> Case:
    v: dict[str, Any] = {}
    v["age"] = rng.randint(28, 94)
    v["sex"] = rng.choice(("male", "female"))
    admission = dt.date(2022, 1, 1) + dt.timedelta(days=rng.randint(0, 4 * 365))
    v["discharge_date"] = admission + dt.timedelta(days=rng.randint(2, 21))
    # onset no later than 16:55 so that every time of the acute phase falls on the admission day:
    # a note often writes times without a date, and the normaliser dates them with the admission date
    onset = dt.datetime.combine(admission, dt.time(rng.randint(0, 16), rng.choice(range(0, 60, 5))))
    arrival = _time_plus(onset, rng.randint(25, 280))
    v["onset_timestamp"] = onset
    v["hospital_timestamp"] = arrival
    stroke_type = _weighted(rng, (("ischemic", 70), ("ich", 14), ("tia", 10), ("sah", 3), ("cvt", 3)))
    v["stroke_type"] = stroke_type
    nihss = rng.choice((rng.randint(0, 6), rng.randint(4, 25), rng.randint(10, 38)))
    v["nihss_score"] = nihss
    # discharge NIHSS usually improves; equal values would make the distractor pair useless
    v["discharge_nihss_score"] = max(0, nihss - rng.randint(1, max(1, nihss))) if nihss else rng.randint(0, 2)
    v["gcs_score"] = rng.choice((15, 15, 14, 13, rng.randint(3, 15)))
    v["prestroke_mrs"] = rng.choice((0, 0, 1, 1, 2, 3))
    v["discharge_mrs"] = min(5, v["prestroke_mrs"] + rng.randint(0, 4))
    systolic = rng.randint(105, 225)
    v["systolic_pressure"] = systolic
    v["diastolic_pressure"] = rng.randint(55, min(125, systolic - 30))
    v["glucose"] = round(rng.uniform(3.9, 16.0), 1)
    v["cholesterol"] = round(rng.uniform(2.8, 7.9), 1)
    if stroke_type == "ischemic" and rng.random() < 0.55:
        v["thrombolysis"] = True
        drug = rng.choice(("alteplase", "alteplase", "alteplase", "tenecteplase"))
        v["ivt_drug"] = drug
        weight = rng.randint(48, 110)
        dose = min(90.0, round(0.9 * weight)) if drug == "alteplase" else min(25.0, round(0.25 * weight * 2) / 2)
        v["ivt_drug_dose"] = int(dose) if float(dose).is_integer() else dose
        dtn = rng.randint(14, 95)
        v["door_to_needle"] = dtn
        v["bolus_timestamp"] = _time_plus(arrival, dtn)
    else:
        v["thrombolysis"] = False
    if stroke_type == "ischemic" and rng.random() < 0.25:
        v["thrombectomy"] = True
        v["puncture_timestamp"] = _time_plus(arrival, rng.randint(35, 140))
    else:
        v["thrombectomy"] = False
    for rf, p in RISK_FACTORS.items():
        v[rf] = rng.random() < p
    v["risk_previous_stroke"] = rng.random() < 0.18
    v["discharge_destination"] = _weighted(
        rng, (("home", 50), ("rehabilitation", 25), ("another_hospital", 12), ("social_care", 13))
    )
    case = Case(values=v)
    case.extras["prior_year"] = admission.year - rng.randint(1, 12)
    case.extras["admission_date"] = admission
    case.extras["gcs_discharge"] = min(15, v["gcs_score"] + rng.randint(0, 3))
    if stroke_type in ("ischemic", "tia"):
        if v["risk_atrial_fibrillation"]:
            case.drugs.append(rng.choice(ANTICOAGULANTS))
        else:
            case.drugs.append(rng.choice(ANTIPLATELETS))
            if rng.random() < 0.3:
                case.drugs.append(next(d for d in ANTIPLATELETS if d not in case.drugs))
        case.drugs.append(rng.choice(STATINS))
    if v["risk_hypertension"]:
        case.drugs.append(rng.choice(ANTIHYPERTENSIVES))
    return case
