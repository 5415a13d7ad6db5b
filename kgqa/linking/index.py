"""The term index: columnar arrays over terms, names and lookup keys, built once and cached on disk.

Layout (everything picklable, no per-term objects, so a 200k-name index unpickles in a fraction of
a second):

* terms: ``term_id``, ``term_iri``, ``term_source`` and their branches (CSR ``branch_ptr``/``branch_idx``);
* entries (one per name): ``entry_text``, ``entry_term``, ``entry_lang``, ``entry_kind``, ``entry_count``;
* keys (the folded form of names, unique): ``keys``, ``key_lookup`` (exact fast path) and the entries
  of each key (CSR ``key_ptr``/``key_entries``);
* character-trigram postings over keys (CSR ``gram_ptr``/``gram_keys``) for fuzzy candidate blocking.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from kgqa.linking.normalise import STOPWORDS, content_key, fold
from kgqa.linking.terms import ANY_LANG, Term
from kgqa.types import LANGUAGES

log = logging.getLogger(__name__)

#: entry languages by index; 0 is "any language"
LANG_CODES: tuple[str, ...] = (ANY_LANG, *LANGUAGES)
LANG_INDEX = {lang: i for i, lang in enumerate(LANG_CODES)}
#: name kinds by index
KIND_CODES: tuple[str, ...] = ("pref", "syn", "abbr", "brand", "related", "learned")
KIND_INDEX = {k: i for i, k in enumerate(KIND_CODES)}
_KIND_RANK = [0, 1, 2, 2, 3, 4]  # pref, syn, abbr, brand, related, learned
LEARNED_RANK = _KIND_RANK[KIND_INDEX["learned"]]
#: bump when the pickled layout or the normalisation changes: old caches are then rebuilt
INDEX_FORMAT = 8


def trigrams(key: str) -> set[str]:
    """Character trigrams of a key, padded at word boundaries so short words still have some."""
    padded = f" {key} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


@dataclass
class TermIndex:
    sources: list[str]
    term_id: list[str]
    term_iri: list[str]
    term_source: np.ndarray
    branch_names: list[str]
    branch_ptr: np.ndarray
    branch_idx: np.ndarray
    entry_text: list[str]
    entry_term: np.ndarray
    entry_lang: np.ndarray
    entry_kind: np.ndarray
    entry_count: np.ndarray
    keys: list[str]
    #: keys without function words, tokens sorted (token_sort_ratio becomes a plain ratio at query time)
    content_keys: list[str]
    key_lookup: dict[str, int]
    key_ptr: np.ndarray
    key_entries: np.ndarray
    #: initials of multi-word keys ("virus respiratorio sincitial" → "vrs"), and their keys (CSR,
    #: most used first); arrays rather than a dict of lists, which takes far longer to unpickle
    acronym_names: list[str]
    acronym_ptr: np.ndarray
    acronym_keys: np.ndarray
    gram_lookup: dict[str, int]
    gram_ptr: np.ndarray
    gram_keys: np.ndarray
    format: int = INDEX_FORMAT

    # ------------------------------------------------------------------ building

    @classmethod
    def build(cls, sources: Iterable[tuple[str, Iterable[Term]]]) -> TermIndex:
        """Index ``(source name, terms)`` pairs. Obsolete terms and names that fold to nothing are skipped."""
        source_names: list[str] = []
        term_id: list[str] = []
        term_iri: list[str] = []
        term_source: list[int] = []
        branch_lookup: dict[str, int] = {}
        branch_ptr = [0]
        branch_idx: list[int] = []
        entry_text: list[str] = []
        entry_term: list[int] = []
        entry_lang: list[int] = []
        entry_kind: list[int] = []
        entry_count: list[int] = []
        entry_key: list[int] = []
        key_lookup: dict[str, int] = {}
        for s_idx, (name, terms) in enumerate(sources):
            source_names.append(name)
            for term in terms:
                if term.obsolete or not term.labels:
                    continue
                t_idx = len(term_id)
                term_id.append(term.id)
                term_iri.append(term.iri or term.id)
                term_source.append(s_idx)
                for b in term.branches:
                    branch_idx.append(branch_lookup.setdefault(b, len(branch_lookup)))
                branch_ptr.append(len(branch_idx))
                for label in term.labels:
                    key = fold(label.text)
                    if not key:
                        continue
                    entry_text.append(label.text)
                    entry_term.append(t_idx)
                    entry_lang.append(LANG_INDEX.get(label.lang, 0))
                    entry_kind.append(KIND_INDEX.get(label.kind, 1))
                    entry_count.append(label.count)
                    entry_key.append(key_lookup.setdefault(key, len(key_lookup)))
        keys = list(key_lookup)
        ek = np.asarray(entry_key, dtype=np.int64)
        order = np.argsort(ek, kind="stable")
        key_ptr = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(np.bincount(ek, minlength=len(keys)), out=key_ptr[1:])
        gram_lookup, gram_ptr, gram_keys = _postings(keys)
        acronym_names, acronym_ptr, acronym_keys = _acronyms(keys, key_ptr, order, np.asarray(entry_count, dtype=np.int64))
        index = cls(
            sources=source_names,
            term_id=term_id,
            term_iri=term_iri,
            term_source=np.asarray(term_source, dtype=np.int16),
            branch_names=list(branch_lookup),
            branch_ptr=np.asarray(branch_ptr, dtype=np.int64),
            branch_idx=np.asarray(branch_idx, dtype=np.int32),
            entry_text=entry_text,
            entry_term=np.asarray(entry_term, dtype=np.int32),
            entry_lang=np.asarray(entry_lang, dtype=np.int8),
            entry_kind=np.asarray(entry_kind, dtype=np.int8),
            entry_count=np.asarray(entry_count, dtype=np.int32),
            keys=keys,
            content_keys=[content_key(k) for k in keys],
            key_lookup=key_lookup,
            key_ptr=key_ptr,
            key_entries=order.astype(np.int32),
            acronym_names=acronym_names,
            acronym_ptr=acronym_ptr,
            acronym_keys=acronym_keys,
            gram_lookup=gram_lookup,
            gram_ptr=gram_ptr,
            gram_keys=gram_keys,
        )
        log.info("term index: %d terms, %d names, %d keys from %s", len(term_id), len(entry_text), len(keys), source_names)
        return index

    # ------------------------------------------------------------------ access

    @property
    def n_terms(self) -> int:
        return len(self.term_id)

    @property
    def n_labels(self) -> int:
        return len(self.entry_text)

    def entries_of_key(self, key_idx: int) -> np.ndarray:
        return self.key_entries[self.key_ptr[key_idx] : self.key_ptr[key_idx + 1]]

    def branches_of(self, term_idx: int) -> list[str]:
        lo, hi = self.branch_ptr[term_idx], self.branch_ptr[term_idx + 1]
        return [self.branch_names[b] for b in self.branch_idx[lo:hi]]

    def entries_of_term(self, term_idx: int) -> range:
        """Entries (names) of a term: a range, since names are appended term by term."""
        ptr = self._lookups()["term_ptr"]
        return range(ptr[term_idx], ptr[term_idx + 1])

    def display_label(self, term_idx: int, lang: str) -> str:
        """The preferred name in ``lang`` of the term or of another term with its IRI (a learned-synonym
        source shares IRIs with its terminology); else English, else language-neutral; names before
        synonyms, the most used first. Learned synonyms are annotators' mentions, never a display label
        ("masa vejiga" must not name a code): a term known only by them has no label ("")."""
        memo = self._lookups()["labels"]
        label = memo.get((term_idx, lang))
        if label is not None:
            return label
        want = LANG_INDEX.get(lang, -1)
        en = LANG_INDEX["en"]
        lk = self._lookups()
        e_lang, e_rank, e_count, ptr = lk["entry_lang"], lk["entry_rank"], lk["entry_count"], lk["term_ptr"]
        best, best_rank = "", None
        for t in self.terms_named(self.term_iri[term_idx]) or (term_idx,):
            for e in range(ptr[t], ptr[t + 1]):
                if e_rank[e] == LEARNED_RANK:
                    continue
                lang_i = e_lang[e]
                rank = (0 if lang_i == want else 1 if lang_i == en else 2 if lang_i == 0 else 3, e_rank[e], -e_count[e])
                if best_rank is None or rank < best_rank:
                    best, best_rank = self.entry_text[e], rank
        memo[(term_idx, lang)] = best
        return best

    def scope_mask(self, scope: Sequence[str]) -> np.ndarray | None:
        """Boolean mask over terms allowed by ``scope``; None = all terms.

        A scope item is a source name (``drugs``), a branch (``ATC:B01``, ``HP:0000707``, a SKOS scheme
        CURIE or IRI: the term and everything below it) or a single term id or IRI. Items the index does
        not know select nothing (the source may not be loaded).
        """
        if not scope:
            return None
        mask = np.zeros(self.n_terms, dtype=bool)
        lookups = self._lookups()
        for item in scope:
            if item in self.sources:
                mask |= self.term_source == self.sources.index(item)
            if item in lookups["branch"]:
                mask[lookups["branch_term"][self.branch_idx == lookups["branch"][item]]] = True
            for t in self.terms_named(item):
                mask[t] = True
        return mask

    def term_uses(self) -> np.ndarray:
        """Annotated uses of each term (float64): its names' counts (learned synonyms), summed over every
        term sharing its IRI. Computed once per index."""
        lk = self._lookups()
        if "uses" not in lk:
            own = np.bincount(self.entry_term, weights=self.entry_count, minlength=self.n_terms)
            uses = own.copy()
            for name, terms in lk["many"].items():  # names several terms share: sum over those sharing an IRI
                group = [t for t in terms if self.term_iri[t] == name]
                if len(group) > 1:
                    uses[group] = own[group].sum()
            lk["uses"] = uses
        return lk["uses"]

    def acronym_keys_of(self, acronym: str) -> list[int]:
        """Keys whose initials are ``acronym`` (most used first)."""
        lk = self._lookups()
        if "acronyms" not in lk:
            lk["acronyms"] = {a: i for i, a in enumerate(self.acronym_names)}
        i = lk["acronyms"].get(acronym)
        return [] if i is None else self.acronym_keys[self.acronym_ptr[i] : self.acronym_ptr[i + 1]].tolist()

    def label_memo(self) -> dict[tuple[int, str], str]:
        """The memo of :meth:`display_label` ((term, lang) → label), for callers reading many at once."""
        return self._lookups()["labels"]

    def forget_labels(self) -> None:
        """Drop memoised display labels (benchmarks time linking from a cold start)."""
        self._lookups()["labels"].clear()

    def terms_named(self, name: str) -> tuple[int, ...]:
        """Terms whose id or IRI is ``name`` (several when sources share IRIs)."""
        lk = self._lookups()
        many = lk["many"].get(name)
        if many is not None:
            return many
        t = lk["one"].get(name)
        return () if t is None else (t,)

    def _lookups(self) -> dict:
        # Built on first use rather than pickled (cheap, and keeps the cache small). Dict comprehensions
        # and a Counter keep this at tens of milliseconds for 200k terms.
        cached = self.__dict__.get("_lookup_cache")
        if cached is None:
            one = {iri: i for i, iri in enumerate(self.term_iri)}
            one.update({tid: i for i, tid in enumerate(self.term_id)})
            many: dict[str, tuple[int, ...]] = {}
            if len(one) < 2 * self.n_terms:  # some id or IRI names several terms (or an id equals its IRI)
                counts = Counter(self.term_iri) + Counter(self.term_id)
                repeated = {name for name, n in counts.items() if n > 1}
                if repeated:
                    groups: dict[str, set[int]] = {}
                    for i, (tid, iri) in enumerate(zip(self.term_id, self.term_iri)):
                        for name in (tid, iri):
                            if name in repeated:
                                groups.setdefault(name, set()).add(i)
                    many = {name: tuple(sorted(g)) for name, g in groups.items()}
            term_ptr = np.zeros(self.n_terms + 1, dtype=np.int64)
            np.cumsum(np.bincount(self.entry_term, minlength=self.n_terms), out=term_ptr[1:])
            cached = {
                "term_ptr": term_ptr.tolist(),
                # list mirrors for display_label's loop (scalar access to numpy arrays is slow)
                "entry_lang": self.entry_lang.tolist(),
                "entry_rank": [_KIND_RANK[k] for k in self.entry_kind.tolist()],
                "entry_count": self.entry_count.tolist(),
                "labels": {},
                "one": one,
                "many": many,
                "branch": {b: i for i, b in enumerate(self.branch_names)},
                "branch_term": np.repeat(np.arange(self.n_terms, dtype=np.int32), np.diff(self.branch_ptr)),
            }
            self.__dict__["_lookup_cache"] = cached
        return cached

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_lookup_cache", None)
        # the exact-match dict is rebuilt from the key list on load: as fast as unpickling it, 13 MB less on disk
        state["key_lookup"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        if state.get("key_lookup") is None:
            state["key_lookup"] = dict(zip(state["keys"], range(len(state["keys"]))))
        self.__dict__.update(state)

    def key_mask(self, term_mask: np.ndarray | None) -> np.ndarray | None:
        """Keys with at least one entry whose term is allowed."""
        if term_mask is None:
            return None
        entry_ok = term_mask[self.entry_term]
        ok_sorted = entry_ok[self.key_entries].astype(np.int32)
        counts = np.add.reduceat(ok_sorted, self.key_ptr[:-1]) if len(ok_sorted) else np.zeros(0, np.int32)
        # reduceat over an empty segment returns the next element, not 0: zero those out
        counts[self.key_ptr[:-1] == self.key_ptr[1:]] = 0
        return counts > 0


#: an acronym names at most this many keys (the most used ones): "ca" must not expand to half the index
MAX_ACRONYM_KEYS = 50


def _acronyms(keys: list[str], key_ptr: np.ndarray, key_entries: np.ndarray, entry_count: np.ndarray):
    use = np.zeros(len(keys), dtype=np.int64)
    if len(key_entries):
        counts = entry_count[key_entries]
        nonempty = key_ptr[:-1] < key_ptr[1:]
        use[nonempty] = np.maximum.reduceat(counts, key_ptr[:-1][nonempty])
    found: dict[str, list[int]] = {}
    for k_idx, key in enumerate(keys):
        words = [t for t in key.split() if t not in STOPWORDS]
        if 2 <= len(words) <= 6:
            found.setdefault("".join(w[0] for w in words), []).append(k_idx)
    names = list(found)
    lists = [sorted(found[a], key=lambda k: -use[k])[:MAX_ACRONYM_KEYS] for a in names]
    ptr = np.zeros(len(names) + 1, dtype=np.int64)
    np.cumsum([len(x) for x in lists], out=ptr[1:])
    flat = np.fromiter((k for x in lists for k in x), dtype=np.int32, count=int(ptr[-1]))
    return names, ptr, flat


def _postings(keys: list[str]) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
    grams: dict[str, list[int]] = {}
    for k_idx, key in enumerate(keys):
        for g in trigrams(key):
            grams.setdefault(g, []).append(k_idx)
    lookup = {g: i for i, g in enumerate(grams)}
    ptr = np.zeros(len(grams) + 1, dtype=np.int64)
    np.cumsum([len(v) for v in grams.values()], out=ptr[1:])
    flat = np.fromiter((k for v in grams.values() for k in v), dtype=np.int32, count=int(ptr[-1]))
    return lookup, ptr, flat
