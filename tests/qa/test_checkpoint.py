"""Checkpoint fingerprints and the ONNX export cache."""

import hashlib
import os
import stat

import pytest

from kgqa.errors import ModelLoadError
from kgqa.qa.checkpoint import weights_sha256
from kgqa.qa.onnx_export import cache_dir


def test_single_weight_file_digest_is_its_sha256(tmp_path) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"weights")
    (tmp_path / "config.json").write_text("{}")  # config is not part of the digest
    assert weights_sha256(tmp_path) == hashlib.sha256(b"weights").hexdigest()


def test_sharded_digest_covers_every_shard_in_name_order(tmp_path) -> None:
    (tmp_path / "model-00002-of-00002.safetensors").write_bytes(b"two")
    (tmp_path / "model-00001-of-00002.safetensors").write_bytes(b"one")
    lines = "".join(
        f"model-0000{i}-of-00002.safetensors {hashlib.sha256(b).hexdigest()}\n"
        for i, b in ((1, b"one"), (2, b"two"))
    )
    assert weights_sha256(tmp_path) == hashlib.sha256(lines.encode()).hexdigest()
    before = weights_sha256(tmp_path)
    (tmp_path / "model-00002-of-00002.safetensors").write_bytes(b"changed")
    assert weights_sha256(tmp_path) != before


def test_no_weights_names_the_path(tmp_path) -> None:
    with pytest.raises(ModelLoadError, match=str(tmp_path)):
        weights_sha256(tmp_path)


def test_onnx_cache_is_keyed_by_digest_and_beside_the_checkpoint(tmp_path) -> None:
    a = cache_dir(tmp_path, "a" * 64)
    b = cache_dir(tmp_path, "b" * 64)
    assert a.parent == b.parent == tmp_path / "onnx" and a != b and a.is_dir()
    assert cache_dir(tmp_path, "a" * 64, str(tmp_path / "elsewhere")).parent == tmp_path / "elsewhere"


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_checkpoint_falls_back_to_user_cache(tmp_path, monkeypatch) -> None:
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    ckpt.chmod(stat.S_IRUSR | stat.S_IXUSR)
    monkeypatch.setattr("kgqa.qa.onnx_export.DEFAULT_CACHE", tmp_path / "user-cache")
    try:
        assert cache_dir(ckpt, "c" * 64).parent == tmp_path / "user-cache"
    finally:
        ckpt.chmod(stat.S_IRWXU)
