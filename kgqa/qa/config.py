"""Typed config of the reader stage (Hydra groups ``model`` and ``reader``)."""

from dataclasses import dataclass, field
from typing import Optional

from omegaconf import MISSING


@dataclass
class ModelConfig:
    #: local checkpoint directory (save_pretrained layout) or, on a machine with hub access, a hub id
    #: required: each option in conf/model/ sets it (model=local leaves it to an override)
    path: str = MISSING
    #: when ``path`` does not exist and ``build_tiny`` is true, a tiny random XLM-R is built there from
    #: config with a locally trained tokenizer (for tests and for a newcomer before a trained model ships)
    build_tiny: bool = False
    name: str = ""


@dataclass
class WindowConfig:
    """Windowing shared by the reader and QA training (question first, only_second truncation)."""

    max_seq_length: int = 384
    doc_stride: int = 128
    max_question_length: int = 64


@dataclass
class ReaderConfig:
    window: WindowConfig = field(default_factory=WindowConfig)
    #: "auto" picks CUDA when present, else CPU
    device: str = "auto"
    #: torch intra-op threads; 0 = torch's default
    threads: int = 0
    #: fp32 | bf16 | int8 | onnx | onnx-int8 | fastest (bf16 on AMX CPUs and GPUs, else onnx-int8)
    precision: str = "fp32"
    batch_size: int = 32
    #: torch fp32/bf16 on CPU: linear layers as oneDNN GEMMs with bias/GELU/residual fused (same arithmetic)
    cpu_fusion: bool = True
    #: cap on rows x padded length of one batch (bounds activation memory); 0 = batch_size alone decides
    max_batch_tokens: int = 0
    #: joint (the whole encoder per question-window pair) | decomposed (lower layers once per note and per
    #: question, upper layers per pair: kgqa.qa.decomposed) | auto (decomposed when the checkpoint records
    #: kgqa_shared_layers, i.e. was fine-tuned for it)
    encoding: str = "auto"
    #: decomposed: lower layers run on question and window separately; None = the checkpoint's kgqa_shared_layers
    shared_layers: Optional[int] = None  # noqa: UP045 (typing.Optional: what OmegaConf reads)
    #: decomposed: directory caching questions' lower-layer states (keyed by weights, K, precision,
    #: catalogue, language); empty = memory only
    question_cache_dir: str = ""
    #: where ONNX exports are cached when the checkpoint directory is read-only; empty = ~/.cache/kgqa/onnx
    onnx_cache_dir: str = ""
    n_best: int = 20
    #: default longest answer in tokens; concepts may set their own
    max_answer_tokens: int = 30
    #: longest answer per value kind (e.g. {integer: 8, date: 12}); a concept's own limit still wins
    max_answer_tokens_by_kind: dict[str, int] = field(default_factory=dict)
    #: which question language is asked of a note: "note" (the note's own), "en", or any language code
    question_lang: str = "note"
    fallback_lang: str = "en"
    #: score margin over the null score a span needs (per-concept overrides below and in the checkpoint's calibration)
    null_threshold: float = 0.0
    null_thresholds: dict[str, float] = field(default_factory=dict)
    #: JSON calibration file; empty = the checkpoint's own ``kgqa_calibration.json`` if it has one
    calibration_file: str = ""
    #: at most this many answers for list concepts
    max_answers_per_list: int = 5
    #: minimum calibrated confidence for an answer to be kept
    min_confidence: float = 0.0
    #: answers begin and end at word edges (no span starting or ending inside a run of letters)
    whole_word_spans: bool = True
    #: answers never cross a line break (false for hard-wrapped text whose values run over lines)
    single_line_spans: bool = True
    #: value kinds whose answers must hold a digit (their values are read from numbers); [] = no such rule
    digit_kinds: list[str] = field(default_factory=lambda: ["integer", "decimal"])
    #: enumeration concepts answer only with a span naming one of their members (a label in the note)
    member_spans: bool = True
    #: concepts of these value kinds answer only with a span the values stage reads as a valid value
    #: (parsed, in the concept's range: "13,9" is no age, "7" no mRS; a yes/no concept's span must state its
    #: topic, a yes/no word, a negation or a reason: a patient-name line asserts no thrombectomy); [] = no such rule
    value_span_kinds: list[str] = field(
        default_factory=lambda: ["integer", "decimal", "duration", "date", "time", "datetime", "boolean"]
    )
    #: a yes/no concept answers with no span that names another asked yes/no concept's topic and not its own
    #: ("MT neindikována" is no answer about hypertension; ``kgqa.values.topic.about_another_topic``)
    own_topic_spans: bool = True
    #: a datetime concept's answer that stops at a date is widened over the clock time written right after
    #: it ("20.02.2024 o godz. 10:12"): the date alone is the wrong value (``decoding.with_clock_time``)
    date_then_time: bool = True
    #: answers overlap no section heading or field label ("Historia clínica previa", "Comorbidities:"):
    #: those name a topic and state no fact (``kgqa.qa.headings``)
    skip_headings: bool = True
    #: one span answers at most one concept of a catalogue ``exclusive`` set (the most confident one keeps it):
    #: admission vs discharge scores, onset vs arrival, home vs discharge drugs (``kgqa.qa.exclusive``)
    exclusive_sets: bool = True
