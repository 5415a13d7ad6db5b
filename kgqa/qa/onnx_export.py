"""Export a QA checkpoint to ONNX (optionally int8-quantised), cached by the weights' sha256.

The export is done once per weights digest and reused: the cache lives in ``<checkpoint>/onnx/``
when the checkpoint directory is writable, else in ``reader.onnx_cache_dir`` (default
``~/.cache/kgqa/onnx``). Files are written to a temporary name and renamed, so two processes
exporting at once cannot leave a half-written model behind.

Pipeline: torch.onnx export (fp32, dynamic batch and sequence axes) → ONNX Runtime's transformer
optimiser (fuses attention, LayerNorm, GELU for BERT-family graphs such as XLM-R) → for int8,
``onnxruntime.quantization.quantize_dynamic`` (int8 weights, activations quantised per batch).
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from pathlib import Path

from kgqa.errors import ModelLoadError

log = logging.getLogger(__name__)

#: bump when the export recipe changes, so stale cached models are not reused
EXPORT_VERSION = "1"
OPSET = 17
DEFAULT_CACHE = Path.home() / ".cache" / "kgqa" / "onnx"


def cache_dir(checkpoint: Path, weights_sha256: str, configured: str = "") -> Path:
    """Directory for the exported models of these weights (created)."""
    key = f"{weights_sha256[:16]}-v{EXPORT_VERSION}"
    candidates = [Path(configured).expanduser()] if configured else [checkpoint / "onnx", DEFAULT_CACHE]
    for base in candidates:
        target = base / key
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(target, os.W_OK):
            return target
    raise ModelLoadError(
        "reader.onnx_cache_dir: no writable directory for the ONNX export among "
        + ", ".join(map(str, candidates))
    )


def _export_fp32(checkpoint: Path, out: Path) -> None:
    import torch

    from kgqa.qa.checkpoint import load_model

    # eager attention traces into plain MatMul/Softmax, which ONNX Runtime's optimiser fuses
    model = load_model(checkpoint, attn_implementation="eager")

    class _Logits(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            output = self.inner(input_ids=input_ids, attention_mask=attention_mask)
            return output.start_logits, output.end_logits

    wrapper = _Logits(model).eval()
    ids = torch.full((2, 16), 5, dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 8:] = 0  # a padded row, so the mask path is traced
    names = {"input_names": ["input_ids", "attention_mask"], "output_names": ["start_logits", "end_logits"]}
    axes = {
        n: {0: "batch", 1: "sequence"} for n in ("input_ids", "attention_mask", "start_logits", "end_logits")
    }
    with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
        # the tracer's warnings about Python branches in transformers' masking code are expected:
        # they concern shapes that are fixed for a QA forward (no cache, no past length)
        warnings.simplefilter("ignore")
        try:
            # the TorchScript exporter is quick (a second for XLM-R base) and its output fuses well
            torch.onnx.export(
                wrapper, (ids, mask), str(out), dynamic_axes=axes, opset_version=OPSET, dynamo=False, **names
            )
        except Exception as exc:  # noqa: BLE001  # torch builds without the TorchScript exporter: torch.export based one
            log.info("TorchScript ONNX export failed (%s); trying the dynamo exporter", exc)
            batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence")
            torch.onnx.export(
                wrapper,
                (ids, mask),
                str(out),
                dynamic_shapes={"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}},
                opset_version=18,
                dynamo=True,
                **names,
            )


def _optimise(src: Path, out: Path, num_heads: int, hidden_size: int) -> None:
    from onnxruntime.transformers import optimizer

    model = optimizer.optimize_model(
        str(src), model_type="bert", num_heads=num_heads, hidden_size=hidden_size
    )
    model.save_model_to_file(str(out))


def _quantise(src: Path, out: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(src),
        str(out),
        weight_type=QuantType.QInt8,
        # fused ops (Attention, SkipLayerNorm…) are in the com.microsoft domain, which shape
        # inference does not type: their outputs are float
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def _atomic(target: Path, build) -> Path:
    if target.exists():
        return target
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.stem + ".", suffix=".tmp.onnx")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        build(tmp_path)
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
    return target


def exported_model(
    checkpoint: Path,
    weights_sha256: str,
    *,
    quantised: bool,
    num_heads: int,
    hidden_size: int,
    cache: str = "",
    optimise: bool = True,
) -> Path:
    """Path of the (cached) ONNX model of ``checkpoint``: fp32 optimised, or int8."""
    directory = cache_dir(checkpoint, weights_sha256, cache)
    raw = _atomic(directory / "model.raw.onnx", lambda p: _export_fp32(checkpoint, p))
    fp32 = raw
    if optimise:
        try:
            fp32 = _atomic(directory / "model.onnx", lambda p: _optimise(raw, p, num_heads, hidden_size))
        except Exception as exc:  # noqa: BLE001  # an architecture the optimiser does not know: the plain graph still runs
            log.warning(
                "ONNX Runtime optimiser failed on %s (%s); using the unoptimised graph", checkpoint, exc
            )
    if not quantised:
        return fp32
    return _atomic(
        directory / ("model.int8.onnx" if fp32 is not raw else "model.raw.int8.onnx"),
        lambda p: _quantise(fp32, p),
    )
