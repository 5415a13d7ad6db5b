"""Priors learned from annotated names: how often annotators used a term, and header back-off.

Learned synonyms carry a ``count`` (how often annotators wrote the name for the code). Summed over
every term with the same IRI, that is the term's *uses*. A code system's header ("ICD10CM:C53", cervix
cancer) is rarely what annotators pick: they pick a leaf below it ("C53.9"). :class:`Backoff` maps a
header term that annotators never used to its most used descendant (a term whose branches name the
header), when that descendant has at least ``min_share`` of the uses below the header.
"""

from __future__ import annotations

import numpy as np

from kgqa.linking.index import TermIndex


def term_uses(index: TermIndex) -> np.ndarray:
    """Annotated uses of each term: its names' counts, summed over every term sharing its IRI."""
    per_term = np.bincount(index.entry_term, weights=index.entry_count, minlength=index.n_terms)
    _, inv = np.unique(np.asarray(index.term_iri, dtype=object), return_inverse=True)
    per_iri = np.bincount(inv, weights=per_term)
    return per_iri[inv]


class Backoff:
    def __init__(self, index: TermIndex, min_share: float):
        self.uses = term_uses(index)
        used = np.flatnonzero(self.uses > 0)
        best: dict[int, tuple[float, int]] = {}  # branch -> (uses of its best descendant, term)
        total: dict[int, float] = {}
        bp, bi = index.branch_ptr, index.branch_idx
        for t in used.tolist():
            u = float(self.uses[t])
            for b in bi[bp[t] : bp[t + 1]].tolist():
                total[b] = total.get(b, 0.0) + u
                if b not in best or u > best[b][0]:
                    best[b] = (u, t)
        #: header term -> its most used descendant
        self.target: dict[int, int] = {}
        for b, (u, t) in best.items():
            if u / total[b] < min_share:
                continue
            for header in index.terms_named(index.branch_names[b]):
                if self.uses[header] == 0:
                    self.target[header] = t
