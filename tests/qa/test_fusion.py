"""oneDNN-fused linear layers compute what the eager model computes."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from kgqa.qa.checkpoint import load_model
from kgqa.qa.fusion import fuse_linear_layers, fusion_available

# (dtype, max abs logit difference between fused and eager): fp32 differs by summation order only
CASES = [("fp32", 1e-4), ("bf16", 0.05)]


def _inputs():
    rng = np.random.RandomState(0)
    ids = torch.from_numpy(rng.randint(5, 200, size=(3, 40)).astype(np.int64))
    mask = torch.ones_like(ids)
    mask[2, 25:] = 0  # a padded row
    return ids, mask


@pytest.mark.parametrize("name,atol", CASES)
def test_fused_logits_match_eager(tiny_checkpoint, name, atol) -> None:
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[name]
    if not fusion_available(dtype):
        pytest.skip(f"oneDNN fused linear is not available for {name} on this machine")
    eager = load_model(tiny_checkpoint).to(dtype).eval()
    fused = fuse_linear_layers(load_model(tiny_checkpoint).to(dtype).eval())
    ids, mask = _inputs()
    with torch.inference_mode():
        ref = eager(input_ids=ids, attention_mask=mask)
        out = fused(input_ids=ids, attention_mask=mask)
    for a, b in ((out.start_logits, ref.start_logits), (out.end_logits, ref.end_logits)):
        np.testing.assert_allclose(a.float().numpy(), b.float().numpy(), atol=atol)


def test_fusion_replaces_every_linear_layer(tiny_checkpoint) -> None:
    if not fusion_available(torch.float32):
        pytest.skip("oneDNN fused linear is not available on this machine")
    model = fuse_linear_layers(load_model(tiny_checkpoint).eval())
    kinds = [type(m).__name__ for m in model.modules()]
    layers = model.config.num_hidden_layers
    assert "Linear" not in kinds
    # per layer: GELU fused into the intermediate GEMM, residual add into both output GEMMs
    assert sum(type(m).__name__ == "Identity" for m in model.modules()) == layers
    assert kinds.count("_ResidualBlock") == 2 * layers
