"""benchmarks/qa_throughput.py: the decomposed comparison, single-window agreement contexts and the
5.2-pipeline side's tokenizer."""

import json
import runpy
import sys

import pytest

from kgqa import PROJECT_ROOT
from kgqa.qa.checkpoint import load_tokenizer
from kgqa.qa.config import WindowConfig
from kgqa.qa.windowing import encode_windows

BENCH = PROJECT_ROOT / "benchmarks" / "qa_throughput.py"
E5 = PROJECT_ROOT / ".cache" / "e5-small"  # kgqa models import-e5 --out .cache/e5-small (developers' checkout)


@pytest.fixture(scope="module")
def bench() -> dict:
    return runpy.run_path(str(BENCH), run_name="qa_throughput")


def _checkpoints(tiny_checkpoint):
    yield tiny_checkpoint
    if (E5 / "tokenizer.json").is_file():
        yield E5


def test_pipeline_tokenizer_gives_the_readers_pair_ids(bench, tiny_checkpoint, script_notes) -> None:
    """Built from tokenizer.json, the 5.2 side's tokenizer encodes (question, context) pairs as the reader does."""
    for checkpoint in _checkpoints(tiny_checkpoint):
        ours = load_tokenizer(checkpoint)
        theirs = bench["checkpoint_tokenizer"](str(checkpoint))
        for note in script_notes:
            question = "What was the NIHSS score on admission?"
            assert theirs(question, note.text)["input_ids"] == ours(question, note.text)["input_ids"], checkpoint
        assert theirs.sep_token == ours.sep_token and theirs.pad_token_id == ours.pad_token_id


def test_agreement_contexts_fit_one_window(bench, tiny_checkpoint) -> None:
    tokenizer = load_tokenizer(tiny_checkpoint)
    window = WindowConfig(max_seq_length=96, doc_stride=32)
    questions = [c.questions["en"][0] for c in bench["make_concepts"](5)]
    raw = bench["short_contexts"](bench["make_notes"](8, 120, seed=1), 120)
    assert any(len(encode_windows(tokenizer, questions[:1], [n.text], window)) > 1 for n in raw)  # the old bug
    fitted = bench["fit_one_window"](tokenizer, raw, questions, window)
    for before, after in zip(raw, fitted):
        assert before.text.startswith(after.text) and len(after.text.split()) >= 5
        assert len(encode_windows(tokenizer, questions, [after.text] * len(questions), window)) == len(questions)


@pytest.mark.slow
def test_decomposed_comparison_keys_and_k0_agreement(tmp_path, capsys, monkeypatch) -> None:
    argv = [
        "qa_throughput.py", "--quick", "--sizes", "tiny", "--modes", "fp32", "--workdir", str(tmp_path),
        "--decomposed", "0", "--decomposed-questions", "8",
    ]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(BENCH), run_name="__main__")
    assert done.value.code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("decomposed_pairs_per_s", "joint_pairs_per_s", "decomposed_speedup", "decomposed_top1_agreement"):
        assert summary[key] is not None and key in summary
    row = summary["decomposed_results"][0]
    # K = 0 is the joint model: every top-1 the same
    assert summary["decomposed_top1_agreement"] == 1.0 and row["decomposed_top1_agreement_single_window"] == 1.0
    assert row["questions"] == 8 and row["cost_split"]["windows"] == row["windows"]
    assert row["cost_split"]["window_parts"] < row["windows"]  # questions of one length share their window parts
    assert summary["results"][0]["top1_agreement"] == 1.0  # the fp32 reader row is still there


@pytest.mark.slow
def test_joint_side_reads_the_named_joint_checkpoint(tiny_checkpoint, tmp_path, capsys, monkeypatch) -> None:
    """--joint-checkpoint (a distilled checkpoint's teacher): the joint side reads it, the decomposed side --checkpoint."""
    import shutil

    from transformers import AutoModelForQuestionAnswering

    flipped = tmp_path / "flipped"
    shutil.copytree(tiny_checkpoint, flipped)
    model = AutoModelForQuestionAnswering.from_pretrained(str(tiny_checkpoint))
    model.qa_outputs.weight.data.neg_()  # start/end logits negated: the best span becomes a worst one
    model.qa_outputs.bias.data.neg_()
    model.save_pretrained(str(flipped))

    def summary(joint: str) -> dict:
        argv = [
            "qa_throughput.py", "--quick", "--checkpoint", str(tiny_checkpoint), "--modes", "fp32",
            "--workdir", str(tmp_path / "work"), "--decomposed", "0", "--decomposed-questions", "6",
        ] + (["--joint-checkpoint", joint] if joint else [])
        monkeypatch.setattr(sys, "argv", argv)
        with pytest.raises(SystemExit) as done:
            runpy.run_path(str(BENCH), run_name="__main__")
        assert done.value.code == 0
        return json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    same, other = summary(""), summary(str(flipped))
    assert same["decomposed_top1_agreement"] == 1.0  # K = 0 on the same weights
    assert other["decomposed_results"][0]["joint_checkpoint"] == str(flipped)
    assert other["decomposed_top1_agreement"] < 0.5  # the joint side read the flipped model
