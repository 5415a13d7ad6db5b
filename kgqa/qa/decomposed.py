"""Decomposed reading (DeFormer, Cao et al. 2020): a note's windows are encoded once for all its questions.

The joint reader runs the whole encoder on every (question, window) pair, so with 100+ questions a
note's text is re-encoded 100+ times. Here the lower ``K`` layers run on the question part and on the
window part of a pair *separately* (each attends only to itself), and only the upper layers run on
their concatenation:

- a window part's lower states are computed once per note and question length and shared by every
  question of that length (the window's tokens and positions depend on nothing else);
- a question's lower states are computed once per checkpoint, catalogue and question language and
  cached (:class:`QuestionStateCache`, in memory and optionally on disk);
- the upper ``L - K`` layers and the QA head run per pair, in length-sorted batches.

Inputs are exactly what the joint reader feeds the model for the same pair: the pair's windows come
from :func:`~kgqa.qa.windowing.encode_windows` unchanged, position ids are the pair's own
(BERT: ``0 … n-1``; XLM-R: offset by ``padding_idx + 1``), token types are all 0 (the joint reader
and training pass none), and the attention mask differs only inside the lower layers, where question
and window do not see each other. With ``K = 0`` the logits are the joint model's (float tolerance);
with ``K > 0`` a checkpoint should be fine-tuned for it (``training/distill.py``), which records
``K`` in its config.json so the reader picks the mode itself.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kgqa.errors import ConfigError, ModelLoadError
from kgqa.qa.batching import length_sorted_batches
from kgqa.qa.checkpoint import checkpoint_config
from kgqa.qa.windowing import Window

log = logging.getLogger(__name__)

#: config.json key of a checkpoint fine-tuned for decomposed reading: its number of shared lower layers
SHARED_LAYERS_KEY = "kgqa_shared_layers"
#: reader.encoding values
ENCODINGS = ("auto", "joint", "decomposed")
#: model types whose layers :class:`DecomposedEncoder` can split (BERT and the RoBERTa family)
_POSITION_OFFSET_TYPES = ("xlm-roberta", "roberta", "camembert")
SUPPORTED_TYPES = ("bert", *_POSITION_OFFSET_TYPES)
#: bumped when the cached tensors' meaning changes
_CACHE_VERSION = 1


def recorded_shared_layers(checkpoint: Path) -> int | None:
    """``K`` recorded by decomposed fine-tuning in the checkpoint's config.json, or None."""
    value = checkpoint_config(checkpoint).get(SHARED_LAYERS_KEY)
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def record_shared_layers(checkpoint: Path, shared_layers: int) -> None:
    """Write ``K`` into a saved checkpoint's config.json (what training does after saving)."""
    path = Path(checkpoint) / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config[SHARED_LAYERS_KEY] = int(shared_layers)
    path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def resolve_shared_layers(encoding: str, shared_layers: int | None, checkpoint: Path) -> int | None:
    """``K`` the reader runs with, or None for joint reading.

    ``auto``: decomposed when the checkpoint records ``K`` (``reader.shared_layers`` may override it);
    ``decomposed``: ``reader.shared_layers``, else the checkpoint's; ``joint``: never.
    """
    if encoding not in ENCODINGS:
        raise ConfigError(f"reader.encoding: unknown encoding {encoding!r}; valid: {', '.join(ENCODINGS)}")
    recorded = recorded_shared_layers(checkpoint)
    if encoding == "joint" or (encoding == "auto" and recorded is None):
        return None
    k = shared_layers if shared_layers is not None else recorded
    if k is None:
        raise ConfigError(
            f"reader.encoding=decomposed: {checkpoint} records no {SHARED_LAYERS_KEY}; set reader.shared_layers=K"
        )
    config = checkpoint_config(checkpoint)
    model_type = config.get("model_type")
    if model_type not in SUPPORTED_TYPES:
        raise ConfigError(
            f"reader.encoding=decomposed: model type {model_type!r} of {checkpoint} is not supported "
            f"(supported: {', '.join(SUPPORTED_TYPES)}); use reader.encoding=joint"
        )
    layers = int(config.get("num_hidden_layers", 0))
    if not 0 <= k <= layers:
        raise ConfigError(f"reader.shared_layers={k}: must be between 0 and the model's {layers} layers")
    if recorded is not None and k != recorded:
        log.warning("reader.shared_layers=%d differs from the %d the checkpoint was fine-tuned with", k, recorded)
    return k


def torch_precision(precision: str, device: str) -> str:
    """The precision a decomposed reader runs in: the torch backends only (the ONNX graphs are whole
    models). ``fastest`` picks bf16 where the joint reader would (AMX CPUs, GPUs), else torch int8."""
    from kgqa.qa.backends import FASTEST, fastest_precision

    if precision == FASTEST:
        chosen = fastest_precision(device)
        return "int8" if chosen.startswith("onnx") else chosen
    if precision.startswith("onnx"):
        raise ConfigError(
            f"reader.encoding=decomposed runs on the torch backends (fp32, bf16, int8, fastest), "
            f"not reader.precision={precision!r}"
        )
    return precision


def catalogue_digest(concepts) -> str:
    """Identifies a catalogue's questions (concept ids and every question of every language)."""
    items = sorted(
        (c.id, sorted((lang, list(qs)) for lang, qs in dict(c.questions).items())) for c in {c.id: c for c in concepts}.values()
    )
    return hashlib.sha256(json.dumps(items, ensure_ascii=False).encode()).hexdigest()


def question_length(window: Window) -> int:
    """Tokens of the window's question part: everything before its first context token (CLS, the
    question and the separators; the whole window when the context is empty)."""
    return next((i for i, o in enumerate(window.offsets) if o is not None), len(window))


class QuestionStateCache:
    """Lower-layer states of questions, in memory and (with a directory) on disk.

    One entry per (checkpoint weights, K, precision, catalogue, question language): a file
    ``<key>.pt`` of ``{"ids": state}``. A changed checkpoint, catalogue or language is a new key, so
    stale states are never read; a question is keyed by its token ids (question + specials), which
    fix its positions too.
    """

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory).expanduser() if directory else None
        self._entries: dict[str, dict[str, object]] = {}
        self._dirty: set[str] = set()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(weights_sha256: str, shared_layers: int, variant: str, catalogue: str, lang: str) -> str:
        text = json.dumps([_CACHE_VERSION, weights_sha256, shared_layers, variant, catalogue, lang])
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def _path(self, key: str) -> Path | None:
        return None if self.directory is None else self.directory / f"{key}.pt"

    def entry(self, key: str) -> dict[str, object]:
        if key not in self._entries:
            states: dict[str, object] = {}
            path = self._path(key)
            if path is not None and path.is_file():
                import torch

                try:
                    states = dict(torch.load(path, map_location="cpu", weights_only=True))
                except (OSError, RuntimeError, ValueError, EOFError, pickle.UnpicklingError) as exc:  # torn/foreign: recompute
                    log.warning("question state cache %s unreadable (%s); recomputing", path, exc)
            self._entries[key] = states
        return self._entries[key]

    def get(self, key: str, ids: Sequence[int]):
        state = self.entry(key).get(_ids_key(ids))
        if state is None:
            self.misses += 1
        else:
            self.hits += 1
        return state

    def put(self, key: str, ids: Sequence[int], state) -> None:
        self.entry(key)[_ids_key(ids)] = state
        self._dirty.add(key)

    def flush(self) -> None:
        """Write the entries that gained states to disk (atomically: a reader never sees half a file)."""
        if self.directory is None:
            self._dirty.clear()
            return
        import torch

        self.directory.mkdir(parents=True, exist_ok=True)
        for key in sorted(self._dirty):
            path = self._path(key)
            assert path is not None
            tmp = path.with_suffix(".tmp")
            torch.save({k: v.cpu() for k, v in self._entries[key].items()}, tmp)
            tmp.replace(path)
        self._dirty.clear()


def _ids_key(ids: Sequence[int]) -> str:
    return ",".join(map(str, ids))


@dataclass
class CostSplit:
    """Where a decomposed read spends its time (seconds) and tokens."""

    window_lower_s: float = 0.0
    question_lower_s: float = 0.0
    upper_s: float = 0.0
    #: distinct window parts encoded by the lower layers / pairs' windows served from them
    window_parts: int = 0
    windows: int = 0
    window_part_tokens: int = 0
    question_parts_computed: int = 0
    question_parts_cached: int = 0
    pair_tokens: int = 0

    def as_dict(self) -> dict:
        total = self.window_lower_s + self.question_lower_s + self.upper_s
        return {
            "window_lower_s": round(self.window_lower_s, 4),
            "question_lower_s": round(self.question_lower_s, 4),
            "upper_s": round(self.upper_s, 4),
            "lower_fraction": round((self.window_lower_s + self.question_lower_s) / total, 4) if total else None,
            "window_parts": self.window_parts,
            "windows": self.windows,
            "window_part_tokens": self.window_part_tokens,
            "pair_tokens": self.pair_tokens,
            "question_parts_computed": self.question_parts_computed,
            "question_parts_cached": self.question_parts_cached,
        }


class DecomposedEncoder:
    """Logits of (question, window) features with the lower ``shared_layers`` run per part.

    ``model`` is an ``…ForQuestionAnswering`` of the BERT or RoBERTa family, already in its final
    precision and on its device (the torch backends' model, oneDNN fusion included).
    """

    def __init__(
        self,
        model,
        device: str,
        shared_layers: int,
        *,
        pad_id: int,
        batch_size: int,
        max_batch_tokens: int = 0,
        cache: QuestionStateCache | None = None,
        weights_sha256: str = "",
        variant: str = "",
    ) -> None:
        config = model.config
        if config.model_type not in SUPPORTED_TYPES:
            raise ConfigError(
                f"reader.encoding=decomposed: model type {config.model_type!r} is not supported "
                f"(supported: {', '.join(SUPPORTED_TYPES)})"
            )
        if getattr(config, "position_embedding_type", "absolute") != "absolute":
            raise ConfigError(
                "reader.encoding=decomposed needs absolute position embeddings, not "
                f"{config.position_embedding_type!r}"
            )
        base = model.base_model
        if not hasattr(base, "embeddings") or not hasattr(base, "encoder") or not hasattr(model, "qa_outputs"):
            raise ModelLoadError(f"reader.encoding=decomposed: {type(model).__name__} has no embeddings/encoder/qa_outputs")
        self.model, self.config, self.device = model, config, device
        self.embeddings, self.layers, self.head = base.embeddings, list(base.encoder.layer), model.qa_outputs
        if not 0 <= shared_layers <= len(self.layers):
            raise ConfigError(f"reader.shared_layers={shared_layers}: must be between 0 and {len(self.layers)}")
        self.shared_layers = shared_layers
        # XLM-R numbers positions from padding_idx + 1 (what create_position_ids_from_input_ids gives
        # a sequence without padding); BERT from 0
        self.position_offset = config.pad_token_id + 1 if config.model_type in _POSITION_OFFSET_TYPES else 0
        self.pad_position = config.pad_token_id if self.position_offset else 0
        self.pad_id, self.batch_size, self.max_batch_tokens = pad_id, batch_size, max_batch_tokens
        self.cache = cache if cache is not None else QuestionStateCache()
        self.weights_sha256, self.variant = weights_sha256, variant
        self.costs = CostSplit()

    # ------------------------------------------------------------------ parts

    def _mask(self, mask, hidden):
        from transformers.masking_utils import create_bidirectional_mask

        # what BertModel / XLMRobertaModel build from the same 2-D mask (eager, sdpa or flash)
        return create_bidirectional_mask(config=self.config, inputs_embeds=hidden, attention_mask=mask)

    def lower(self, parts: Sequence[tuple[Sequence[int], int]]) -> list:
        """Hidden states after the lower layers of each ``(token ids, first position)`` part, unpadded."""
        import torch

        out: list = [None] * len(parts)
        batches = length_sorted_batches([len(ids) for ids, _ in parts], self.batch_size, self.max_batch_tokens)
        for batch in batches:
            width = max(len(parts[i][0]) for i in batch)
            ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            positions = torch.full((len(batch), width), self.pad_position, dtype=torch.long)
            for row, i in enumerate(batch):
                part, first = parts[i]
                n = len(part)
                ids[row, :n] = torch.tensor(part, dtype=torch.long)
                mask[row, :n] = 1
                positions[row, :n] = torch.arange(first, first + n) + self.position_offset
            ids, mask, positions = ids.to(self.device), mask.to(self.device), positions.to(self.device)
            hidden = self.embeddings(input_ids=ids, token_type_ids=torch.zeros_like(ids), position_ids=positions)
            if self.shared_layers:
                attn = self._mask(mask, hidden)
                for layer in self.layers[: self.shared_layers]:
                    hidden = layer(hidden, attn)
            for row, i in enumerate(batch):
                out[i] = hidden[row, : len(parts[i][0])]
        return out

    def upper(self, pieces: Sequence[tuple[object, object]]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Start/end logits of each (question states, window states) pair after the upper layers."""
        import torch

        out: list = [None] * len(pieces)
        lengths = [q.shape[0] + w.shape[0] for q, w in pieces]
        for batch in length_sorted_batches(lengths, self.batch_size, self.max_batch_tokens):
            width = max(lengths[i] for i in batch)
            first = pieces[batch[0]][0]
            hidden = torch.zeros((len(batch), width, first.shape[-1]), dtype=first.dtype, device=first.device)
            mask = torch.zeros((len(batch), width), dtype=torch.long, device=first.device)
            for row, i in enumerate(batch):
                q, w = pieces[i]
                hidden[row, : q.shape[0]] = q
                hidden[row, q.shape[0] : lengths[i]] = w
                mask[row, : lengths[i]] = 1
            attn = self._mask(mask, hidden)
            for layer in self.layers[self.shared_layers :]:
                hidden = layer(hidden, attn)
            logits = self.head(hidden).float()
            start, end = logits[..., 0].cpu().numpy(), logits[..., 1].cpu().numpy()
            for row, i in enumerate(batch):
                out[i] = (start[row, : lengths[i]], end[row, : lengths[i]])
        return out

    # ------------------------------------------------------------------ features

    def question_states(self, prefixes: Sequence[tuple[int, ...]], langs: Sequence[str], catalogue: str) -> list:
        """Lower states of each question part (its ids start at position 0), from the cache when there."""
        keys = [
            QuestionStateCache.key(self.weights_sha256, self.shared_layers, self.variant, catalogue, lang)
            for lang in langs
        ]
        states: list = [self.cache.get(k, ids) for k, ids in zip(keys, prefixes)]
        missing: dict[tuple[str, tuple[int, ...]], list[int]] = {}
        for i, state in enumerate(states):
            if state is None:
                missing.setdefault((keys[i], prefixes[i]), []).append(i)
        self.costs.question_parts_cached += len(prefixes) - sum(map(len, missing.values()))
        if missing:
            t0 = time.perf_counter()
            todo = list(missing)
            computed = self.lower([(ids, 0) for _, ids in todo])
            for (key, ids), state in zip(todo, computed):
                state = state.clone()  # not a view into a whole batch's activations
                self.cache.put(key, ids, state)
                for i in missing[(key, ids)]:
                    states[i] = state
            self.cache.flush()
            self.costs.question_parts_computed += len(todo)
            self.costs.question_lower_s += time.perf_counter() - t0
        return [s.to(self.device) for s in states]

    def infer(
        self, windows: Sequence[Window], langs: Sequence[str], catalogue: str
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Raw (start, end) logits of every window, unpadded, in input order (what ``Reader.infer`` returns).

        ``langs[i]``: the question language of window ``i``; ``catalogue``: :func:`catalogue_digest`.
        """
        import torch

        if not windows:
            return []
        with torch.inference_mode():
            splits = [question_length(w) for w in windows]
            prefixes = [tuple(w.input_ids[:q]) for w, q in zip(windows, splits)]
            q_states = self.question_states(prefixes, langs, catalogue)
            # a window part depends only on its tokens and its first position
            parts: dict[tuple[int, tuple[int, ...]], int] = {}
            part_of = []
            for w, q in zip(windows, splits):
                part_of.append(parts.setdefault((q, tuple(w.input_ids[q:])), len(parts)))
            t0 = time.perf_counter()
            nonempty = [(ids, q) for q, ids in parts if ids]
            lowered = iter(self.lower(nonempty))
            empty = q_states[0][:0]
            part_states = [next(lowered) if ids else empty for _, ids in parts]
            self.costs.window_lower_s += time.perf_counter() - t0
            self.costs.window_parts += len(parts)
            self.costs.window_part_tokens += sum(len(ids) for _, ids in parts)
            self.costs.windows += len(windows)
            self.costs.pair_tokens += sum(len(w) for w in windows)
            t0 = time.perf_counter()
            logits = self.upper([(q, part_states[p]) for q, p in zip(q_states, part_of)])
            self.costs.upper_s += time.perf_counter() - t0
        return logits


def decomposed_encoder(backend, shared_layers: int, *, pad_id: int, cfg, weights_sha256: str) -> DecomposedEncoder:
    """The decomposed encoder over a torch backend's model (``cfg``: the ReaderConfig)."""
    model = getattr(backend, "model", None)
    if model is None or not hasattr(model, "base_model"):
        raise ConfigError(
            f"reader.encoding=decomposed runs on the torch backends (fp32, bf16, int8), not reader.precision={backend.name!r}"
        )
    return DecomposedEncoder(
        model,
        backend.device,
        shared_layers,
        pad_id=pad_id,
        batch_size=cfg.batch_size,
        max_batch_tokens=cfg.max_batch_tokens,
        cache=QuestionStateCache(cfg.question_cache_dir or None),
        weights_sha256=weights_sha256,
        variant=f"{backend.name}:{backend.device}:fusion={cfg.cpu_fusion}",
    )
