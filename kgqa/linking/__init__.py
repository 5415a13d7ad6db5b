"""kgqa.linking — span → ontology term linking over a cached multilingual term index.

Public API: :class:`Linker` (``from_config``, ``from_terms``, ``link``, ``link_many``),
:class:`LinkerConfig`, the term records :class:`Term`/:class:`Label`, and :func:`fold` (the key normaliser).
"""

from kgqa.linking.config import LinkerConfig
from kgqa.linking.linker import Linker
from kgqa.linking.normalise import fold, strip_dosage
from kgqa.linking.terms import Label, Term

__all__ = ["Label", "Linker", "LinkerConfig", "Term", "fold", "strip_dosage"]
