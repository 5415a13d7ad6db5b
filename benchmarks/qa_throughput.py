"""Reader throughput: kgqa's Reader against the per-(question, note) baseline, in one process.

Workload (identical for every side): notes of ~800 words in the seven languages x N questions,
on a randomly initialised model with the real ``xlm-roberta-base`` architecture (and a small
one), with a SentencePiece tokenizer trained locally. Nothing is downloaded.

Baselines:
  (a) what the current transformers QA guide shows: ``AutoModelForQuestionAnswering`` called per
      (question, note), fp32, with the same windowing (all windows of the pair in one padded
      batch) and the same span constraints (max answer length, context-only, trimmed edges).
  (b) ``QuestionAnsweringPipeline`` of transformers <= 5.2 (removed in 5.3), when
      ``--pipeline-python`` names an interpreter of an environment that still has it; it runs in
      a subprocess on the same checkpoint, notes and questions.

Reported per (model size, mode): question-note pairs/s of each side and their ratio, the
achieved GFLOP/s (useful FLOPs of the unpadded windows / wall time) against a matmul peak
measured here for that precision (the best of every GEMM kernel on offer for it, see
``gemm_kernels``), and top-1 agreement on contexts that fit one window (with baseline (a) for
fp32, with the reader's own fp32 output for other modes; raw, and on the pairs whose fp32 winner
is decisive). The last line of output is one JSON object; ``targets_met`` checks issue 3's
targets on the first model size (the fp32 target on the faster of ``fp32`` and ``onnx``).

Decomposed reading (``--decomposed K``, issue 22): for every torch mode, the joint reader and the
decomposed reader (K shared lower layers, ``kgqa.qa.decomposed``) in the same precision on notes of
``--words`` words x ``--decomposed-questions`` questions (100+: the sharing needs many questions per
note): pairs/s and notes/s of both, wall-clock and CPU-time ratios, top-1 agreement of the decomposed
reader with the joint one (all pairs of the workload), and the cost split (shared lower layers vs
per-pair upper layers). ``--checkpoint DIR`` measures a real checkpoint (e.g. multilingual-e5-small
from ``kgqa models import-e5``) instead of the random XLM-R sizes; with a distilled checkpoint (``kgqa train
distill``) ``--joint-checkpoint`` names the joint reader it was distilled from, which the joint side then reads.

    python benchmarks/qa_throughput.py --quick
    python benchmarks/qa_throughput.py --sizes base,small --modes fp32,int8,onnx,onnx-int8
    python benchmarks/qa_throughput.py --quick --checkpoint .cache/e5-small --modes fp32,bf16 --decomposed 9
    python benchmarks/qa_throughput.py --quick --checkpoint outputs/e5/small_qa_decomposed/model \
        --joint-checkpoint .cache/e5-reader --modes fp32,bf16 --decomposed 10
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ[_var] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import torch

from kgqa.qa import Reader
from kgqa.qa.config import ModelConfig, ReaderConfig, WindowConfig
from kgqa.qa.decoding import DecodeParams, acceptable_span, edge_span
from kgqa.qa.tiny import SEED_TEXTS
from kgqa.qa.trimming import trim_span
from kgqa.qa.windowing import collapse_lone_spaces, encode_windows, lone_space_id
from kgqa.tokenizer import train_unigram_tokenizer
from kgqa.types import Concept, Note

log = logging.getLogger("qa_throughput")

#: xlm-roberta-base's architecture (its config.json), and a small one for a quick second point
SIZES = {
    "base": {
        "vocab_size": 250002,
        "hidden_size": 768,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "intermediate_size": 3072,
    },
    "small": {
        "vocab_size": 250002, "hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4, "intermediate_size": 1024
    },
    # for the benchmark's own smoke test only
    "tiny": {
        "vocab_size": 250002, "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 128
    },
}
MAX_ANSWER_TOKENS = 30

# ----------------------------------------------------------------------------- workload

_EXTRA = (
    "Blood pressure on admission 185/100 mmHg, heart rate 92/min, atrial fibrillation on ECG.",
    "CT angiography showed occlusion of the left middle cerebral artery (M1 segment).",
    "Mechanical thrombectomy started at 15:10, TICI 2b reperfusion at 15:52.",
    "Discharged home on apixaban 5 mg twice daily and atorvastatin 40 mg; mRS 2 at discharge.",
    "Dysphagia screening was performed within 4 hours; no aspiration pneumonia.",
    "Tlak krve při přijetí 170/90 mmHg, glykémie 8,1 mmol/l, CT bez známek krvácení.",
    "Ciśnienie tętnicze 160/95 mmHg, wypisany do domu w stanie dobrym, mRS 1.",
    "Presión arterial 150/85 mmHg; se inició tratamiento con ácido acetilsalicílico 100 mg.",
    "Η αρτηριακή πίεση ήταν 160/90 mmHg και η γλυκόζη 7,4 mmol/l κατά την εισαγωγή.",
    "Артериалното налягане при приема е 170/100 mmHg; назначен е аторвастатин 20 мг.",
    "La externare pacientul a primit clopidogrel 75 mg și atorvastatină 40 mg.",
)
_SUBJECTS = (
    "NIHSS score",
    "blood pressure",
    "glucose level",
    "door-to-needle time",
    "thrombolysis drug",
    "thrombectomy start time",
    "discharge destination",
    "mRS score",
    "antiplatelet drug",
    "anticoagulant",
    "statin dose",
    "occluded artery",
    "stroke type",
    "onset time",
    "arrival time",
    "CT result",
    "reperfusion grade",
    "heart rhythm",
    "smoking status",
    "dysphagia screening",
    "cholesterol",
    "INR value",
    "body temperature",
    "heart rate",
    "hospital stay length",
)
_TIMES = ("on admission", "at discharge", "before the stroke", "after treatment")


def make_notes(n: int, words: int, seed: int = 0) -> list[Note]:
    rng = random.Random(seed)
    pool = list(SEED_TEXTS) + list(_EXTRA)
    langs = ("en", "bg", "cs", "el", "es", "pl", "ro")
    notes = []
    for i in range(n):
        parts: list[str] = []
        while sum(len(p.split()) for p in parts) < words:
            parts.append(rng.choice(pool).replace("8", str(rng.randint(0, 42)), 1))
        notes.append(Note(id=f"bench-{i}", text="\r\n".join(parts), lang=langs[i % len(langs)]))
    return notes


def make_concepts(n: int) -> list[Concept]:
    questions = [f"What was the {s} {t}?" for t in _TIMES for s in _SUBJECTS][:n]
    return [
        Concept(id=f"q{i}", group="bench", kind="text", target_class="x", questions={"en": (q,)})
        for i, q in enumerate(questions)
    ]


def short_contexts(notes: Sequence[Note], words: int) -> list[Note]:
    """The top ``words`` words of each note (cut to one window by :func:`fit_one_window`)."""
    return [Note(id=f"{n.id}-short", text=" ".join(n.text.split(" ")[:words]), lang=n.lang) for n in notes]


def fit_one_window(tokenizer, notes: Sequence[Note], questions: Sequence[str], window: WindowConfig) -> list[Note]:
    """Each note cut (at a word) to the longest top that gives every question a single window.

    The agreement contexts must be single-window: with 120 words of Greek or Bulgarian a locally
    trained tokenizer made every one of them two windows long, which measured windowing, not the model.
    """
    out = []
    for note in notes:
        words = note.text.split(" ")
        while len(words) > 1:
            text = " ".join(words)
            enc = encode_windows(tokenizer, list(questions), [text] * len(questions), window)
            if len(enc) == len(questions):
                break
            words = words[: max(1, int(len(words) * 0.9))]
        out.append(Note(id=note.id, text=" ".join(words), lang=note.lang))
    return out


def build_checkpoint(path: Path, size: str, notes: Sequence[Note]) -> Path:
    if (path / "config.json").exists():
        return path
    from transformers import AutoModelForQuestionAnswering, XLMRobertaConfig

    log.info("building a random %s checkpoint at %s", size, path)
    tokenizer = train_unigram_tokenizer(
        list(SEED_TEXTS) + list(_EXTRA) + [n.text for n in notes], vocab_size=8000
    )
    config = XLMRobertaConfig(
        **SIZES[size],
        max_position_embeddings=514,
        type_vocab_size=1,
        layer_norm_eps=1e-5,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(0)
    model = AutoModelForQuestionAnswering.from_config(config)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


# ----------------------------------------------------------------------------- baseline (a)


#: the reader's default span rules (kgqa.qa.decoding), applied by baseline (a) too
SPAN_RULES = DecodeParams()


class GuideBaseline:
    """AutoModelForQuestionAnswering per (question, note), fp32, as the transformers QA guide does it."""

    def __init__(self, checkpoint: Path, window: WindowConfig) -> None:
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(str(checkpoint))
        self.model = AutoModelForQuestionAnswering.from_pretrained(str(checkpoint)).eval()
        self.window = window
        self.space_id = lone_space_id(self.tokenizer)

    def answer(self, question: str, text: str) -> tuple[int, int] | None:
        windows = encode_windows(self.tokenizer, [question], [text], self.window)
        width = max(len(w) for w in windows)
        ids = torch.full((len(windows), width), self.tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for row, w in enumerate(windows):
            ids[row, : len(w)] = torch.tensor(w.input_ids)
            mask[row, : len(w)] = 1
        with torch.no_grad():
            out = self.model(input_ids=ids, attention_mask=mask)
        best: tuple[float, tuple[int, int] | None] = (-np.inf, None)
        for row, w in enumerate(windows):
            offsets = collapse_lone_spaces(w, self.space_id)
            s = out.start_logits[row, : len(w)].numpy()
            e = out.end_logits[row, : len(w)].numpy()
            # exhaustive search: every (start, end) of context tokens within the length limit
            for i, first in enumerate(offsets):
                for j in range(i, min(i + MAX_ANSWER_TOKENS, len(offsets))) if first is not None else ():
                    if offsets[j] is not None and s[i] + e[j] > best[0]:
                        span = edge_span(text, first[0], offsets[j][1], SPAN_RULES)
                        # the reader's span rules (edges, whole numbers, one line) on both sides: like for like
                        if span is not None and acceptable_span(text, span[0], span[1], SPAN_RULES):
                            best = (float(s[i] + e[j]), span)
        return best[1]


# ----------------------------------------------------------------------------- FLOPs and peaks


def window_flops(n: int, cfg: dict) -> float:
    """Matmul FLOPs of one forward over n tokens (projections, FFN, attention, QA head)."""
    h, i, layers = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    return layers * (8 * n * h * h + 4 * n * h * i + 4 * n * n * h) + 4 * n * h


def _best_time(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


#: the arithmetic each mode's GEMMs run in: modes of one precision share one peak
PRECISION = {"fp32": "fp32", "onnx": "fp32", "bf16": "bf16", "int8": "int8", "onnx-int8": "int8"}
#: (m, k, n): a transformer-shaped GEMM (one 384-token window x FFN weight) and a large square one
PEAK_SHAPES = ((384, 768, 3072), (2048, 2048, 2048))


def _onnx_gemm(m: int, k: int, n: int, quantised: bool):
    """An ONNX Runtime session of one MatMul (int8: dynamically quantised, i.e. MatMulInteger)."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.random.randn(k, n).astype(np.float32), "W")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["Y"])],
        "gemm",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [m, k])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [m, n])],
        [weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gemm.onnx"
        onnx.save(model, path)
        if quantised:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(str(path), str(Path(tmp) / "gemm.int8.onnx"), weight_type=QuantType.QInt8)
            path = Path(tmp) / "gemm.int8.onnx"
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    xs = np.random.randn(m, k).astype(np.float32)
    return lambda: session.run(None, {"X": xs})


@functools.cache
def gemm_kernels(precision: str) -> tuple[tuple[str, float, object], ...]:
    """(name, flops, callable) of every GEMM kernel this machine offers for ``precision``.

    The peak of a precision is the best of them, so a mode is measured against the fastest GEMM
    it could have used, not only the one it does use: fp32 — MKL sgemm (torch.matmul), oneDNN's
    reordered-weight GEMM (what the fused torch backends run), MLAS (ONNX Runtime); bf16 — torch
    and oneDNN (AMX where present); int8 — torch's ``_int_mm`` (pure s8 GEMM, no quantisation
    cost), fbgemm dynamic-quantised Linear, ONNX Runtime's dynamic quantised MatMul (MatMulInteger).
    """
    kernels = []
    for m, k, n in PEAK_SHAPES:
        flops = 2.0 * m * k * n
        tag = f"{m}x{k}x{n}"
        if precision in ("fp32", "bf16"):
            dtype = torch.float32 if precision == "fp32" else torch.bfloat16
            a, b = torch.randn(m, k).to(dtype), torch.randn(k, n).to(dtype)
            kernels.append((f"torch.matmul {tag}", flops, functools.partial(torch.matmul, a, b)))
            if hasattr(torch.ops.mkldnn, "_linear_pointwise") and torch.backends.mkldnn.is_available():
                try:
                    packed = torch.ops.mkldnn._reorder_linear_weight(b.t().contiguous(), None)
                    op = functools.partial(torch.ops.mkldnn._linear_pointwise, a, packed, None, "none", [], "")
                    op()
                    kernels.append((f"onednn {tag}", flops, op))
                except RuntimeError:
                    pass
            if precision == "fp32":
                kernels.append((f"onnxruntime {tag}", flops, _onnx_gemm(m, k, n, quantised=False)))
        else:
            a = torch.randint(-128, 127, (m, k), dtype=torch.int8)
            b = torch.randint(-128, 127, (k, n), dtype=torch.int8)
            if hasattr(torch, "_int_mm"):
                try:
                    torch._int_mm(a, b)
                    kernels.append((f"torch._int_mm {tag}", flops, functools.partial(torch._int_mm, a, b)))
                except RuntimeError:
                    pass
            lin = torch.ao.quantization.quantize_dynamic(
                torch.nn.Sequential(torch.nn.Linear(k, n)), {torch.nn.Linear}
            )
            kernels.append((f"fbgemm dynamic {tag}", flops, functools.partial(lin, torch.randn(m, k))))
            kernels.append((f"onnxruntime int8 {tag}", flops, _onnx_gemm(m, k, n, quantised=True)))
    return tuple(kernels)


def matmul_peak_gflops(mode: str, repeats: int = 8) -> tuple[float, str]:
    """The best GFLOP/s (and its kernel) of any GEMM of the mode's precision, measured now."""
    best = (0.0, "")
    with torch.inference_mode():
        for name, flops, fn in gemm_kernels(PRECISION[mode]):
            best = max(best, (flops / _best_time(fn, repeats) / 1e9, name))
    return best


# ----------------------------------------------------------------------------- sides


def top1(decoded) -> tuple[int, int] | None:
    return (decoded.candidates[0].start, decoded.candidates[0].end) if decoded.candidates else None


def decisive_mask(decoded: Sequence, fraction: float = 0.1) -> list[bool]:
    """Pairs whose top-1 leads the runner-up by more than ``fraction`` of the spread of candidate scores.

    Random weights give nearly Gaussian span scores, so the top two candidates are often within
    rounding distance of each other; a trained model's are not. Agreement on the decisive pairs
    separates "the mode computes something else" from "the mode breaks a coin-flip tie".
    """
    spread = float(np.std([c.score for d in decoded for c in d.candidates])) or 1.0
    return [
        len(d.candidates) > 1 and d.candidates[0].score - d.candidates[1].score > fraction * spread
        for d in decoded
    ]


def word_span(text: str, span: tuple[int, int] | None) -> tuple[int, int] | None:
    """A span widened to whole whitespace-delimited words, then trimmed.

    The 5.2 pipeline widens every answer to the words its first and last tokens belong to
    (``token_to_word`` / ``word_to_chars``); comparing with it on token-level spans would count
    every sub-word answer as a disagreement.
    """
    if span is None:
        return None
    start, end = span
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return trim_span(text, start, end)


def agreement(a: Sequence[tuple[int, int] | None], b: Sequence[tuple[int, int] | None]) -> float:
    return float(np.mean([x == y for x, y in zip(a, b)])) if a else float("nan")


def checkpoint_tokenizer(checkpoint: str):
    """The checkpoint's own tokenizer.json as a ``PreTrainedTokenizerFast``, its pair template included.

    transformers 5.2's ``XLMRobertaTokenizer`` rebuilds pair inputs as ``<s> A </s> B </s>`` (one ``</s>``
    short of the template in tokenizer.json), so the 5.2 side fed the model inputs it never saw and its
    top-1 agreement read 0.0. The fast class reads the template from the file: the same ids as the reader.
    Runs in the 5.2 interpreter too (its source is sent there), so it uses nothing but transformers.
    """
    import json as _json
    from pathlib import Path as _Path

    from transformers import PreTrainedTokenizerFast

    path = _Path(checkpoint)
    config_file = path / "tokenizer_config.json"
    config = _json.loads(config_file.read_text(encoding="utf-8")) if config_file.is_file() else {}
    specials = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
    kwargs = {k: config[k] for k in specials if isinstance(config.get(k), str)}
    if isinstance(config.get("model_max_length"), int):
        kwargs["model_max_length"] = config["model_max_length"]
    return PreTrainedTokenizerFast(tokenizer_file=str(path / "tokenizer.json"), **kwargs)


def run_pipeline_baseline(python: str, checkpoint: Path, work: Workload, window: WindowConfig) -> dict:
    """transformers <= 5.2's QuestionAnsweringPipeline in another interpreter, same inputs.

    Returns its pairs/s on the workload and its top-1 spans on the single-window contexts, trimmed
    like the reader's (on one window its softmax ranking equals the raw start + end ranking).
    Its tokenizer is :func:`checkpoint_tokenizer` (5.2's ``AutoTokenizer`` gets XLM-R's pair template wrong).
    """
    import inspect

    script = inspect.getsource(checkpoint_tokenizer) + r"""
import json, sys, time
from transformers import AutoModelForQuestionAnswering, QuestionAnsweringPipeline
job = json.load(open(sys.argv[1]))
tok = checkpoint_tokenizer(job["checkpoint"])
model = AutoModelForQuestionAnswering.from_pretrained(job["checkpoint"]).eval()
pipe = QuestionAnsweringPipeline(model=model, tokenizer=tok, device=-1)
kw = dict(max_seq_len=job["max_seq_length"], doc_stride=job["doc_stride"],
          max_question_len=job["max_question_length"], max_answer_len=job["max_answer_len"],
          top_k=1, handle_impossible_answer=False)
pipe(question=job["pairs"][0][0], context=job["pairs"][0][1], **kw)
t0 = time.perf_counter()
out = [pipe(question=q, context=c, **kw) for q, c in job["pairs"]]
seconds = time.perf_counter() - t0
agree = [pipe(question=q, context=c, **kw) for q, c in job["agree_pairs"]]
print(json.dumps({"seconds": seconds, "agree_spans": [[o["start"], o["end"]] for o in agree]}))
"""
    pairs = [[c.questions["en"][0], n.text] for n in work.notes for c in work.concepts]
    short = [(c.questions["en"][0], n.text) for n in work.short for c in work.agree_concepts]
    job = {
        "checkpoint": str(checkpoint),
        "pairs": pairs,
        "agree_pairs": short,
        "max_seq_length": window.max_seq_length,
        "doc_stride": window.doc_stride,
        "max_question_length": window.max_question_length,
        "max_answer_len": MAX_ANSWER_TOKENS,
    }
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "job.json").write_text(json.dumps(job))
        (Path(tmp) / "run.py").write_text(script)
        proc = subprocess.run(
            [python, str(Path(tmp) / "run.py"), str(Path(tmp) / "job.json")],
            check=False,  # a failure is reported below with the other interpreter's stderr
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": ""},
        )
    if proc.returncode != 0:
        raise RuntimeError(f"--pipeline-python {python}: {proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    spans = [word_span(text, (start, end)) for (_, text), (start, end) in zip(short, result["agree_spans"])]
    return {"pairs_per_s": len(pairs) / result["seconds"], "top1": spans}


@dataclass
class Workload:
    notes: list[Note]
    concepts: list[Concept]
    short: list[Note]
    agree_concepts: list[Concept]
    #: decomposed vs joint (--decomposed): many questions per note
    decomposed_notes: list[Note] = dataclasses.field(default_factory=list)
    decomposed_concepts: list[Concept] = dataclasses.field(default_factory=list)

    @property
    def pairs(self) -> int:
        return len(self.notes) * len(self.concepts)


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bench_size(size: str, modes: Sequence[str], work: Workload, workdir: Path, args) -> list[dict]:
    """One model size: every mode timed right after a baseline run, so both see the same machine load.

    The CPU is shared, so each side is run ``args.rounds`` times, alternating, and its best time counts.
    """
    if args.checkpoint:
        checkpoint = with_fixed_head(Path(args.checkpoint), workdir)
        arch = checkpoint_arch(checkpoint)
        model_cfg = ModelConfig(path=str(checkpoint), name=size)
    else:
        checkpoint = build_checkpoint(workdir / f"xlmr-{size}-random", size, work.notes)
        arch = SIZES[size]
        model_cfg = ModelConfig(path=str(checkpoint), name=f"random-xlmr-{size}")
    window = WindowConfig()

    baseline = GuideBaseline(checkpoint, window)
    work = dataclasses.replace(
        work,
        short=fit_one_window(
            baseline.tokenizer, work.short, [c.questions["en"][0] for c in work.agree_concepts], window
        ),
    )
    baseline.answer(work.concepts[0].questions["en"][0], work.short[0].text)  # warm-up

    def run_baseline() -> None:
        for note in work.notes:
            for concept in work.concepts:
                baseline.answer(concept.questions["en"][0], note.text)

    base_top1 = [
        baseline.answer(c.questions["en"][0], n.text) for n in work.short for c in work.agree_concepts
    ]

    pipeline = None
    if args.pipeline_python:
        pipeline = run_pipeline_baseline(args.pipeline_python, checkpoint, work, window)
        log.info("[%s] baseline (b) pipeline 5.2: %.3f pairs/s", size, pipeline["pairs_per_s"])

    results = []
    fp32_top1 = None
    fp32_decisive: list[bool] = []
    for mode in modes:
        cfg = ReaderConfig(
            window=window,
            precision=mode,
            null_threshold=-1e9,
            max_answer_tokens=MAX_ANSWER_TOKENS,
            threads=args.threads,
            # issue 3's rows are the joint reader against the transformers recipe, also for a checkpoint that
            # records kgqa_shared_layers (which reader.encoding=auto would read decomposed: --decomposed's rows)
            encoding="joint",
        )
        t_load = time.perf_counter()
        reader = Reader.from_config(model_cfg, cfg)
        load_s = time.perf_counter() - t_load
        reader.read(work.short[:1], work.concepts[:1])  # warm-up (allocators, ORT first run)
        run_kgqa = functools.partial(reader.read, work.notes, work.concepts)
        base_times, kgqa_times, peaks = [], [], []  # peaks: (GFLOP/s, kernel)
        for _ in range(args.rounds):
            base_times.append(_timed(run_baseline))
            # the peak is sampled next to the timed run, under the same machine load
            peaks.append(matmul_peak_gflops(mode))
            kgqa_times.append(_timed(run_kgqa))
            peaks.append(matmul_peak_gflops(mode))
        base_rate = work.pairs / min(base_times)
        kgqa_s = min(kgqa_times)
        pairs = reader.pairs(work.notes, work.concepts)
        windows = encode_windows(
            reader.tokenizer, [p.question for p in pairs], [p.note.text for p in pairs], window
        )
        flops = sum(window_flops(len(w), arch) for w in windows)
        short_pairs = reader.pairs(work.short, work.agree_concepts)
        decoded = reader.decode_pairs(short_pairs)
        mode_top1 = [top1(d) for d in decoded]
        if mode == "fp32":
            fp32_top1, fp32_decisive = mode_top1, decisive_mask(decoded)
        del reader, run_kgqa
        peak, peak_kernel = max(peaks)
        achieved = flops / kgqa_s / 1e9
        rate = work.pairs / kgqa_s
        row = {
            "model_size": size,
            "mode": mode,
            "kgqa_pairs_per_s": round(rate, 4),
            "baseline_pairs_per_s": round(base_rate, 4),
            "ratio": round(rate / base_rate, 3),
            "top1_agreement": round(agreement(mode_top1, base_top1), 4),
            "top1_agreement_vs_fp32": None
            if fp32_top1 is None
            else round(agreement(mode_top1, fp32_top1), 4),
            "top1_agreement_vs_fp32_decisive": None
            if fp32_top1 is None
            else round(
                agreement(
                    [t for t, k in zip(mode_top1, fp32_decisive) if k],
                    [t for t, k in zip(fp32_top1, fp32_decisive) if k],
                ),
                4,
            ),
            "decisive_pairs": sum(fp32_decisive),
            "agreement_pairs": len(mode_top1),
            "achieved_gflops": round(achieved, 2),
            "matmul_peak_gflops": round(peak, 2),
            "gemm_peak_fraction": round(achieved / peak, 3),
            "peak_kernel": peak_kernel,
            "windows": len(windows),
            "load_s": round(load_s, 1),
        }
        if pipeline:
            row["pipeline52_pairs_per_s"] = round(pipeline["pairs_per_s"], 4)
            row["ratio_vs_pipeline52"] = round(rate / pipeline["pairs_per_s"], 3)
            texts = [n.text for n in work.short for _ in work.agree_concepts]
            words = [word_span(t, span) for t, span in zip(texts, mode_top1)]
            row["top1_agreement_vs_pipeline52"] = round(agreement(words, pipeline["top1"]), 4)
        log.info("[%s] %s", size, json.dumps(row))
        results.append(row)
    if args.decomposed is not None:
        for row in bench_decomposed(model_cfg, window, arch, modes, work, args):
            fp32_base = next((r["baseline_pairs_per_s"] for r in results if r["mode"] == "fp32"), None)
            base = fp32_base or (results[0]["baseline_pairs_per_s"] if results else None)
            row["model_size"] = size
            row["baseline_pairs_per_s"] = base
            row["decomposed_vs_baseline_a"] = round(row["decomposed_pairs_per_s"] / base, 3) if base else None
            log.info("[%s] decomposed %s", size, json.dumps(row))
            results.append(row)
    return results


def with_fixed_head(checkpoint: Path, workdir: Path) -> Path:
    """``checkpoint``, or a copy of it with a seeded QA head when it has none (an encoder such as e5-small).

    Without one, every load draws another random head: the reader, baseline (a) and each mode would
    read with different models and agree on nothing (they read 0.0). The copy goes under ``workdir``;
    the checkpoint itself is never written to.
    """
    from transformers import AutoModelForQuestionAnswering

    model, info = AutoModelForQuestionAnswering.from_pretrained(str(checkpoint), output_loading_info=True)
    if not any(k.startswith("qa_outputs") for k in info.get("missing_keys", ())):
        return checkpoint
    out = workdir / f"{checkpoint.name}-qa-head-seed0"
    if not (out / "config.json").is_file():
        torch.manual_seed(0)
        model.qa_outputs.reset_parameters()
        model.save_pretrained(out)
        for f in checkpoint.iterdir():
            if f.name.startswith(("tokenizer", "special_tokens", "sentencepiece")) and f.is_file():
                (out / f.name).write_bytes(f.read_bytes())
        log.info("%s has no QA head: benchmarking a copy with a seeded random head at %s", checkpoint, out)
    return out


def checkpoint_arch(checkpoint: Path) -> dict:
    """The SIZES-style architecture of a real checkpoint (for FLOP counts)."""
    config = json.loads((checkpoint / "config.json").read_text(encoding="utf-8"))
    return {k: config[k] for k in ("hidden_size", "num_hidden_layers", "intermediate_size", "num_attention_heads")}


def layer_flops(n: int, cfg: dict) -> float:
    """Matmul FLOPs of one encoder layer over n tokens."""
    h, i = cfg["hidden_size"], cfg["intermediate_size"]
    return 8 * n * h * h + 4 * n * h * i + 4 * n * n * h


def _timed_cpu(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process, all threads)."""
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


#: the precisions decomposed reading runs in (torch backends)
DECOMPOSED_MODES = ("fp32", "bf16", "int8")


def bench_decomposed(model_cfg: ModelConfig, window: WindowConfig, arch: dict, modes: Sequence[str], work: Workload, args) -> list[dict]:
    """Joint vs decomposed reader in the same precision, on notes x ``--decomposed-questions`` questions.

    The joint side reads ``--joint-checkpoint`` where given (the teacher a distilled checkpoint was
    fine-tuned from: the reader it replaces), else the same weights as the decomposed side."""
    joint_cfg = ModelConfig(path=args.joint_checkpoint, name="joint") if args.joint_checkpoint else None
    from kgqa.qa.decomposed import question_length

    k, layers = args.decomposed, arch["num_hidden_layers"]
    notes, concepts = work.decomposed_notes, work.decomposed_concepts
    pairs_n = len(notes) * len(concepts)
    rows = []
    for mode in [m for m in modes if m in DECOMPOSED_MODES]:
        readers = {}
        for encoding in ("joint", "decomposed"):
            side_cfg = joint_cfg if encoding == "joint" and joint_cfg is not None else model_cfg
            cfg = ReaderConfig(
                window=window,
                precision=mode,
                null_threshold=-1e9,
                max_answer_tokens=MAX_ANSWER_TOKENS,
                threads=args.threads,
                encoding=encoding,
                shared_layers=k if encoding == "decomposed" else None,
            )
            readers[encoding] = Reader.from_config(side_cfg, cfg)
            readers[encoding].read(work.short[:1], concepts[:1])  # warm-up
        joint, decomposed = readers["joint"], readers["decomposed"]
        wall: dict[str, list[float]] = {"joint": [], "decomposed": []}
        cpu: dict[str, list[float]] = {"joint": [], "decomposed": []}
        for _ in range(args.rounds):
            for encoding, reader in readers.items():
                if encoding == "decomposed":
                    # the split of the last round; its question states are cached after the first round,
                    # as in a run (computed once per checkpoint, catalogue and language)
                    decomposed.decomposed.costs = type(decomposed.decomposed.costs)()
                w, c = _timed_cpu(functools.partial(reader.read, notes, concepts))
                wall[encoding].append(w)
                cpu[encoding].append(c)
        costs = decomposed.decomposed.costs.as_dict()
        pairs = joint.pairs(notes, concepts)
        joint_decoded = joint.decode_pairs(pairs)
        joint_top1 = [top1(d) for d in joint_decoded]
        dec_top1 = [top1(d) for d in decomposed.decode_pairs(pairs)]
        decisive = decisive_mask(joint_decoded)
        short_pairs = joint.pairs(work.short, work.agree_concepts)
        short_agree = agreement(
            [top1(d) for d in decomposed.decode_pairs(short_pairs)], [top1(d) for d in joint.decode_pairs(short_pairs)]
        )
        # FLOPs of each side (windows as the reader builds them)
        windows = encode_windows(joint.tokenizer, [p.question for p in pairs], [p.note.text for p in pairs], window)
        joint_flops = sum(layers * layer_flops(len(w), arch) for w in windows)
        parts = {(question_length(w), tuple(w.input_ids[question_length(w):])) for w in windows}
        questions = {tuple(w.input_ids[: question_length(w)]) for w in windows}
        lower_flops = sum(k * layer_flops(len(ids), arch) for _, ids in parts)
        question_flops = sum(k * layer_flops(len(ids), arch) for ids in questions)
        upper_flops = sum((layers - k) * layer_flops(len(w), arch) for w in windows)
        dec_wall, joint_wall = min(wall["decomposed"]), min(wall["joint"])
        dec_cpu, joint_cpu = min(cpu["decomposed"]), min(cpu["joint"])
        row = {
            "mode": mode,
            "encoding": "decomposed",
            "shared_layers": k,
            "joint_checkpoint": args.joint_checkpoint or None,
            "layers": layers,
            "notes": len(notes),
            "questions": len(concepts),
            "windows": len(windows),
            "decomposed_pairs_per_s": round(pairs_n / dec_wall, 4),
            "joint_pairs_per_s": round(pairs_n / joint_wall, 4),
            "decomposed_notes_per_s": round(len(notes) / dec_wall, 5),
            "joint_notes_per_s": round(len(notes) / joint_wall, 5),
            "decomposed_speedup": round(joint_wall / dec_wall, 3),
            "decomposed_speedup_cpu_time": round(joint_cpu / dec_cpu, 3),
            "decomposed_cpu_s": round(dec_cpu, 2),
            "joint_cpu_s": round(joint_cpu, 2),
            "decomposed_top1_agreement": round(agreement(dec_top1, joint_top1), 4),
            "decomposed_top1_agreement_decisive": round(
                agreement([t for t, m in zip(dec_top1, decisive) if m], [t for t, m in zip(joint_top1, decisive) if m]), 4
            ),
            "decomposed_top1_agreement_single_window": round(short_agree, 4),
            "flops_ratio": round(joint_flops / (lower_flops + question_flops + upper_flops), 3),
            "flops_split": {
                "window_lower": round(lower_flops / 1e12, 4),
                "question_lower_once": round(question_flops / 1e12, 4),
                "upper": round(upper_flops / 1e12, 4),
                "joint": round(joint_flops / 1e12, 4),
                "unit": "TFLOP",
            },
            "cost_split": costs,
            "distinct_question_lengths": len({q for q, _ in parts}),
        }
        rows.append(row)
        del readers, joint, decomposed
    return rows


def common_peaks(rows: Sequence[dict], samples: Sequence[tuple[str, tuple[float, str]]] = ()) -> None:
    """Every row's peak becomes the best sampled for its precision anywhere in the run (in place).

    On a shared CPU a mode's own few peak samples can all land in a busy moment, which would flatter
    its fraction; the run-wide best of the precision is the conservative ceiling.
    """
    best: dict = {}
    for key, sample in samples:
        best[key] = max(best.get(key, (0.0, "")), sample)
    for row in rows:
        key = PRECISION[row["mode"]]
        best[key] = max(best.get(key, (0.0, "")), (row["matmul_peak_gflops"], row["peak_kernel"]))
    for row in rows:
        peak, kernel = best[PRECISION[row["mode"]]]
        row["matmul_peak_gflops"], row["peak_kernel"] = round(peak, 2), kernel
        row["gemm_peak_fraction"] = round(row["achieved_gflops"] / peak, 3)


def fp32_summary(rows: Sequence[dict]) -> dict:
    """The reader's fastest fp32 mode (torch ``fp32`` or ONNX Runtime ``onnx``, both fp32 arithmetic)."""
    fp32_rows = [r for r in rows if PRECISION[r["mode"]] == "fp32"]
    if not fp32_rows:
        return {}
    best = max(fp32_rows, key=lambda r: r["kgqa_pairs_per_s"])
    return {
        "fp32_mode": best["mode"],
        "fp32_ratio": best["ratio"],
        "fp32_top1_agreement": best["top1_agreement"],
    }


def decomposed_summary(rows: Sequence[dict]) -> dict:
    """Issue 22's keys, from the fastest decomposed mode of the first size (both sides in its precision)."""
    if not rows:
        return {}
    first = [r for r in rows if r["model_size"] == rows[0]["model_size"]]
    best = max(first, key=lambda r: r["decomposed_pairs_per_s"])
    keys = (
        "decomposed_pairs_per_s",
        "joint_pairs_per_s",
        "decomposed_speedup",
        "decomposed_speedup_cpu_time",
        "decomposed_top1_agreement",
        "decomposed_vs_baseline_a",
        "shared_layers",
    )
    return {**{k: best[k] for k in keys}, "decomposed_mode": best["mode"]}


def targets_met(rows: Sequence[dict], head: dict) -> dict:
    """Issue 3's targets, checked on the first model size (None: not measured in this run)."""
    fp32 = fp32_summary(rows)
    vs_pipeline = head.get("ratio_vs_pipeline52")
    return {
        "fp32_ratio_ge_1.5": fp32["fp32_ratio"] >= 1.5 if fp32 else None,
        "fp32_agreement_ge_0.99": fp32["fp32_top1_agreement"] >= 0.99 if fp32 else None,
        "fastest_ratio_ge_4": head["ratio"] >= 4,
        "fastest_vs_pipeline52_ge_4": None if vs_pipeline is None else vs_pipeline >= 4,
        "fastest_peak_fraction_ge_0.5": head["gemm_peak_fraction"] >= 0.5,
        "fastest_agreement_vs_fp32_ge_0.97": None
        if head.get("top1_agreement_vs_fp32") is None
        else head["top1_agreement_vs_fp32"] >= 0.97,
        "fastest_agreement_vs_fp32_decisive_ge_0.97": None
        if head.get("top1_agreement_vs_fp32_decisive") is None
        else head["top1_agreement_vs_fp32_decisive"] >= 0.97,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="2 notes (400 words) x 3 questions, 1 round, 4 modes"
    )
    parser.add_argument("--notes", type=int, default=20)
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--words", type=int, default=800)
    parser.add_argument("--sizes", default="base,small", help="comma-separated: base, small")
    parser.add_argument(
        "--modes",
        default="",
        help="default: fp32,bf16,int8,onnx,onnx-int8; --quick: fp32,bf16,onnx,onnx-int8",
    )
    parser.add_argument("--threads", type=int, default=0, help="torch/ORT threads (0 = their default)")
    parser.add_argument(
        "--rounds", type=int, default=0, help="alternating timed runs per side; the best counts (default 2, --quick 1)"
    )
    parser.add_argument(
        "--pipeline-python", default="", help="python of an env with transformers<=5.2 (baseline b)"
    )
    parser.add_argument("--workdir", default=str(Path.home() / ".cache" / "kgqa" / "bench"))
    parser.add_argument(
        "--checkpoint", default="", help="a real checkpoint directory instead of the random --sizes (one size)"
    )
    parser.add_argument(
        "--decomposed", type=int, default=None, metavar="K",
        help="also time decomposed reading with K shared lower layers against the joint reader (torch modes)",
    )
    parser.add_argument(
        "--joint-checkpoint", default="",
        help="the joint side of --decomposed reads this checkpoint (a distilled checkpoint's teacher); default --checkpoint",
    )
    parser.add_argument(
        "--decomposed-questions", type=int, default=100, help="questions per note of the decomposed comparison"
    )
    parser.add_argument(
        "--decomposed-notes", type=int, default=0, help="notes of the decomposed comparison (default --notes; --quick 1)"
    )
    args = parser.parse_args(argv)
    # onnxruntime.quantization logs every tensor on the root logger at INFO: keep the root at WARNING
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    log.setLevel(logging.INFO)
    warnings.filterwarnings("ignore")
    if args.quick:
        args.notes, args.questions, args.words = 2, 3, 400
    args.rounds = args.rounds or (1 if args.quick else 2)
    if not args.modes:
        args.modes = "fp32,bf16,onnx,onnx-int8" if args.quick else "fp32,bf16,int8,onnx,onnx-int8"
    if args.threads:
        torch.set_num_threads(args.threads)
    notes = make_notes(args.notes, args.words)
    concepts = make_concepts(args.questions)
    short = short_contexts(make_notes(max(args.notes, 8), 120, seed=1), 120)
    # agreement runs on single-window contexts; cheap, so even --quick gets 40 pairs
    work = Workload(notes, concepts, short, make_concepts(5 if args.quick else 25))
    if args.decomposed is not None:
        n = args.decomposed_notes or (1 if args.quick else args.notes)
        work.decomposed_notes = make_notes(n, args.words, seed=2)
        work.decomposed_concepts = make_concepts(args.decomposed_questions)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if "fp32" in modes:  # fp32 first: the other modes' agreement is measured against it
        modes = ["fp32"] + [m for m in modes if m != "fp32"]
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    # peak samples of each precision before and after the run join those taken next to timed runs
    samples = [(PRECISION[m], matmul_peak_gflops(m)) for m in modes]
    results = []
    sizes = [Path(args.checkpoint).name] if args.checkpoint else [s.strip() for s in args.sizes.split(",") if s.strip()]
    for size in sizes:
        results.extend(bench_size(size, modes, work, workdir, args))
    samples += [(PRECISION[m], matmul_peak_gflops(m)) for m in modes]
    decomposed_rows = [r for r in results if r.get("encoding") == "decomposed"]
    results = [r for r in results if r.get("encoding") != "decomposed"]
    common_peaks(results, samples)
    # headline: the fastest mode on the first (largest) size
    first = [r for r in results if r["model_size"] == results[0]["model_size"]]
    head = max(first, key=lambda r: r["kgqa_pairs_per_s"])
    summary = {
        **{
            k: head[k]
            for k in (
                "kgqa_pairs_per_s",
                "baseline_pairs_per_s",
                "ratio",
                "top1_agreement",
                "mode",
                "model_size",
                "gemm_peak_fraction",
                "top1_agreement_vs_fp32",
                "top1_agreement_vs_fp32_decisive",
                "pipeline52_pairs_per_s",
                "ratio_vs_pipeline52",
            )
            if k in head
        },
        **fp32_summary(first),
        **decomposed_summary(decomposed_rows),
        "targets_met": targets_met(first, head),
        "pairs": work.pairs,
        "threads": torch.get_num_threads(),
        "quick": args.quick,
        "results": results,
    }
    if decomposed_rows:
        summary["decomposed_results"] = decomposed_rows
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
