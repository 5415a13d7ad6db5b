"""Extractive QA reader (kgqa/qa/): windowing, batching, decoding, calibration.

``Reader.from_config(model_cfg, reader_cfg).read(notes, concepts)`` is the stage's API;
``fit_calibration`` turns dev-set decodings into a ``kgqa_calibration.json`` a checkpoint carries.
"""

from kgqa.qa.calibration import Calibration, CalibrationExample, fit_calibration, load_calibration
from kgqa.qa.reader import Reader

__all__ = ["Calibration", "CalibrationExample", "Reader", "fit_calibration", "load_calibration"]
