"""Every precision mode reproduces fp32 on a tiny model, within its tolerance."""

from __future__ import annotations

import numpy as np
import pytest

from kgqa.qa import Reader
from kgqa.qa.config import ModelConfig, ReaderConfig
from kgqa.qa.windowing import encode_windows

# (precision, max abs logit difference from fp32). int8 and bf16 round weights/activations.
MODES = [("onnx", 1e-4), ("bf16", 0.05), ("int8", 0.05), ("onnx-int8", 0.05)]


@pytest.fixture(scope="module")
def fp32(tiny_checkpoint) -> Reader:
    return Reader.from_config(ModelConfig(path=str(tiny_checkpoint)), ReaderConfig(null_threshold=-1e9))


@pytest.fixture(scope="module")
def windows(fp32, script_notes, concepts):
    pairs = fp32.pairs(script_notes, concepts)
    return encode_windows(
        fp32.tokenizer, [p.question for p in pairs], [p.note.text for p in pairs], fp32.cfg.window
    )


@pytest.mark.parametrize("precision,atol", MODES)
def test_logits_match_fp32(tiny_checkpoint, tmp_path_factory, fp32, windows, precision, atol) -> None:
    cfg = ReaderConfig(
        precision=precision, null_threshold=-1e9, onnx_cache_dir=str(tmp_path_factory.mktemp("onnx"))
    )
    reader = Reader.from_config(ModelConfig(path=str(tiny_checkpoint)), cfg)
    assert reader.model_info == fp32.model_info
    for (s_ref, e_ref), (s, e) in zip(fp32.infer(windows), reader.infer(windows)):
        assert s.dtype == np.float32 and s.shape == s_ref.shape
        np.testing.assert_allclose(s, s_ref, atol=atol)
        np.testing.assert_allclose(e, e_ref, atol=atol)


@pytest.mark.parametrize("precision,atol", MODES)
def test_answers_match_fp32_where_fp32_is_decisive(
    tiny_checkpoint, fp32, windows, script_notes, concepts, precision, atol
):
    """Top-1 spans agree wherever fp32's winner leads the runner-up by more than the rounding can move.

    A span score is a start plus an end logit, so if no logit moved by more than ``delta_s`` /
    ``delta_e`` no score moved by more than their sum, and a lead above twice that cannot flip.
    """
    reader = Reader.from_config(
        ModelConfig(path=str(tiny_checkpoint)), ReaderConfig(precision=precision, null_threshold=-1e9)
    )
    deviations = [
        (np.abs(s - s_ref).max(), np.abs(e - e_ref).max())
        for (s_ref, e_ref), (s, e) in zip(fp32.infer(windows), reader.infer(windows))
    ]
    bound = 2 * (max(d[0] for d in deviations) + max(d[1] for d in deviations))
    pairs = fp32.pairs(script_notes, concepts)
    decisive = 0
    for ref, got in zip(fp32.decode_pairs(pairs), reader.decode_pairs(pairs)):
        first, second = ref.candidates[0], ref.candidates[1]
        if first.score - second.score > bound:
            decisive += 1
            assert (got.candidates[0].start, got.candidates[0].end) == (first.start, first.end)
    assert decisive >= len(pairs) // 4, f"only {decisive} of {len(pairs)} pairs decisive at bound {bound:.4f}"


def test_onnx_export_is_cached_by_weights_digest(tiny_checkpoint, tmp_path) -> None:
    cfg = ReaderConfig(precision="onnx-int8", onnx_cache_dir=str(tmp_path))
    first = Reader.from_config(ModelConfig(path=str(tiny_checkpoint)), cfg)
    (directory,) = [d for d in tmp_path.iterdir() if d.is_dir()]
    assert directory.name.startswith(first.model_info.sha256[:16])
    stamps = {p.name: p.stat().st_mtime_ns for p in directory.glob("*.onnx")}
    assert {"model.raw.onnx", "model.onnx", "model.int8.onnx"} <= set(stamps)
    Reader.from_config(ModelConfig(path=str(tiny_checkpoint)), cfg)
    assert {
        p.name: p.stat().st_mtime_ns for p in directory.glob("*.onnx")
    } == stamps  # reused, not re-exported


@pytest.mark.parametrize(
    "amx,has_onnxruntime,expected",
    [(True, True, "bf16"), (False, True, "onnx-int8"), (False, False, "int8")],
)
def test_fastest_precision_follows_the_cpu(monkeypatch, amx, has_onnxruntime, expected) -> None:
    import builtins

    import torch

    from kgqa.qa import backends

    monkeypatch.setattr(backends, "_cpu_has_amx", lambda: amx)
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True, raising=False)
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "onnxruntime" and not has_onnxruntime:
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    assert backends.fastest_precision("cpu") == expected


def test_fastest_reader_runs_the_resolved_backend(tiny_checkpoint, tmp_path, fp32, windows) -> None:
    from kgqa.qa.backends import fastest_precision, select_device

    cfg = ReaderConfig(precision="fastest", null_threshold=-1e9, onnx_cache_dir=str(tmp_path))
    reader = Reader.from_config(ModelConfig(path=str(tiny_checkpoint)), cfg)
    assert reader.backend.name == fastest_precision(select_device("auto"))
    for (s_ref, _), (s, _) in zip(fp32.infer(windows), reader.infer(windows)):
        np.testing.assert_allclose(s, s_ref, atol=0.05)
