"""`kgqa eval` end to end on the hand-made fixture: the pipeline is replaced by the fixture's facts."""

import json

from kgqa.commands import eval as eval_cmd
from kgqa.evaluation.gold import write_gold_jsonl


class _Model:
    path, sha256 = "fixture-model", "0" * 64


class _Reader:
    model_info = _Model()


class _Pipeline:
    reader = _Reader()


def test_eval_command_prints_hand_computed_scores_last(fixture_eval, tmp_path, monkeypatch, capsys):
    golds, facts, concepts = fixture_eval
    gold_path = tmp_path / "gold.jsonl"
    write_gold_jsonl(golds, gold_path)
    by_id = {c.id: c for c in concepts}

    class _Catalogue:
        ids = tuple(by_id)

        def get(self, cid):
            return by_id[cid]

        def __iter__(self):
            return iter(by_id.values())

    seen = {}

    def fake_extract(cfg, notes, concept_ids):
        seen["concepts"] = list(concept_ids)
        return facts, [], _Pipeline()

    monkeypatch.setattr(eval_cmd, "extract", fake_extract)
    monkeypatch.setattr("kgqa.catalogue.load_catalogue", lambda path: _Catalogue())
    out = tmp_path / "report"
    assert eval_cmd.main([str(gold_path), "--out", str(out), "runner.notes_per_batch=2"]) == 0

    printed = capsys.readouterr().out
    last = json.loads(printed.strip().splitlines()[-1])
    # glucose is annotated nowhere, so it is out of scope and its stray answer is not scored:
    # 3 grounded right values of 5 scored predictions, 6 gold values -> P .6, R .5
    assert abs(last["micro_f1"] - 2 * 0.6 * 0.5 / 1.1) < 1e-9
    # en: P 3/5, R 3/5; es: nothing found
    assert abs(last["per_lang"]["en"] - 0.6) < 1e-9 and last["per_lang"]["es"] == 0.0
    # only concepts annotated somewhere in the gold file are scored by default (glucose is not)
    assert "glucose" not in seen["concepts"] and "nihss_score" in seen["concepts"]
    report = json.loads((out / "report.json").read_text())
    assert report["by_concept"]["stroke_type"]["linking_accuracy"] == 0.0
    assert (out / "reliability.png").read_bytes()[:4] == b"\x89PNG"
    # ECE and the coverage/accuracy curve, overall and per language (es answered nothing: an empty curve)
    assert report["calibration"]["curve"][0]["answered"] == report["calibration"]["count"] == 5
    assert set(report["calibration_by_lang"]) == {"en", "es"}
    assert report["calibration_by_lang"]["es"]["curve"][0] == {"threshold": 0.0, "answered": 0, "coverage": None,
                                                               "accuracy": None, "recall": 0.0}
    assert report["calibration_by_lang"]["en"]["curve"][0]["recall"] == report["by_lang"]["en"]["value"]["recall"]
    assert "accuracy/recall at conf" in printed
    assert (out / "facts.jsonl").read_text().count("\n") == 6  # every fact is kept for inspection


def test_eval_command_rejects_unknown_flags(tmp_path, capsys):
    import pytest

    with pytest.raises(SystemExit):
        eval_cmd.main([str(tmp_path / "g.jsonl"), "--bogus"])


def test_eval_needs_no_pseudonymisation_key(tiny_checkpoint, tmp_path, monkeypatch):
    """A fresh machine has no key; evaluation writes no graph, so it must run without one."""
    from kgqa.evaluation.gold import GoldAnnotation, GoldNote
    from kgqa.types import Note

    monkeypatch.delenv("KGQA_PSEUDONYM_KEY", raising=False)
    monkeypatch.setenv("KGQA_KEY_FILE", str(tmp_path / "no-such.key"))
    text = "Pacient 72 let, NIHSS 8."
    gold = GoldNote(Note(id="n1", text=text, lang="cs"), (GoldAnnotation("nihss_score", 22, 23, "8", 8),))
    gold_path = tmp_path / "gold.jsonl"
    write_gold_jsonl([gold], gold_path)
    out = tmp_path / "report"
    rc = eval_cmd.main([str(gold_path), "--out", str(out), "model=local", f"model.path={tiny_checkpoint}",
                        "store=memory"])
    assert rc == 0 and (out / "report.json").is_file()
    assert not (tmp_path / "no-such.key").exists()
