"""Start/end labels on top of the reader's windows, in all seven scripts, and dataset weighting."""

from collections import Counter

import pytest

from kgqa.qa.config import WindowConfig
from kgqa.qa.tiny import SEED_TEXTS
from kgqa.qa.windowing import encode_windows
from kgqa.tokenizer import train_unigram_tokenizer
from training.qa_features import (
    CLS_INDEX,
    answer_token_span,
    apply_weights,
    build_train_features,
    iter_train_features,
    label_windows,
    train_feature_dataset,
)
from training.squad import AnswerSpan, QaExample

# (lang, context, answer) — one per script kgqa reads
SCRIPTS = [
    ("en", "The patient received alteplase 0.9 mg/kg at 14:35 on admission.", "alteplase"),
    ("es", "Se administró aspirina 300 mg al alta del paciente.", "aspirina 300 mg"),
    ("pl", "Ciśnienie tętnicze wynosiło 180/95 mmHg przy przyjęciu.", "180/95 mmHg"),
    ("cs", "Pacient přijat s akutní ischemickou cévní mozkovou příhodou.", "ischemickou"),
    ("ro", "Glicemia a fost 7,2 mmol/l la internare.", "7,2 mmol/l"),
    ("el", "Ο ασθενής εισήχθη με οξύ ισχαιμικό επεισόδιο στις 10:15.", "ισχαιμικό"),
    ("bg", "Пациентът е приет с остър исхемичен инсулт, NIHSS 8 точки.", "исхемичен инсулт"),
]


@pytest.fixture(scope="module")
def tokenizer():
    return train_unigram_tokenizer(list(SEED_TEXTS) + [c for _, c, _ in SCRIPTS], vocab_size=400)


def _example(context, answer, qid="q", lang="en"):
    start = context.index(answer)
    return QaExample(qid, "What?", context, (AnswerSpan(answer, start),), "t", lang, (answer,))


@pytest.mark.parametrize("lang, context, answer", SCRIPTS, ids=[s[0] for s in SCRIPTS])
def test_labels_cover_exactly_the_answer_tokens(tokenizer, lang, context, answer):
    ex = _example(context, answer, lang=lang)
    windows = encode_windows(
        tokenizer, [ex.question], [context], WindowConfig(max_seq_length=128, doc_stride=32)
    )
    (lw,) = label_windows(windows, [ex])
    s, e = lw.start_position, lw.end_position
    assert CLS_INDEX < s <= e
    offsets = lw.window.offsets
    a = ex.answers[0]
    # the labelled tokens cover the answer, and the first/last of them overlap it (no extra tokens)
    assert offsets[s][0] <= a.start and offsets[e][1] >= a.end
    assert offsets[s][1] > a.start and offsets[e][0] < a.end
    assert answer in context[offsets[s][0] : offsets[e][1]]


def test_windows_without_the_whole_answer_point_at_cls(tokenizer):
    filler = "Kontrola za tři měsíce v ambulanci. " * 12
    context = filler + "Propuštěn s apixabanem 5 mg. " + filler
    ex = _example(context, "apixabanem 5 mg")
    windows = encode_windows(
        tokenizer, [ex.question], [context], WindowConfig(max_seq_length=48, doc_stride=16)
    )
    labelled = label_windows(windows, [ex])
    assert len(labelled) > 3
    answered = [lw for lw in labelled if lw.start_position != CLS_INDEX]
    assert answered, "some window must contain the answer"
    for lw in labelled:
        offs = [o for o in lw.window.offsets if o is not None]
        contains = offs[0][0] <= ex.answers[0].start and offs[-1][1] >= ex.answers[0].end
        assert (lw.start_position != CLS_INDEX) == contains


def test_answer_token_span_table():
    offsets = [None, None, (0, 3), (4, 9), (9, 10), (11, 14), None]  # "abc defgh. xyz"
    assert answer_token_span(offsets, 4, 9) == (3, 3)
    assert answer_token_span(offsets, 4, 10) == (3, 4)
    assert answer_token_span(offsets, 5, 7) == (3, 3)  # inside one token: that token
    assert answer_token_span(offsets, 11, 20) == (CLS_INDEX, CLS_INDEX)  # runs past the window
    assert answer_token_span([None, (5, 5), (5, 8)], 5, 8) == (2, 2)  # zero-width token ignored


def test_unaligned_and_unanswerable_examples(tokenizer):
    good = _example("Aspirin 100 mg daily.", "Aspirin")
    impossible = QaExample(
        "n", "Dose of heparin?", "Aspirin 100 mg daily.", (), "t", "en", (), is_impossible=True
    )
    unaligned = QaExample("u", "Route?", "Aspirin 100 mg daily.", (), "t", "en", ("orally",))
    cols = build_train_features(
        tokenizer, [good, impossible, unaligned], WindowConfig(max_seq_length=64, doc_stride=16)
    )
    assert len(cols["input_ids"]) == 2  # the unaligned answerable question has no label: left out
    assert cols["start_positions"][1] == cols["end_positions"][1] == CLS_INDEX
    assert cols["start_positions"][0] > CLS_INDEX


def test_apply_weights_expected_copies():
    exs = [QaExample(str(i), "q", "c", (), d, "en", ()) for d in ("a", "b") for i in range(2000)]
    mixed = apply_weights(exs, {"a": 2.0, "b": 0.25}, seed=1)
    counts = Counter(ex.dataset for ex in mixed)
    assert counts["a"] == 4000
    assert 400 < counts["b"] < 600  # 2000 * 0.25 = 500 in expectation
    assert apply_weights(exs, {"b": 0.25}, seed=1) == apply_weights(exs, {"b": 0.25}, seed=1)


def test_missed_window_keep_drops_only_windows_that_miss_an_answer(tokenizer):
    # a long context in short windows: one window holds the answer, most miss it
    filler = " ".join(f"Line {i} of the report says nothing." for i in range(40))
    context = f"{filler} Aspirin 100 mg daily. {filler}"
    answerable = _example(context, "Aspirin 100 mg")
    impossible = QaExample("n", "Dose of heparin?", context, (), "t", "en", (), is_impossible=True)
    window = WindowConfig(max_seq_length=64, doc_stride=16)
    full = build_train_features(tokenizer, [answerable, impossible], window)
    thinned = build_train_features(tokenizer, [answerable, impossible], window, missed_window_keep=0.0)

    def counts(cols):
        hits = sum(s > CLS_INDEX for s in cols["start_positions"])
        return hits, len(cols["start_positions"]) - hits

    full_hits, full_missed = counts(full)
    thin_hits, thin_missed = counts(thinned)
    assert full_hits == thin_hits >= 1  # every window with the answer stays
    n_impossible = len(build_train_features(tokenizer, [impossible], window)["input_ids"])
    # with keep 0 only the unanswerable question's windows remain among the null-labelled ones
    assert thin_missed == n_impossible > 1
    assert thin_missed < full_missed
    half = build_train_features(tokenizer, [answerable, impossible], window, missed_window_keep=0.5, seed=3)
    assert half == build_train_features(tokenizer, [answerable, impossible], window, missed_window_keep=0.5, seed=3)
    only_answerable = build_train_features(
        tokenizer, [answerable, impossible], window, missed_window_keep=0.0, unanswerable_keep=0.0
    )
    assert counts(only_answerable) == (full_hits, 0)
    with pytest.raises(ValueError, match="unanswerable_keep"):
        build_train_features(tokenizer, [answerable], window, unanswerable_keep=-0.1)
    with pytest.raises(ValueError, match="missed_window_keep"):
        build_train_features(tokenizer, [answerable], window, missed_window_keep=1.5)


def _long_mix():
    """Answerable and unanswerable questions over contexts long enough for many 64-token windows."""
    filler = " ".join(f"Line {i} of the report says nothing." for i in range(30))
    out = []
    for i, (lang, context, answer) in enumerate(SCRIPTS):
        long = f"{filler} {context} {filler}"
        out.append(_example(long, answer, qid=f"a{i}", lang=lang))
        out.append(QaExample(f"n{i}", "Dose of heparin?", long, (), "t", lang, (), is_impossible=True))
    return out


def test_features_do_not_depend_on_the_chunk_size(tokenizer):
    window = WindowConfig(max_seq_length=64, doc_stride=16)
    examples = _long_mix()
    shares = {"missed_window_keep": 0.5, "unanswerable_keep": 0.5, "seed": 4}
    whole = build_train_features(tokenizer, examples, window, **shares)
    assert 0 < sum(s == CLS_INDEX for s in whole["start_positions"]) < len(whole["start_positions"])
    for chunk in (1, 3000, 10**9):  # the random draws follow the windows, not the chunks
        rows = list(iter_train_features(tokenizer, examples, window, chunk_chars=chunk, **shares))
        assert [r["input_ids"] for r in rows] == whole["input_ids"]
        assert [r["start_positions"] for r in rows] == whole["start_positions"]
    with pytest.raises(ValueError, match="chunk_chars"):
        next(iter_train_features(tokenizer, examples, window, chunk_chars=0))


def test_features_are_windowed_one_chunk_at_a_time(tokenizer, monkeypatch):
    from training import qa_features

    calls = []

    def counting(tokenizer, questions, contexts, window):
        calls.append(sum(map(len, contexts)))
        return encode_windows(tokenizer, questions, contexts, window)

    monkeypatch.setattr(qa_features, "encode_windows", counting)
    examples = _long_mix()
    budget = sum(len(e.context) for e in examples[:4])
    rows = iter_train_features(tokenizer, examples, WindowConfig(max_seq_length=64, doc_stride=16), chunk_chars=budget)
    next(rows)
    assert calls == [budget]  # the first row needs the first chunk (four questions) only
    list(rows)
    assert sum(calls) == sum(len(e.context) for e in examples)
    assert len(calls) >= 4 and max(calls) <= budget
    # one context longer than the budget still makes a chunk of its own
    calls.clear()
    list(iter_train_features(tokenizer, examples[:3], WindowConfig(max_seq_length=64, doc_stride=16), chunk_chars=10))
    assert calls == [len(e.context) for e in examples[:3]]


def test_feature_dataset_streams_to_arrow_files_with_the_same_rows(tokenizer, tmp_path):
    window = WindowConfig(max_seq_length=64, doc_stride=16)
    examples = _long_mix()
    whole = build_train_features(tokenizer, examples, window, missed_window_keep=0.3, seed=2)
    ds = train_feature_dataset(tokenizer, examples, window, tmp_path, missed_window_keep=0.3, seed=2, chunk_chars=3000)
    assert ds.cache_files and all(f["filename"].startswith(str(tmp_path)) for f in ds.cache_files)
    assert ds["input_ids"] == whole["input_ids"]
    assert ds["attention_mask"] == whole["attention_mask"]
    assert ds["start_positions"] == whole["start_positions"]
    assert ds["end_positions"] == whole["end_positions"]
    # a second build of other data in the same directory is never served from the first one's cache
    fewer = train_feature_dataset(tokenizer, examples[:2], window, tmp_path)
    assert fewer["input_ids"] == build_train_features(tokenizer, examples[:2], window)["input_ids"]


def test_datasets_progress_bars_follow_the_switch_and_are_restored():
    import datasets

    from training.runs import datasets_progress

    datasets.enable_progress_bars()
    with datasets_progress(False):
        assert not datasets.is_progress_bar_enabled()
    assert datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    with datasets_progress(True):
        assert datasets.is_progress_bar_enabled()
    assert not datasets.is_progress_bar_enabled()
    datasets.enable_progress_bars()
