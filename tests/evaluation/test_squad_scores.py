"""scripts/squad_scores.py: a checkpoint's SQuAD EM/F1, decoded as the reader decodes."""

import importlib.util
import json

from kgqa import PROJECT_ROOT


def _script():
    spec = importlib.util.spec_from_file_location("squad_scores", PROJECT_ROOT / "scripts" / "squad_scores.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scores_follow_the_reader_best_span(tiny_checkpoint, tmp_path, capsys):
    script = _script()
    context = "The patient received alteplase at 14:35 in the emergency department."
    squad = {"data": [{"title": "t", "paragraphs": [{"context": context, "qas": [
        {"id": "q1", "question": "What drug was given?", "answers": [{"text": "alteplase", "answer_start": 21}]},
        {"id": "q2", "question": "When?", "answers": [{"text": "14:35", "answer_start": 34}]},
    ]}]}]}
    path = tmp_path / "mini.en.json"
    path.write_text(json.dumps(squad), encoding="utf-8")
    assert script.main([str(tiny_checkpoint), str(path)]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["mini.en.json"]
    assert result["n"] == 2 and 0 <= result["EM"] <= result["F1"] <= 100
    # the same numbers by hand from the reader's own decoding
    from kgqa.qa import Reader
    from kgqa.qa.config import ModelConfig, ReaderConfig
    from training.metrics import per_question_scores

    reader = Reader.from_config(ModelConfig(path=str(tiny_checkpoint)), ReaderConfig())
    recs = script.records(path, "en")
    f1 = 0.0
    for rec, decoded in zip(recs, reader.decode_pairs(script.dev_pairs(recs))):
        best = decoded.candidates[0]
        f1 += per_question_scores(list(rec.answers), rec.context[best.start : best.end])[1]
    assert result["F1"] == round(100 * f1 / 2, 1)
    assert script.file_lang(path, "") == "en" and script.file_lang(path, "ro") == "ro"
    # --limit scores the first N questions of each file only
    assert script.main([str(tiny_checkpoint), str(path), "--limit", "1"]) == 0
    limited = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["mini.en.json"]
    assert limited["n"] == 1


def test_questions_without_ids_are_numbered(tmp_path):
    script = _script()
    squad = {"data": [{"title": "t", "paragraphs": [{"context": "NIHSS 8.", "qas": [
        {"question": "NIHSS?", "answers": [{"text": "8", "answer_start": 6}]},
        {"question": "Score?", "answers": [{"text": "8", "answer_start": 6}]},
    ]}]}]}
    path = tmp_path / "poquad_like.json"
    path.write_text(json.dumps(squad), encoding="utf-8")
    assert [r.id for r in script.records(path, "pl")] == ["a0-p0-q0", "a0-p0-q1"]
