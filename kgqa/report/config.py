"""Typed config of the review report (``kgqa report`` options map onto it)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ReportConfig:
    #: facts whose reader confidence is below this are flagged "low confidence" for the reviewer
    low_confidence: float = 0.5
    #: page title of the index
    title: str = "kgqa review report"
    #: embed the summary figure (coverage per language, confidence histogram) in the index
    figure: bool = True


#: the defaults (frozen, so safe to share as a default argument)
DEFAULT_CONFIG = ReportConfig()
