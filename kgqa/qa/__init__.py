"""Extractive QA reader (kgqa/qa/): windowing, batching, decoding, calibration.

``Reader.from_config(model_cfg, reader_cfg).read(notes, concepts)`` is the stage's API;
``fit_calibration`` turns dev-set decodings into a ``kgqa_calibration.json`` a checkpoint carries.

Names are imported lazily: ``kgqa.config`` imports ``kgqa.qa.config``, and commands that only need the
config (``kgqa query``, ``kgqa --help``) should not pay for importing torch and transformers.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Calibration": "kgqa.qa.calibration",
    "CalibrationExample": "kgqa.qa.calibration",
    "fit_calibration": "kgqa.qa.calibration",
    "load_calibration": "kgqa.qa.calibration",
    "Reader": "kgqa.qa.reader",
}

__all__ = [
    "Calibration",
    "CalibrationExample",
    "Reader",
    "fit_calibration",
    "load_calibration",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'kgqa.qa' has no attribute {name!r}")
