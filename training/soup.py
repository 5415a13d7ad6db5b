"""Weight averaging of fine-tuned checkpoints of one model ("model soup", Wortsman et al., ICML 2022).

Two checkpoints fine-tuned from the same start, one continuing the other, lie in one basin of the loss: their
element-wise mean is a model too, and it often keeps what each learned better than either (measured here:
stage 3 and stage 4 of the e5 reader, docs/training.md). Only floating-point tensors are averaged; anything
else (integer buffers) must be equal. The first checkpoint's config, tokenizer and model card travel with the
result; its calibration does not (a new model needs its own fit).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from kgqa.errors import ConfigError

WEIGHTS = "model.safetensors"
#: files of a checkpoint directory that describe another model than the average and are not copied
NOT_COPIED = {WEIGHTS, "kgqa_calibration.json", "training_args.bin", "optimizer.pt", "scheduler.pt"}


def average_checkpoints(sources: Sequence[Path], out: Path, weights: Sequence[float] | None = None) -> Path:
    """Write the weighted mean of ``sources``' ``model.safetensors`` (weights default to equal) into ``out``."""
    import torch
    from safetensors.torch import load_file, save_file

    if len(sources) < 2:
        raise ConfigError("averaging needs at least two checkpoints")
    weights = [1.0 / len(sources)] * len(sources) if weights is None else [float(w) for w in weights]
    if len(weights) != len(sources) or any(w < 0 for w in weights) or abs(sum(weights) - 1.0) > 1e-6:
        raise ConfigError(f"weights {weights} must be one non-negative weight per checkpoint, summing to 1")
    states = []
    for src in sources:
        path = Path(src) / WEIGHTS
        if not path.is_file():
            raise ConfigError(f"{src}: no {WEIGHTS}")
        states.append(load_file(str(path)))
    first = states[0]
    for src, state in zip(sources[1:], states[1:]):
        if state.keys() != first.keys():
            diff = sorted(set(state) ^ set(first))[:5]
            raise ConfigError(f"{src} and {sources[0]} hold different tensors ({', '.join(diff)} …): not one model")
        for name, tensor in state.items():
            if tensor.shape != first[name].shape:
                raise ConfigError(f"{src}: tensor {name} is {tuple(tensor.shape)}, {tuple(first[name].shape)} in {sources[0]}")
    averaged = {}
    for name, tensor in first.items():
        if tensor.is_floating_point():
            acc = sum(w * s[name].to(torch.float64) for w, s in zip(weights, states))
            averaged[name] = acc.to(tensor.dtype)
        else:
            if any(not torch.equal(s[name], tensor) for s in states[1:]):
                raise ConfigError(f"non-float tensor {name} differs between the checkpoints: it cannot be averaged")
            averaged[name] = tensor
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    save_file(averaged, str(out / WEIGHTS), metadata={"format": "pt"})
    for item in Path(sources[0]).iterdir():
        if item.is_file() and item.name not in NOT_COPIED:
            shutil.copy2(item, out / item.name)
    (out / "kgqa_soup.json").write_text(
        json.dumps({"sources": [str(s) for s in sources], "weights": weights}, indent=2) + "\n", encoding="utf-8"
    )
    return out
