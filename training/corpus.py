"""Raw text for masked-LM domain adaptation: readers per source format, filtering, dedup, weighting.

Every reader yields :class:`CorpusText` records lazily, so a large corpus is never held in memory
when ``data.streaming`` is on. Formats (``data.sources.<name>.format``):

- ``text``: a ``.txt`` file or a directory of them (recursive, ``glob``); one text per file.
- ``jsonl``: one JSON object per line with ``text_field`` (and optionally ``lang_field``).
- ``codiesp``: CodiEsp-style case files — a directory tree of one clinical case per ``.txt`` in
  folders named ``text_files*``; ``text_files_<lang>`` (``text_files_en``) gives its files that
  language (machine translations), other files in the tree (README, licences) are ignored.
- ``obo``: an OBO ontology; one text per non-obsolete term: name, synonyms and definition.
- ``tsv``: a table; the ``columns`` of each row (labels, synonyms, definitions) make one text.
- ``conllu``: a Universal Dependencies treebank; one text per sentence (``# text = …``).
- ``json``: any JSON; every object with ``text_field`` (plus its ``join_fields``) is a text.
- ``squad``: the contexts of a SQuAD-format file (use training sets only: evaluation contexts
  seen during MLM would inflate QA scores).
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from kgqa.errors import ConfigError
from training.config import CorpusSourceConfig, MlmDataConfig

log = logging.getLogger(__name__)

#: language tag of text whose language is not known
UNDETERMINED = "und"


@dataclass(frozen=True)
class CorpusText:
    text: str
    lang: str
    source: str


def _source_lang(cfg: CorpusSourceConfig, fallback: str = UNDETERMINED) -> str:
    return cfg.lang or fallback


def read_text_files(name: str, cfg: CorpusSourceConfig) -> Iterator[CorpusText]:
    path = Path(cfg.path)
    files = [path] if path.is_file() else sorted(path.rglob(cfg.glob))
    for f in files:
        yield CorpusText(f.read_text(encoding="utf-8", errors="replace"), _source_lang(cfg), name)


_LANG_DIR = re.compile(r"_([a-z]{2})$")


def read_codiesp(name: str, cfg: CorpusSourceConfig) -> Iterator[CorpusText]:
    for f in sorted(Path(cfg.path).rglob(cfg.glob)):
        # only the case folders: the release's README.txt and licence files are not clinical text
        if not f.parent.name.startswith("text_files"):
            continue
        m = _LANG_DIR.search(f.parent.name)
        lang = m.group(1) if m else _source_lang(cfg, "es")
        yield CorpusText(f.read_text(encoding="utf-8", errors="replace"), lang, name)


def read_jsonl(name: str, cfg: CorpusSourceConfig) -> Iterator[CorpusText]:
    path = Path(cfg.path)
    files = [path] if path.is_file() else sorted(path.rglob("*.jsonl"))
    for f in files:
        with f.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ConfigError(f"{f}:{lineno}: not JSON ({exc}) in corpus source {name!r}") from None
                text = rec.get(cfg.text_field) if isinstance(rec, dict) else None
                if not isinstance(text, str):
                    raise ConfigError(
                        f"{f}:{lineno}: no string field {cfg.text_field!r} (data.sources.{name}.text_field)"
                    )
                lang = rec.get(cfg.lang_field) or _source_lang(cfg)
                yield CorpusText(text, str(lang), name)


_OBO_QUOTED = re.compile(r'^"((?:[^"\\]|\\.)*)"')


def read_obo(name: str, cfg: CorpusSourceConfig) -> Iterator[CorpusText]:
    """One text per ``[Term]``: "name (synonym; synonym): definition"."""
    term: dict[str, list] = {}
    in_term = False

    def flush() -> CorpusText | None:
        if not in_term or term.get("is_obsolete") or not term.get("name"):
            return None
        text = term["name"][0]
        synonyms = [syn for syn in dict.fromkeys(term.get("synonym", [])) if syn.lower() != text.lower()]
        if synonyms:
            text += " (" + "; ".join(synonyms) + ")"
        if term.get("def"):
            text += ": " + term["def"][0]
        return CorpusText(text, _source_lang(cfg, "en"), name)

    with Path(cfg.path).open(encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if line.startswith("["):
                item = flush()
                if item:
                    yield item
                term, in_term = {}, line.strip() == "[Term]"
                continue
            if not in_term or ":" not in line:
                continue
            key, _, value = line.partition(":")
            value = value.strip()
            if key in ("def", "synonym"):
                m = _OBO_QUOTED.match(value)
                value = m.group(1).replace('\\"', '"') if m else value
            if key == "is_obsolete":
                term["is_obsolete"] = [value == "true"]
            elif key in ("name", "def", "synonym"):
                term.setdefault(key, []).append(value)
    item = flush()
    if item:
        yield item


def read_tsv(name: str, cfg: CorpusSourceConfig) -> Iterator[CorpusText]:
    import csv

    with Path(cfg.path).open(encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.reader(fh, delimiter="\t")):
            if i < cfg.skip_rows:
                continue
            cells = [row[c].strip() for c in cfg.columns if c < len(row) and row[c].strip()]
            if cells:
                yield CorpusText(". ".join(cells), _source_lang(cfg), name)


def read_conllu(name: str, cfg: CorpusSourceConfig) -> Iterator[CorpusText]:
    """Universal Dependencies treebanks: one text per sentence (its ``# text = …`` comment)."""
    path = Path(cfg.path)
    files = [path] if path.is_file() else sorted(path.rglob("*.conllu"))
    for f in files:
        with f.open(encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("# text = "):
                    yield CorpusText(line[len("# text = ") :].strip(), _source_lang(cfg), name)


def read_json(name: str, cfg: CorpusSourceConfig) -> Iterator[CorpusText]:
    """Any JSON document: every object with a string ``text_field`` is a text, followed by its
    ``join_fields`` (e.g. a multiple-choice question followed by its correct answer)."""
    try:
        doc = json.loads(Path(cfg.path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{cfg.path}: not JSON ({exc}) in corpus source {name!r}") from None
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get(cfg.text_field), str):
                parts = [node[cfg.text_field]] + [str(node[f]) for f in cfg.join_fields if node.get(f)]
                lang = node.get(cfg.lang_field) or _source_lang(cfg)
                yield CorpusText(" ".join(parts), str(lang), name)
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))


def read_squad_contexts(name: str, cfg: CorpusSourceConfig) -> Iterator[CorpusText]:
    """The contexts of a SQuAD-format file (in-language prose; never use an evaluation set's)."""
    doc = json.loads(Path(cfg.path).read_text(encoding="utf-8"))
    for article in doc.get("data", []):
        for para in article.get("paragraphs", []):
            if isinstance(para.get("context"), str):
                yield CorpusText(para["context"], _source_lang(cfg), name)


#: format name -> reader (data.sources.<name>.format)
READERS: dict[str, Callable[[str, CorpusSourceConfig], Iterator[CorpusText]]] = {
    "text": read_text_files,
    "jsonl": read_jsonl,
    "codiesp": read_codiesp,
    "obo": read_obo,
    "tsv": read_tsv,
    "conllu": read_conllu,
    "json": read_json,
    "squad": read_squad_contexts,
}


def _is_squad(path: Path) -> bool:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    data = doc.get("data") if isinstance(doc, dict) else None
    return isinstance(data, list) and bool(data) and isinstance(data[0], dict) and "paragraphs" in data[0]


def detect_format(cfg: CorpusSourceConfig) -> str:
    path = Path(cfg.path)
    if path.is_dir():
        if any(p.name.startswith("text_files") for p in path.rglob("text_files*")):
            return "codiesp"
        for fmt, pattern in (("jsonl", "*.jsonl"), ("conllu", "*.conllu")):
            if any(path.rglob(pattern)) and not any(path.rglob(cfg.glob)):
                return fmt
        return "text"
    suffix = path.suffix.lower()
    if suffix == ".json":
        return "squad" if _is_squad(path) else "json"
    return {".jsonl": "jsonl", ".obo": "obo", ".tsv": "tsv", ".conllu": "conllu"}.get(suffix, "text")


def read_source(name: str, cfg: CorpusSourceConfig) -> Iterator[CorpusText]:
    if not Path(cfg.path).exists():
        raise ConfigError(f"data.sources.{name}.path={cfg.path!r} does not exist")
    fmt = detect_format(cfg) if cfg.format == "auto" else cfg.format
    try:
        reader = READERS[fmt]
    except KeyError:
        raise ConfigError(
            f"data.sources.{name}.format={cfg.format!r} is not one of auto, {', '.join(sorted(READERS))}"
        ) from None
    for n, item in enumerate(reader(name, cfg)):
        if cfg.limit and n >= cfg.limit:
            return
        yield item


def normalise_whitespace(text: str) -> str:
    return " ".join(text.split())


def text_digest(text: str) -> bytes:
    return hashlib.blake2b(
        normalise_whitespace(text).encode("utf-8", "surrogatepass"), digest_size=16
    ).digest()


def is_validation(text: str, fraction: float) -> bool:
    """A fixed, content-based split: the same text is always on the same side, whatever the weights or order."""
    if fraction <= 0:
        return False
    return int.from_bytes(text_digest(text)[:4], "big") / 2**32 < fraction


@dataclass
class CorpusStats:
    read: int = 0
    kept: int = 0
    too_short: int = 0
    duplicates: int = 0
    by_lang: dict[str, int] | None = None
    by_source: dict[str, int] | None = None

    def __post_init__(self) -> None:
        self.by_lang = self.by_lang or {}
        self.by_source = self.by_source or {}


def iter_corpus(cfg: MlmDataConfig, stats: CorpusStats | None = None) -> Iterator[CorpusText]:
    """All sources in config order, filtered (min_chars) and, with ``dedup``, exact duplicates dropped.

    Duplicates are detected after whitespace normalisation with 16-byte digests, so the memory
    needed is per distinct text, not per character — fine for streaming corpora of millions of texts.
    """
    if not cfg.sources:
        raise ConfigError("data.sources is empty: name at least one corpus source")
    stats = stats if stats is not None else CorpusStats()
    seen: set = set()
    for name, src in cfg.sources.items():
        for item in read_source(name, src):
            stats.read += 1
            text = item.text.strip()
            if len(text) < cfg.min_chars:
                stats.too_short += 1
                continue
            if cfg.dedup:
                digest = text_digest(text)
                if digest in seen:
                    stats.duplicates += 1
                    continue
                seen.add(digest)
            stats.kept += 1
            stats.by_lang[item.lang] = stats.by_lang.get(item.lang, 0) + 1
            stats.by_source[name] = stats.by_source.get(name, 0) + 1
            yield CorpusText(text, item.lang, item.source)


def copies(weight: float, rng: random.Random) -> int:
    """floor(weight) copies plus one more with probability frac(weight): ``weight`` in expectation."""
    whole = int(weight)
    return whole + (1 if rng.random() < weight - whole else 0)


def weighted(
    texts: Iterable[CorpusText],
    source_weights: Mapping[str, float],
    lang_weights: Mapping[str, float],
    seed: int,
) -> Iterator[CorpusText]:
    """Repeat (or subsample) each text by its source weight times its language weight."""
    rng = random.Random(seed)
    for t in texts:
        w = source_weights.get(t.source, 1.0) * lang_weights.get(t.lang, 1.0)
        for _ in range(copies(w, rng)):
            yield t
