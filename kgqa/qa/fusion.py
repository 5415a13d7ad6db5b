"""oneDNN-fused linear layers for CPU inference in PyTorch (the ``fp32`` and ``bf16`` backends).

Eager PyTorch runs a transformer layer's ``nn.Linear`` as a GEMM on a row-major weight plus
separate passes for the bias, the GELU and the residual add; on CPU those passes are memory-bound
and, once AMX makes bf16 GEMMs fast, they cost as much as the GEMMs themselves. Here every
``nn.Linear`` becomes oneDNN's ``_linear_pointwise`` on a weight reordered once into oneDNN's
blocked layout (what ``torch.compile``'s CPU freezing pass does, without a compile step), with
post-ops fused into the GEMM:

- bias always;
- GELU (exact or tanh) for BERT-style ``*Intermediate`` blocks (``dense`` then ``intermediate_act_fn``);
- the residual add for BERT-style ``*Output`` / ``*SelfOutput`` blocks
  (``LayerNorm(dropout(dense(h)) + residual)``; dropout is the identity in eval mode).

The arithmetic is the same as eager up to summation order (fp32 logits agree to ~1e-5). Any
architecture or build where this does not apply keeps its eager modules.
"""

from __future__ import annotations

import logging

import torch

log = logging.getLogger(__name__)

#: BERT-family module names whose forward is ``LayerNorm(dropout(dense(h)) + residual)``
_RESIDUAL_BLOCKS = ("SelfOutput", "Output")


def fusion_available(dtype) -> bool:
    """Whether oneDNN fused linear runs here for ``dtype`` (x86 builds with mkldnn; bf16 needs AVX512-BF16/AMX)."""
    if not torch.backends.mkldnn.is_available() or not hasattr(torch.ops.mkldnn, "_linear_pointwise"):
        return False
    if dtype == torch.bfloat16 and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return False
    try:  # a probe: some builds expose the op without a kernel for this dtype
        lin = torch.nn.Linear(4, 4).to(dtype)
        with torch.inference_mode():
            _PackedLinear(lin)(torch.ones(2, 4, dtype=dtype))
    except (RuntimeError, NotImplementedError) as exc:
        log.info("oneDNN fused linear unavailable for %s: %s", dtype, exc)
        return False
    return True


def _gelu_algorithm(act) -> str | None:
    """oneDNN's name for ``act`` if it is a GELU oneDNN computes identically, else None."""
    from transformers import activations

    kind = type(act)
    if kind is activations.GELUActivation and getattr(act, "act", None) is torch.nn.functional.gelu:
        return "none"  # exact (erf) GELU
    if kind in tuple(
        getattr(activations, name)
        for name in ("NewGELUActivation", "PytorchGELUTanh", "GELUTanh")
        if hasattr(activations, name)
    ):
        return "tanh"
    return None


class _PackedLinear(torch.nn.Module):
    """``nn.Linear`` (+ optional fused GELU) on a oneDNN-reordered weight."""

    def __init__(self, linear, attr: str = "none", algorithm: str = "") -> None:
        super().__init__()
        self.out_features = linear.out_features
        weight = linear.weight.detach()
        self.register_buffer("weight", torch.ops.mkldnn._reorder_linear_weight(weight, None))
        self.register_buffer("bias", None if linear.bias is None else linear.bias.detach().clone())
        self.attr, self.algorithm = attr, algorithm

    def forward(self, x):
        shape = x.shape
        y = torch.ops.mkldnn._linear_pointwise.default(
            x.reshape(-1, shape[-1]), self.weight, self.bias, self.attr, [], self.algorithm
        )
        return y.view(*shape[:-1], self.out_features)


class _ResidualBlock(torch.nn.Module):
    """``LayerNorm(dense(h) + residual)`` with the add fused into the GEMM."""

    def __init__(self, block) -> None:
        super().__init__()
        self.dense = _PackedLinear(block.dense)
        self.LayerNorm = block.LayerNorm

    def forward(self, hidden_states, input_tensor):
        shape = hidden_states.shape
        # the .binary overload named directly: through the overload packet, torch first tries the default
        # overload, fails, and formats a tensor repr for the error message on every call (~4 % of a read)
        y = torch.ops.mkldnn._linear_pointwise.binary(
            hidden_states.reshape(-1, shape[-1]),
            input_tensor.reshape(-1, self.dense.out_features).contiguous(),
            self.dense.weight,
            self.dense.bias,
            "add",
        )
        return self.LayerNorm(y.view(*shape[:-1], self.dense.out_features))


def _is_residual_block(module) -> bool:
    children = dict(module.named_children())
    return (
        type(module).__name__.endswith(_RESIDUAL_BLOCKS)
        and set(children) == {"dense", "LayerNorm", "dropout"}
        and type(children["dense"]) is torch.nn.Linear
        and isinstance(children["LayerNorm"], torch.nn.LayerNorm)
    )


def fuse_linear_layers(model):
    """``model`` (eval mode, on CPU, in its final dtype) with its linear layers fused, in place.

    Returns the model; counts of what was fused are logged.
    """
    counts = {"gelu": 0, "residual": 0, "linear": 0}
    for module in list(model.modules()):
        dense = getattr(module, "dense", None)
        act = getattr(module, "intermediate_act_fn", None)
        if type(dense) is torch.nn.Linear and act is not None:
            algorithm = _gelu_algorithm(act)
            if algorithm is not None:
                module.dense = _PackedLinear(dense, "gelu", algorithm)
                module.intermediate_act_fn = torch.nn.Identity()
                counts["gelu"] += 1
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if _is_residual_block(child):
                setattr(parent, name, _ResidualBlock(child))
                counts["residual"] += 1
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is torch.nn.Linear:
                setattr(parent, name, _PackedLinear(child))
                counts["linear"] += 1
    log.info("oneDNN fusion: %s", counts)
    return model
