"""The linker: span text + concept → ranked ontology links (empty tuple = NIL).

``Linker.link`` normalises the span (dosage stripped for drug concepts), restricts the index to the
concept's scope (its enumeration members for ENUM concepts), takes the exact fast path, falls back to
fuzzy candidates (also through a Latin transliteration for Greek/Cyrillic spans) and returns the top-k
links scoring at least the NIL threshold.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from kgqa.errors import ConfigError
from kgqa.linking import parallel
from kgqa.linking.cache import cache_key, default_cache_dir, load_or_build
from kgqa.linking.config import LinkerConfig
from kgqa.linking.dense import DenseIndex, DenseStage, calibrate, get_encoder
from kgqa.linking.index import KIND_CODES, LANG_CODES, TermIndex
from kgqa.linking.lists import split_items
from kgqa.linking.match import Hit, Matcher, Scope, make_scope
from kgqa.linking.normalise import fold, has_non_latin, strip_dosage, transliterate
from kgqa.linking.priors import Backoff
from kgqa.linking.sources import load_source, read_manifest, select
from kgqa.linking.terms import Label, Term
from kgqa.types import Concept, Link, ValueKind

log = logging.getLogger(__name__)

#: scope of drug concepts that name none
DEFAULT_DRUG_SCOPE = ("drugs",)
#: batches smaller than this stay in the calling process even with ``processes`` > 1
PARALLEL_MIN_TEXTS = 64
#: linker.mode values
MODES = ("lexical", "dense", "fused")


class Linker:
    def __init__(self, index: TermIndex, cfg: LinkerConfig | None = None, dense: DenseStage | None = None,
                 cache_dir: Path | None = None):
        self.cfg = cfg or LinkerConfig()
        if self.cfg.mode not in MODES:
            raise ConfigError(f"linker.mode: {self.cfg.mode!r}; valid: {', '.join(MODES)}")
        if not self.cfg.dense_low < self.cfg.dense_high:
            raise ConfigError(f"linker.dense_low ({self.cfg.dense_low}) must be below linker.dense_high ({self.cfg.dense_high})")
        if not 0.0 <= self.cfg.nil_threshold <= 1.0:
            raise ConfigError(f"linker.nil_threshold: {self.cfg.nil_threshold} not in [0, 1]")
        if self.cfg.top_k < 1:
            raise ConfigError(f"linker.top_k: {self.cfg.top_k} must be >= 1")
        self.index = index
        self.matcher = Matcher(index, self.cfg)
        self._scopes: dict[tuple[str, ...], Scope] = {}
        self._member_linkers: dict[tuple, Linker] = {}
        if self.cfg.memo_size < 0:
            raise ConfigError(f"linker.memo_size: {self.cfg.memo_size} must be >= 0")
        if self.cfg.processes < 1:
            raise ConfigError(f"linker.processes: {self.cfg.processes} must be >= 1")
        self._memo: OrderedDict[tuple, tuple[Link, ...]] | None = OrderedDict() if self.cfg.memo_size > 0 else None
        #: memo lookups answered / not answered (the benchmark reports the hit rate)
        self.memo_hits = self.memo_misses = 0
        self._backoff = None
        if self.cfg.descendant_backoff > 0 or self.cfg.unspecified_backoff:
            # a share above 1 is never reached: only the "unspecified" rule then applies
            share = self.cfg.descendant_backoff if self.cfg.descendant_backoff > 0 else 2.0
            self._backoff = Backoff(index, share, self.cfg.unspecified_backoff)
        # per-term / per-entry strings of the Link records, as lists (numpy scalar access is slow in the hot loop)
        self._term_source_name = [index.sources[s] for s in index.term_source.tolist()]
        self._entry_lang_code = [LANG_CODES[i] or None for i in index.entry_lang.tolist()]
        #: the dense stage (None in lexical mode, even when one is handed in — benchmarks share a stage between
        #: linkers of several modes): label embeddings of ``dense_sources``, cached in ``cache_dir``
        self.dense = dense if self.cfg.mode != "lexical" else None
        if self.dense is None and self.cfg.mode != "lexical":
            encoder = get_encoder(self.cfg.encoder, self.cfg.dense_threads, cache_dir)
            mask = index.scope_mask(tuple(self.cfg.dense_sources)) if self.cfg.dense_sources else None
            self.dense = DenseStage(index, DenseIndex.build(index, mask, encoder, cache_dir), encoder, self.cfg.memo_size)

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_config(cls, cfg: LinkerConfig) -> Linker:
        """Index ``cfg.sources`` from ``cfg.ontology_dir`` (through the on-disk cache)."""
        base = _resolve_root(cfg.ontology_dir)
        manifest = Path(cfg.manifest) if Path(cfg.manifest).is_absolute() else base / cfg.manifest
        specs = select(read_manifest(manifest), list(cfg.sources))
        files = [manifest] + [p for s in specs for p in s.paths(base)]
        missing = [str(p) for p in files if not p.is_file()]
        if missing:
            raise ConfigError(f"linker.sources: missing ontology file(s) {', '.join(missing)} (linker.ontology_dir={base})")

        def build() -> TermIndex:
            return TermIndex.build((s.name, load_source(s, base)) for s in specs)

        cache_dir = None
        if cfg.use_cache:
            cache_dir = Path(cfg.cache_dir).expanduser() if cfg.cache_dir else default_cache_dir()
        index = load_or_build(cache_dir, cache_key(files, [s.name for s in specs]), build)
        return cls(index, cfg, cache_dir=cache_dir)

    @classmethod
    def from_terms(cls, sources: Mapping[str, Iterable[Term]], cfg: LinkerConfig | None = None,
                   cache_dir: Path | None = None) -> Linker:
        """A linker over in-memory terms (tests, learned synonyms, benchmarks); only label embeddings are
        cached, and only with a ``cache_dir``."""
        return cls(TermIndex.build(sources.items()), cfg, cache_dir=cache_dir)

    # ------------------------------------------------------------------ linking

    def link(self, text: str, concept: Concept, lang: str) -> tuple[Link, ...]:
        """Best-first links of ``text`` for ``concept`` in a note of language ``lang``; () = NIL.

        A drug concept answered by a list ("Atorvastatin 40 mg, Concor 5 mg a Eliquis") is split into its
        items (:func:`kgqa.linking.lists.split_items`): the best link of every item, in the order written."""
        return self.link_many([text], concept, lang)[0]

    def link_many(self, texts: Sequence[str], concept: Concept, lang: str) -> list[tuple[Link, ...]]:
        """:meth:`link` for many spans of one concept: repeated spans are linked once, and every span (for a
        drug list, every item of every span) in one batch of :meth:`link_keys`."""
        unique = list(dict.fromkeys(texts))
        lists: dict[str, list[str]] = {}
        if concept.kind is ValueKind.DRUG and concept.is_list:
            lists = {t: items for t in unique if len(items := split_items(t)) > 1}
        spans = list(dict.fromkeys(s for t in unique for s in lists.get(t, (t,))))
        queries = [self._query(s, concept) for s in spans]
        if concept.members:
            linked = dict(zip(spans, self._member_linker(concept).link_keys(queries, lang, ())))
        else:
            linked = dict(zip(spans, self.link_keys(queries, lang, self._scope_items(concept))))
        for t, items in lists.items():
            seen: dict[str, Link] = {}
            for item in items:  # the best link of every item, in the order written
                links = linked[item]
                if links and links[0].iri not in seen:
                    seen[links[0].iri] = links[0]
            linked[t] = tuple(seen.values())
        return [linked[t] for t in texts]

    def link_key(self, text: str, lang: str, scope_items: tuple[str, ...]) -> tuple[Link, ...]:
        """Link already-prepared text within a scope (source names / branches); the core of :meth:`link`."""
        return self.link_keys([text], lang, scope_items)[0]

    def link_keys(self, texts: Sequence[str], lang: str, scope_items: tuple[str, ...]) -> list[tuple[Link, ...]]:
        """:meth:`link_key` for many texts of one scope (the scope is resolved once).

        Results are memoised per (text, lang, scope) in an LRU of ``memo_size`` entries (clinical notes
        repeat their mentions); with ``processes`` > 1 a large batch is shared with worker processes.
        """
        memo = self._memo
        out: list[tuple[Link, ...] | None] = [None] * len(texts)
        todo = list(range(len(texts)))
        if memo is not None:
            todo = []
            for i, t in enumerate(texts):
                links = memo.get((t, lang, scope_items))
                if links is None:
                    todo.append(i)
                else:
                    memo.move_to_end((t, lang, scope_items))
                    out[i] = links
            self.memo_hits += len(texts) - len(todo)
            self.memo_misses += len(todo)
        pending = [texts[i] for i in todo]
        if self.cfg.processes > 1 and len(pending) >= PARALLEL_MIN_TEXTS:
            selected = parallel.select_many(self, pending, lang, scope_items)
        else:
            selected = self.select_keys(pending, lang, scope_items)
        for i, sel in zip(todo, selected):
            links = out[i] = self._build(sel, lang)
            if memo is not None:
                memo[(texts[i], lang, scope_items)] = links
                if len(memo) > self.cfg.memo_size:
                    memo.popitem(last=False)
        return out  # type: ignore[return-value]

    def select_keys(self, texts: Sequence[str], lang: str, scope_items: tuple[str, ...]) -> list[list[Hit]]:
        """The hits each text's links are made of: (term, name, score), best first, one per IRI, at most
        ``top_k``, above the NIL threshold, header back-off applied. What worker processes compute and send
        back; :meth:`link_keys` turns them into ``Link`` records."""
        scope = self._scope(scope_items)
        k, cfg = self.cfg.top_k, self.cfg
        keys = [fold(t) for t in texts]
        hits: list[list[Hit]] = [self.matcher.exact(key, lang, scope) if key else [] for key in keys]
        dense_todo: list[int] = []
        for i, key in enumerate(keys):
            if not key or hits[i]:
                continue
            if len(key) <= cfg.short_exact_only:
                # abbreviations are resolved by their exact names (ontologies/conditions.tsv, drugs.tsv, resq);
                # a guess on 2-3 letters is mostly confident nonsense ("HTA" -> humerus trochlea aplasia)
                continue
            if cfg.mode != "dense":
                h = _merge(self.matcher.fuzzy(key, lang, scope, k), self.matcher.subspans(key, lang, scope))
                h = _merge(h, self.matcher.acronym(texts[i], key, lang, scope))
                if has_non_latin(key):
                    latin = transliterate(key)
                    h = _merge(h, self.matcher.exact(latin, lang, scope) or self.matcher.fuzzy(latin, lang, scope, k))
                hits[i] = h
            if self.dense is not None and (not hits[i] or hits[i][0].score < cfg.dense_skip):
                dense_todo.append(i)
        if dense_todo:
            self._add_dense(dense_todo, texts, hits, lang, scope, scope_items)
        return [self._select(h) for h in hits]

    def _add_dense(self, todo: list[int], texts: Sequence[str], hits: list[list[Hit]], lang: str, scope: Scope,
                   scope_items: tuple[str, ...]) -> None:
        """Nearest labels of the spans in ``todo`` (one encoder call), calibrated and fused with their string hits."""
        assert self.dense is not None
        cfg = self.cfg
        if not self.dense.in_scope(scope.key_mask, scope_items):
            return  # no embedded label in this scope: the encoder would run for nothing
        vecs = self.dense.embed([texts[i] for i in todo])
        found = self.dense.search(vecs, scope.key_mask, cfg.dense_k, token=scope_items)
        idx = self.index
        for i, (key_ids, cos) in zip(todo, found):
            if not len(key_ids):
                continue
            # e5 cosines are compressed (unrelated short texts reach ~0.83, right answers ~0.84-0.91), so the
            # nearest term must also stand out: its margin over the nearest label of another term
            top = set(idx.entry_term[idx.entries_of_key(int(key_ids[0]))].tolist())
            rival = next((float(c) for k, c in zip(key_ids[1:].tolist(), cos[1:].tolist())
                          if not top & set(idx.entry_term[idx.entries_of_key(k)].tolist())), None)
            margin = float(cos[0]) - (rival if rival is not None else float(cos[-1]) if len(cos) > 1 else 0.0)
            score = min(float(calibrate(cos[:1], cfg.dense_low, cfg.dense_high)[0]), min(1.0, max(0.0, margin / cfg.dense_margin)))
            if score <= 0:
                continue
            dense_hits = self.matcher._expand([(int(key_ids[0]), score)], lang, scope, exact=False)
            hits[i] = fuse(hits[i], dense_hits, cfg.fuse_agree)

    def _select(self, hits: list[Hit]) -> list[Hit]:
        if not hits:
            return hits
        target = self._backoff.target if self._backoff is not None else None
        k, threshold, term_iri = self.cfg.top_k, self.cfg.nil_threshold, self.index.term_iri
        chosen: dict[str, Hit] = {}
        for hit in hits:
            if hit.score < threshold or len(chosen) == k:
                break
            if target is not None and hit.term in target:
                hit = hit._replace(term=target[hit.term])
            iri = term_iri[hit.term]
            if iri not in chosen:  # the same concept reached through two sources (e.g. learned synonyms)
                chosen[iri] = hit
        return list(chosen.values())

    def _build(self, hits: Sequence[Hit], lang: str) -> tuple[Link, ...]:
        if not hits:
            return ()
        idx = self.index
        term_iri, term_id, entry_text = idx.term_iri, idx.term_id, idx.entry_text
        source_of, lang_of, labels = self._term_source_name, self._entry_lang_code, idx.label_memo()
        return tuple(
            Link(
                iri=term_iri[term], label=labels.get((term, lang)) or idx.display_label(term, lang), score=round(score, 4),
                source=source_of[term], term_id=term_id[term], matched=entry_text[entry], lang=lang_of[entry],
            )
            for term, entry, score in hits
        )

    def close(self) -> None:
        """Stop the worker processes of ``processes`` > 1 (started on first use; also stopped at exit)."""
        parallel.shutdown(self)

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _query(text: str, concept: Concept) -> str:
        return strip_dosage(text) if concept.kind is ValueKind.DRUG else text

    @staticmethod
    def _scope_items(concept: Concept) -> tuple[str, ...]:
        if concept.scope:
            return tuple(concept.scope)
        return DEFAULT_DRUG_SCOPE if concept.kind is ValueKind.DRUG else ()

    def _scope(self, items: tuple[str, ...]) -> Scope:
        scope = self._scopes.get(items)
        if scope is None:
            scope = self._scopes[items] = make_scope(self.index, items, self.cfg)
            if scope.term_mask is not None and not scope.term_mask.any():
                log.warning("linker scope %s selects no term of sources %s", list(items), self.index.sources)
        return scope

    def _member_linker(self, concept: Concept) -> Linker:
        """A small linker over the concept's members: their catalogue labels, every index name of a term
        with the member's IRI (resq-vocab abbreviations), and for drug concepts every name of the drug
        whose name the member carries (so "Actilyse", "алтеплаза" and "αλτεπλάση" reach the alteplase member)."""
        sig = (concept.id, concept.kind, tuple((m.iri, tuple(sorted((k, tuple(v)) for k, v in m.labels.items()))) for m in concept.members))
        linker = self._member_linkers.get(sig)
        if linker is not None:
            return linker
        drug_scope = self._scope(DEFAULT_DRUG_SCOPE) if concept.kind is ValueKind.DRUG else None
        terms = []
        for m in concept.members:
            labels = [Label(t, lang, "pref" if i == 0 else "syn") for lang, texts in m.labels.items() for i, t in enumerate(texts)]
            for t in self.index.terms_named(m.iri):
                labels += self._labels_of(t)
            if drug_scope is not None:
                for label in list(labels):
                    for hit in self.matcher.exact(fold(label.text), label.lang, drug_scope):
                        labels += self._labels_of(hit.term)
            terms.append(Term(id=m.id, iri=m.iri, labels=tuple(dict.fromkeys(labels))))
        # a member linker is small: its batches never go to worker processes
        linker = Linker(TermIndex.build([("catalogue", terms)]), replace(self.cfg, processes=1, mode="lexical"))
        self._member_linkers[sig] = linker
        return linker

    def _labels_of(self, term: int) -> list[Label]:
        idx = self.index
        return [
            Label(idx.entry_text[e], LANG_CODES[idx.entry_lang[e]], KIND_CODES[idx.entry_kind[e]], int(idx.entry_count[e]))
            for e in idx.entries_of_term(term)
        ]


def _resolve_root(path: str) -> Path:
    # A LinkerConfig built in Python (not composed by Hydra) still holds the ${kgqa_root:} interpolation.
    if "${kgqa_root:}" in path:
        from kgqa import PROJECT_ROOT

        path = path.replace("${kgqa_root:}", str(PROJECT_ROOT))
    return Path(path).expanduser()


def fuse(lexical: list[Hit], dense: list[Hit], agree: float) -> list[Hit]:
    """String and dense hits of one span, one per term, best first.

    A term only one route found keeps that route's score; a term both found scores
    ``max + agree * min * (1 - max)`` (agreement raises it towards 1, never past it). The string hit's
    name is kept as the matched name when there is one. Equal scores keep the string route's order.
    """
    if not dense:
        return lexical
    if not lexical:
        return dense
    by_term: dict[int, Hit] = {h.term: h for h in lexical}
    dense_of = {h.term: h for h in dense}
    out = []
    for term, d in dense_of.items():
        lex = by_term.get(term)
        if lex is None:
            out.append(d)
        else:
            hi, lo = max(lex.score, d.score), min(lex.score, d.score)
            out.append(lex._replace(score=hi + agree * lo * (1 - hi)))
    out += [h for t, h in by_term.items() if t not in dense_of]
    rank = {h.term: i for i, h in enumerate(lexical)}
    return sorted(out, key=lambda h: (-h.score, rank.get(h.term, len(rank))))


def _merge(a: list[Hit], b: list[Hit]) -> list[Hit]:
    # each route returns one hit per term, best first: with one route empty there is nothing to merge
    if not b:
        return a
    if not a:
        return b
    best: dict[int, Hit] = {}
    for h in a + b:
        if h.term not in best or h.score > best[h.term].score:
            best[h.term] = h
    return sorted(best.values(), key=lambda h: -h.score)
