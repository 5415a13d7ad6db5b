"""Loading SQuAD v1.1/v2.0 and BioASQ-style QA files into flat, validated examples.

Real files are messier than the format: PoQuAD has no question ids, COVID-QA's ids are integers
and 234 of its answers start one character early (the answer text carries a leading space),
v2.0 files mark unanswerable questions with ``is_impossible`` and may omit ``answers``.
Every answer is checked against its context; a misaligned one is *repaired* only when the fix is
unambiguous (see :func:`align_answer`) and dropped otherwise, and a :class:`LoadReport` counts
what happened so a run's log says how much of a dataset was usable.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kgqa.errors import ConfigError

log = logging.getLogger(__name__)

#: How far (characters) a misaligned ``answer_start`` may be from the true one and still be
#: repaired by proximity. Off-by-one/two errors come from stripped spaces and CRLF conversions;
#: anything further is more likely a different occurrence of the text.
MAX_START_SHIFT = 3


@dataclass(frozen=True)
class AnswerSpan:
    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)


@dataclass(frozen=True)
class QaExample:
    """One question about one context; ``answers`` are exact slices of ``context`` (empty = unanswerable)."""

    id: str
    question: str
    context: str
    answers: tuple[AnswerSpan, ...]
    dataset: str
    lang: str
    #: the answer texts as published (the official metrics compare against these)
    gold_texts: tuple[str, ...] = ()
    is_impossible: bool = False
    title: str = ""

    def __post_init__(self) -> None:
        for a in self.answers:
            if self.context[a.start : a.end] != a.text:
                raise ValueError(
                    f"example {self.id!r}: answer {a.text!r} does not slice its context at {a.start}"
                )


@dataclass
class LoadReport:
    """What loading one file did (logged, and written into the run's metrics and model card)."""

    dataset: str
    path: str
    questions: int = 0
    examples: int = 0
    unanswerable: int = 0
    answers_ok: int = 0
    answers_repaired: int = 0
    answers_dropped: int = 0
    #: empty answer entries (no text), ignored
    answers_empty: int = 0
    #: answerable questions none of whose answers could be aligned (kept for evaluation only)
    unaligned_questions: int = 0
    missing_ids: int = 0
    duplicate_ids: int = 0
    skipped: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "skipped"}
        out["skipped"] = dict(self.skipped)
        return out


def align_answer(context: str, text: str, start: int | None) -> tuple[AnswerSpan | None, str]:
    """Return the answer as an exact slice of ``context`` and how it was obtained.

    The second value is ``"ok"`` (the given offset is right), ``"repaired"`` or ``"dropped"``.
    Repair strips surrounding whitespace from ``text`` and then accepts, in this order:
    the stripped text at the given offset; the one occurrence within ``MAX_START_SHIFT``
    characters of it; the one occurrence in the whole context. Two candidates = ambiguous = dropped.
    """
    if isinstance(start, int) and start >= 0 and text and context[start : start + len(text)] == text:
        stripped = text.strip()
        if stripped == text:
            return AnswerSpan(text, start), "ok"
        # surrounding whitespace at the right offset: the same answer, trimmed
        lead = len(text) - len(text.lstrip())
        return AnswerSpan(stripped, start + lead), "ok"
    stripped = text.strip()
    if not stripped:
        return None, "dropped"
    occurrences = _occurrences(context, stripped)
    if isinstance(start, int) and start >= 0:
        near = [o for o in occurrences if abs(o - start) <= MAX_START_SHIFT]
        if len(near) == 1:
            return AnswerSpan(stripped, near[0]), "repaired"
        if len(near) > 1:
            return None, "dropped"
    if len(occurrences) == 1:
        return AnswerSpan(stripped, occurrences[0]), "repaired"
    return None, "dropped"


def _as_offset(value: Any) -> int | None:
    """``answer_start`` as an int: some converters write it as a string or a float."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        as_float = float(value)
    except (TypeError, ValueError):
        return None
    return int(as_float) if as_float.is_integer() else None


def _occurrences(haystack: str, needle: str) -> list[int]:
    out, i = [], haystack.find(needle)
    while i >= 0:
        out.append(i)
        i = haystack.find(needle, i + 1)
    return out


def _read_json(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"QA dataset file {path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"QA dataset file {path} is not valid JSON: {exc}") from None


def load_squad(
    path: str | Path, dataset: str, lang: str, limit: int = 0
) -> tuple[list[QaExample], LoadReport]:
    """Flatten a SQuAD v1.1/v2.0 file (``data/paragraphs/qas``) into examples."""
    path = Path(path)
    doc = _read_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        raise ConfigError(f"QA dataset {dataset!r} ({path}): not SQuAD format (no top-level 'data' list)")
    report = LoadReport(dataset=dataset, path=str(path))
    examples: list[QaExample] = []
    seen: Counter = Counter()
    for a_idx, article in enumerate(doc["data"]):
        title = str(article.get("title", ""))
        for p_idx, para in enumerate(article.get("paragraphs", [])):
            context = para.get("context")
            if not isinstance(context, str) or not context.strip():
                report.skipped["empty context"] += len(para.get("qas", []))
                continue
            for q_idx, qa in enumerate(para.get("qas", [])):
                report.questions += 1
                question = str(qa.get("question", "")).strip()
                if not question:
                    report.skipped["empty question"] += 1
                    continue
                qid = _example_id(qa.get("id"), (a_idx, p_idx, q_idx), report, seen)
                raw_answers = qa.get("answers") or []
                impossible = bool(qa.get("is_impossible", False)) or not raw_answers
                spans: list[AnswerSpan] = []
                gold: list[str] = []
                if not impossible:
                    for ans in raw_answers:
                        text = str(ans.get("text", ""))
                        if not text.strip():
                            # SQuAD-es pads some answer lists with {"text": "", "answer_start": -1}
                            report.answers_empty += 1
                            continue
                        gold.append(text)
                        span, how = align_answer(context, text, _as_offset(ans.get("answer_start")))
                        setattr(report, f"answers_{how}", getattr(report, f"answers_{how}") + 1)
                        if span is not None and span not in spans:
                            spans.append(span)
                    if not spans:
                        report.unaligned_questions += 1
                else:
                    report.unanswerable += 1
                examples.append(
                    QaExample(
                        id=qid,
                        question=question,
                        context=context,
                        answers=tuple(spans),
                        dataset=dataset,
                        lang=lang,
                        gold_texts=tuple(gold),
                        is_impossible=impossible,
                        title=title,
                    )
                )
                if limit and len(examples) >= limit:
                    return _finish(examples, report)
    return _finish(examples, report)


def _example_id(raw: Any, position: tuple[int, int, int], report: LoadReport, seen: Counter) -> str:
    if raw is None or str(raw).strip() == "":
        report.missing_ids += 1
        qid = "a{}-p{}-q{}".format(*position)
    else:
        qid = str(raw)
    seen[qid] += 1
    if seen[qid] > 1:
        report.duplicate_ids += 1
        qid = f"{qid}#{seen[qid]}"
    return qid


def _finish(examples: list[QaExample], report: LoadReport) -> tuple[list[QaExample], LoadReport]:
    report.examples = len(examples)
    log.info(
        "%s: %d examples (%d unanswerable) from %s; answers ok %d, repaired %d, dropped %d%s",
        report.dataset,
        report.examples,
        report.unanswerable,
        report.path,
        report.answers_ok,
        report.answers_repaired,
        report.answers_dropped,
        f", {report.missing_ids} ids generated" if report.missing_ids else "",
    )
    return examples, report


def load_bioasq(
    path: str | Path, dataset: str, lang: str, limit: int = 0
) -> tuple[list[QaExample], LoadReport]:
    """BioASQ-style ``{"questions": [{"body", "type", "exact_answer", "snippets": [{"text"}]}]}``.

    Factoid and list questions become one example per snippet that contains an exact answer
    (BioASQ gives no offsets, so the answer is located in the snippet — its first occurrence,
    the convention of BioBERT's conversion); snippets that contain none are skipped and counted.
    Yes/no and summary questions have no span and are skipped.
    """
    path = Path(path)
    doc = _read_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("questions"), list):
        raise ConfigError(
            f"QA dataset {dataset!r} ({path}): not BioASQ format (no top-level 'questions' list)"
        )
    report = LoadReport(dataset=dataset, path=str(path))
    examples: list[QaExample] = []
    seen: Counter = Counter()
    for q_idx, q in enumerate(doc["questions"]):
        report.questions += 1
        qtype = str(q.get("type", "factoid"))
        if qtype not in ("factoid", "list"):
            report.skipped[f"type {qtype}"] += 1
            continue
        answers = list(_flatten_exact(q.get("exact_answer")))
        question = str(q.get("body", "")).strip()
        if not answers or not question:
            report.skipped["no exact answer or question"] += 1
            continue
        base_id = _example_id(q.get("id"), (q_idx, 0, 0), report, seen)
        for s_idx, snippet in enumerate(q.get("snippets", [])):
            context = str(snippet.get("text", ""))
            spans = []
            for ans in answers:
                pos = context.lower().find(ans.lower())
                if pos >= 0:
                    spans.append(AnswerSpan(context[pos : pos + len(ans)], pos))
            if not spans:
                report.skipped["snippet without answer"] += 1
                continue
            report.answers_ok += len(spans)
            examples.append(
                QaExample(
                    id=f"{base_id}_{s_idx:03d}",
                    question=question,
                    context=context,
                    answers=tuple(spans),
                    dataset=dataset,
                    lang=lang,
                    gold_texts=tuple(answers),
                )
            )
            if limit and len(examples) >= limit:
                return _finish(examples, report)
    return _finish(examples, report)


def _flatten_exact(value: Any) -> Iterable[str]:
    """BioASQ exact answers are a string, a list of synonyms, or (list questions) a list of lists."""
    if isinstance(value, str):
        if value.strip():
            yield value.strip()
    elif isinstance(value, list):
        for v in value:
            yield from _flatten_exact(v)


#: format name -> loader (the ``format`` key of a dataset in conf/train/qa_data/*.yaml)
LOADERS = {"squad": load_squad, "bioasq": load_bioasq}


def load_dataset_file(
    path: str | Path, *, dataset: str, lang: str, fmt: str = "squad", limit: int = 0
) -> tuple[list[QaExample], LoadReport]:
    try:
        loader = LOADERS[fmt]
    except KeyError:
        raise ConfigError(
            f"QA dataset {dataset!r}: format {fmt!r} is not one of {', '.join(sorted(LOADERS))} or out_of_scope "
            f"(data.*.{dataset}.format)"
        ) from None
    return loader(path, dataset, lang, limit)
