"""Extractive QA reader (kgqa/qa/): windowing, batching, decoding, calibration."""
