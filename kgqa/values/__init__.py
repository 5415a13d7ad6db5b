"""Value normalisation: answer span -> typed value, and facts derived from other facts.

``normalise(answer, concept, note) -> Value`` never raises: a span it cannot read becomes an
UNPARSED value with the reason, an out-of-range one a REJECTED value with the reason.
``derive(facts, catalogue, note) -> list[Fact]`` adds what the catalogue derives (durations
from two times, the GCS level from the GCS score).

Modules: ``numbers`` (decimal marks, ranges, approximate markers), ``units`` (pint),
``dates`` (dates/times in 7 languages, completion from the admission date), ``measures``
(scores, blood pressure, quantities, durations), ``enums`` (member labels, yes/no),
``assertion`` (ConText-style negation/history/hypothetical/family cues), ``normalise``, ``derive``.
"""

from kgqa.values.derive import derive
from kgqa.values.normalise import check_range, normalise

__all__ = ["check_range", "derive", "normalise"]
