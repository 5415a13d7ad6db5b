"""Loading a local extractive-QA checkpoint (``save_pretrained`` layout) and fingerprinting its weights."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from kgqa.errors import ModelLoadError

log = logging.getLogger(__name__)

#: weight files of the save_pretrained layout (sharded checkpoints have several)
WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin")


def weight_files(path: Path) -> list[Path]:
    files = sorted({f for pattern in WEIGHT_PATTERNS for f in path.glob(pattern) if f.is_file()})
    if not files:
        raise ModelLoadError(f"model.path: no weight files ({', '.join(WEIGHT_PATTERNS)}) in {path}")
    return files


#: model types whose position table reserves two entries (padding offset of the RoBERTa family)
_OFFSET_POSITIONS = ("xlm-roberta", "roberta", "camembert")


def checkpoint_config(path: Path) -> dict:
    """The checkpoint's config.json, or {} when it has none readable (loading the model reports that)."""
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return config if isinstance(config, dict) else {}


def max_sequence_tokens(path: Path) -> int | None:
    """Tokens one input of the checkpoint may hold (its position table), or None if config.json does not say."""
    config = checkpoint_config(path)
    positions = config.get("max_position_embeddings")
    if not isinstance(positions, int):
        return None
    return positions - 2 if config.get("model_type") in _OFFSET_POSITIONS else positions


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def weights_sha256(path: str | Path) -> str:
    """sha256 of a checkpoint's weights: the file's digest, or for shards the digest of "name digest" lines.

    Identifies the model in provenance and keys the ONNX export cache; config and tokenizer files
    are not included because they do not change what the weights compute.
    """
    files = weight_files(Path(path))
    if len(files) == 1:
        return _file_sha256(files[0])
    lines = "".join(f"{f.name} {_file_sha256(f)}\n" for f in files)
    return hashlib.sha256(lines.encode()).hexdigest()


def load_tokenizer(path: Path):
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path))
    except Exception as exc:  # transformers raises OSError, ValueError, … depending on what is missing
        raise ModelLoadError(f"model.path: cannot load a tokenizer from {path}: {exc}") from exc
    if not getattr(tokenizer, "is_fast", False):
        raise ModelLoadError(f"model.path: {path} has no fast tokenizer (offsets need tokenizer.json)")
    return tokenizer


def load_model(path: Path, **kwargs):
    from transformers import AutoModelForQuestionAnswering

    try:
        model = AutoModelForQuestionAnswering.from_pretrained(str(path), **kwargs)
    except Exception as exc:
        raise ModelLoadError(
            f"model.path: cannot load a question-answering model from {path}: {exc}"
        ) from exc
    model.eval()
    return model
