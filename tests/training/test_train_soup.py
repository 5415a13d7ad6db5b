"""Weight averaging of checkpoints (training/soup.py, scripts/average_checkpoints.py)."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from kgqa.errors import ConfigError
from training.soup import average_checkpoints


def checkpoint(path, seed: int, extra: dict | None = None, files: dict | None = None):
    path.mkdir(parents=True)
    g = torch.Generator().manual_seed(seed)
    state = {"w": torch.randn(4, 3, generator=g), "b": torch.randn(3, generator=g).to(torch.float16),
             "ids": torch.arange(5), **(extra or {})}
    save_file(state, str(path / "model.safetensors"))
    for name, text in (files or {"config.json": '{"model_type": "bert"}', "kgqa_calibration.json": "{}"}).items():
        (path / name).write_text(text)
    return state


def test_the_average_is_the_weighted_element_wise_mean_and_keeps_dtypes(tmp_path):
    a = checkpoint(tmp_path / "a", 0)
    b = checkpoint(tmp_path / "b", 1)
    out = average_checkpoints([tmp_path / "a", tmp_path / "b"], tmp_path / "soup", [0.25, 0.75])
    got = load_file(str(out / "model.safetensors"))
    assert torch.allclose(got["w"], 0.25 * a["w"] + 0.75 * b["w"], atol=1e-6)
    assert got["b"].dtype == torch.float16 and torch.allclose(got["b"].float(), (0.25 * a["b"].float() + 0.75 * b["b"].float()),
                                                              atol=1e-3)
    assert torch.equal(got["ids"], a["ids"])  # integer buffers are carried, not averaged
    # the first checkpoint's files travel, its calibration does not; the recipe is recorded
    assert (out / "config.json").is_file() and not (out / "kgqa_calibration.json").exists()
    assert json.loads((out / "kgqa_soup.json").read_text())["weights"] == [0.25, 0.75]
    equal = load_file(str(average_checkpoints([tmp_path / "a", tmp_path / "b"], tmp_path / "eq") / "model.safetensors"))
    assert torch.allclose(equal["w"], (a["w"] + b["w"]) / 2, atol=1e-6)


def test_checkpoints_of_different_models_or_bad_weights_are_refused(tmp_path):
    checkpoint(tmp_path / "a", 0)
    checkpoint(tmp_path / "b", 1, extra={"head": torch.zeros(2)})
    with pytest.raises(ConfigError, match="different tensors"):
        average_checkpoints([tmp_path / "a", tmp_path / "b"], tmp_path / "soup")
    checkpoint(tmp_path / "c", 2, extra={"ids": torch.arange(5) + 1})
    with pytest.raises(ConfigError, match="ids differs"):
        average_checkpoints([tmp_path / "a", tmp_path / "c"], tmp_path / "soup")
    checkpoint(tmp_path / "d", 3)
    for weights in ([0.5, 0.6], [1.0], [-0.5, 1.5]):
        with pytest.raises(ConfigError, match="weights"):
            average_checkpoints([tmp_path / "a", tmp_path / "d"], tmp_path / "soup", weights)
    with pytest.raises(ConfigError, match="at least two"):
        average_checkpoints([tmp_path / "a"], tmp_path / "soup")
    assert not (tmp_path / "soup").exists()  # nothing written for a refused average


def test_the_script_writes_the_average(tmp_path):
    import importlib.util
    from pathlib import Path

    a = checkpoint(tmp_path / "a", 0)
    b = checkpoint(tmp_path / "b", 1)
    spec = importlib.util.spec_from_file_location("avg", Path(__file__).parents[2] / "scripts" / "average_checkpoints.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main([str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "s")]) == 0
    assert torch.allclose(load_file(str(tmp_path / "s" / "model.safetensors"))["w"], (a["w"] + b["w"]) / 2, atol=1e-6)
