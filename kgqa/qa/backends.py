"""Inference backends, chosen by ``reader.precision`` through a registry.

Every backend maps padded ``(input_ids, attention_mask)`` int64 arrays to float32
``(start_logits, end_logits)`` arrays; decoding never sees which one ran.

- ``fp32``: PyTorch, float32 (the reference).
- ``bf16``: PyTorch, bfloat16 weights and activations (GPUs and CPUs with AMX/AVX512-BF16).
  On CPU both run their linear layers as oneDNN GEMMs with fused bias/GELU/residual
  (:mod:`~kgqa.qa.fusion`; ``reader.cpu_fusion``).
- ``int8``: PyTorch dynamic quantisation of every ``nn.Linear`` (CPU only).
- ``onnx`` / ``onnx-int8``: ONNX Runtime on an exported, optimised graph (int8: dynamic
  quantisation); the fastest on CPUs without AMX.
- ``fastest``: one of the above, picked for the hardware (:func:`fastest_precision`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from kgqa.errors import ConfigError

log = logging.getLogger(__name__)

Logits = tuple[np.ndarray, np.ndarray]


class Backend(Protocol):
    name: str

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> Logits: ...


@dataclass(frozen=True)
class BackendSpec:
    """What a backend factory needs to know."""

    checkpoint: Path
    weights_sha256: str
    device: str
    threads: int
    onnx_cache_dir: str = ""
    #: fuse bias/GELU/residual into oneDNN GEMMs on CPU (torch fp32/bf16; see fusion.py)
    cpu_fusion: bool = True


class TorchBackend:
    def __init__(self, model, device: str, dtype, name: str) -> None:
        self.model, self.device, self.dtype, self.name = model, device, dtype, name

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> Logits:
        import torch

        with torch.inference_mode():
            out = self.model(
                input_ids=torch.from_numpy(input_ids).to(self.device),
                attention_mask=torch.from_numpy(attention_mask).to(self.device),
            )
            return (
                out.start_logits.float().cpu().numpy(),
                out.end_logits.float().cpu().numpy(),
            )


def _torch(spec: BackendSpec, precision: str) -> Backend:
    import torch

    from kgqa.qa.checkpoint import load_model

    model = load_model(spec.checkpoint)
    dtype = torch.float32
    if precision == "bf16":
        dtype = torch.bfloat16
        model = model.to(dtype)
    elif precision == "int8":
        if spec.device != "cpu":
            raise ConfigError(
                f"reader.precision: int8 (dynamic quantisation) runs on CPU only, not {spec.device!r}"
            )
        model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    model = model.to(spec.device).eval()
    if spec.cpu_fusion and spec.device == "cpu" and precision in ("fp32", "bf16"):
        from kgqa.qa.fusion import fuse_linear_layers, fusion_available

        if fusion_available(dtype):
            model = fuse_linear_layers(model)
    return TorchBackend(model, spec.device, dtype, precision)


class OnnxBackend:
    def __init__(self, session, name: str) -> None:
        self.session, self.name = session, name

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> Logits:
        start, end = self.session.run(
            ["start_logits", "end_logits"], {"input_ids": input_ids, "attention_mask": attention_mask}
        )
        return start.astype(np.float32, copy=False), end.astype(np.float32, copy=False)


def _onnx(spec: BackendSpec, quantised: bool) -> Backend:
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise ConfigError(
            "reader.precision: onnx backends need onnxruntime (pip install 'kgqa[onnx]')"
        ) from exc
    from transformers import AutoConfig

    from kgqa.qa.onnx_export import exported_model

    config = AutoConfig.from_pretrained(str(spec.checkpoint))
    path = exported_model(
        spec.checkpoint,
        spec.weights_sha256,
        quantised=quantised,
        num_heads=int(getattr(config, "num_attention_heads", 0) or 0),
        hidden_size=int(getattr(config, "hidden_size", 0) or 0),
        cache=spec.onnx_cache_dir,
    )
    options = ort.SessionOptions()
    if spec.threads > 0:
        options.intra_op_num_threads = spec.threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    providers = ["CPUExecutionProvider"]
    if spec.device.startswith("cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
        providers.insert(0, "CUDAExecutionProvider")
    log.info("ONNX Runtime session on %s (%s)", path, ", ".join(providers))
    return OnnxBackend(
        ort.InferenceSession(str(path), options, providers=providers), "onnx-int8" if quantised else "onnx"
    )


#: reader.precision -> backend factory
BACKENDS: dict[str, Callable[[BackendSpec], Backend]] = {
    "fp32": lambda spec: _torch(spec, "fp32"),
    "bf16": lambda spec: _torch(spec, "bf16"),
    "int8": lambda spec: _torch(spec, "int8"),
    "onnx": lambda spec: _onnx(spec, quantised=False),
    "onnx-int8": lambda spec: _onnx(spec, quantised=True),
}


#: reader.precision that picks one of BACKENDS for the hardware (see fastest_precision)
FASTEST = "fastest"


def _cpu_has_amx() -> bool:
    import torch

    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)  # private, hence the guard
    try:
        return bool(probe()) if probe is not None else False
    except RuntimeError:
        return False


def fastest_precision(device: str) -> str:
    """What ``reader.precision: fastest`` runs on ``device``.

    CPUs with AMX run bf16 GEMMs several times faster than int8 through ONNX Runtime (whose
    attention stays fp32), so bf16 there; other CPUs: ONNX Runtime int8 (torch int8 without
    onnxruntime); GPUs: bf16 where supported.
    """
    import torch

    if device.startswith("cuda"):
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    if device != "cpu":
        return "fp32"
    if _cpu_has_amx() and torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return "bf16"
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return "int8"
    return "onnx-int8"


def make_backend(precision: str, spec: BackendSpec) -> Backend:
    if precision == FASTEST:
        precision = fastest_precision(spec.device)
        log.info("reader.precision fastest: %s on %s", precision, spec.device)
    try:
        factory = BACKENDS[precision]
    except KeyError:
        raise ConfigError(
            f"reader.precision: unknown precision {precision!r}; valid: {', '.join(BACKENDS)}, {FASTEST}"
        ) from None
    return factory(spec)


def select_device(device: str) -> str:
    """``auto`` → CUDA when present, else CPU; an explicit device must exist."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"reader.device: {device!r} requested but CUDA is not available")
    if device.startswith("mps") and not torch.backends.mps.is_available():
        raise ConfigError(f"reader.device: {device!r} requested but MPS is not available")
    if not (device == "cpu" or device.startswith(("cuda", "mps"))):
        raise ConfigError(f"reader.device: unknown device {device!r}; valid: auto, cpu, cuda[:N], mps")
    return device
