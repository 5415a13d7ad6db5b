"""scripts/out_of_scope_answers.py: answers a reader gives on notes that cannot answer the questions."""

import importlib.util
import json

from kgqa import PROJECT_ROOT


def _script():
    path = PROJECT_ROOT / "scripts" / "out_of_scope_answers.py"
    spec = importlib.util.spec_from_file_location("out_of_scope_answers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_counts_the_reader_answers_on_the_kept_notes(tiny_checkpoint, tmp_path, capsys):
    script = _script()
    (tmp_path / "a.txt").write_text("A 58-year-old miner with cough and night sweats; sputum positive.", encoding="utf-8")
    (tmp_path / "b.txt").write_text("Fractured radius after a fall, treated with a cast for six weeks.", encoding="utf-8")
    (tmp_path / "c.txt").write_text("Acute ischaemic stroke, NIHSS 7, thrombolysis at 14:35.", encoding="utf-8")
    args = [str(tiny_checkpoint), str(tmp_path), "--lang", "en", "--concepts", "thrombolysis,nihss_score",
            "--exclude", "stroke"]
    assert script.main(args) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["notes"] == 2 and result["questions"] == 4  # the stroke note is excluded
    # the same count by hand: the reader as the script builds it, on the two kept notes
    from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue
    from kgqa.qa import Reader
    from kgqa.qa.config import ModelConfig, ReaderConfig
    from kgqa.types import Note

    reader = Reader.from_config(ModelConfig(path=str(tiny_checkpoint)), ReaderConfig())
    cat = load_catalogue(DEFAULT_CATALOGUE)
    notes = [Note(id=n, text=(tmp_path / f"{n}.txt").read_text(encoding="utf-8"), lang="en") for n in ("a", "b")]
    answers = reader.read(notes, [cat.get("thrombolysis"), cat.get("nihss_score")])
    by_hand = sum(len(v) for v in answers.values())
    assert result["answered"] == by_hand == sum(result["by_concept"].values())
    assert result["rate"] == round(by_hand / 4, 4)
