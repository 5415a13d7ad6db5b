"""Priors learned from annotated names: how often annotators used a term, and header back-off.

Learned synonyms carry a ``count`` (how often annotators wrote the name for the code). Summed over
every term with the same IRI, that is the term's *uses*. A code system's header ("ICD10CM:C53", cervix
cancer) is rarely what annotators pick: they pick a leaf below it ("C53.9"). :class:`Backoff` maps a
header term that annotators never used to its most used descendant (a term whose branches name the
header), when that descendant has at least ``min_share`` of the uses below the header.

A header that neither annotators nor that rule settle (no annotated use below it, or too spread) can
instead follow the terminology's own default: its child named "… unspecified" (ICD-10-CM's residual
code: "G43 Migraine" → "G43.9 Migraine, unspecified" → … → "G43.909"), down to a leaf or to a code
annotators used (``unspecified=True``). Coders pick that billable default for an unqualified mention.
"""

from __future__ import annotations

import numpy as np

from kgqa.linking.index import KIND_INDEX, LANG_INDEX, TermIndex

#: the word ICD-10-CM's residual children carry in their English preferred names
UNSPECIFIED = "unspecified"


def term_uses(index: TermIndex) -> np.ndarray:
    """Annotated uses of each term: its names' counts, summed over every term sharing its IRI."""
    return index.term_uses()


class Backoff:
    def __init__(self, index: TermIndex, min_share: float, unspecified: bool = False):
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
        if unspecified:
            self._add_unspecified(index)

    def _add_unspecified(self, index: TermIndex) -> None:
        bp, bi = index.branch_ptr, index.branch_idx
        depth = np.diff(bp)
        pref, en = KIND_INDEX["pref"], LANG_INDEX["en"]
        # direct children: a term's last branch is its parent when the hierarchy is by code prefix
        # (ICD-10-CM: "ICD10CM:G", "ICD10CM:G4", "ICD10CM:G43", "ICD10CM:G43.9"); the depth check keeps
        # DAG hierarchies (OBO ancestors in any order) out
        children: dict[int, list[int]] = {}
        for t in np.flatnonzero(depth).tolist():
            for parent in index.terms_named(index.branch_names[bi[bp[t + 1] - 1]]):
                if depth[parent] + 1 == depth[t]:
                    children.setdefault(parent, []).append(t)

        def unspecified_child(t: int) -> int | None:
            named = [
                c for c in children.get(t, ())
                if any(index.entry_kind[e] == pref and index.entry_lang[e] in (en, 0) and UNSPECIFIED in index.entry_text[e].lower()
                       for e in index.entries_of_term(c))
            ]  # fmt: skip
            # several ("… unspecified, with status migrainosus" / "… without"): the code ending in 9 is the
            # residual one ("G43.909"), else the lowest code
            return min(named, key=lambda c: (not index.term_id[c].endswith("9"), index.term_id[c])) if named else None

        for header in children:
            if self.uses[header] > 0 or header in self.target:
                continue
            t, steps = header, 0
            while (child := unspecified_child(t)) is not None and steps < 8:
                t, steps = child, steps + 1
                if self.uses[t] > 0:  # annotators coded this one: a valid target, go no deeper
                    break
            if t != header:
                self.target[header] = t
