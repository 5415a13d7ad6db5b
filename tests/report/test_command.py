"""``kgqa report`` end to end: from a run directory's files, and from the store."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from report_htmltree import parse

from kgqa import PROJECT_ROOT
from kgqa.records_io import write_facts_jsonl, write_notes_jsonl
from kgqa.types import Answer, Assertion, Fact, ModelInfo, Note, RunInfo, Value, ValueKind, ValueStatus

catalogue_mod = pytest.importorskip("kgqa.catalogue")
from kgqa.commands.report import main

CATALOGUE = PROJECT_ROOT / "kgqa/resources/catalogue/resq.yaml"
TEXTS = {
    "a-en": ("en", "Male, 67 years, NIHSS 14 on admission. No hypertension."),
    "b-pl": ("pl", "Mężczyzna, 71 lat, NIHSS 9 przy przyjęciu."),
    "c-el": ("el", "Άνδρας, 58 ετών, NIHSS 3 κατά την εισαγωγή."),
}


def _fact(note: Note, concept: str, needle: str, value: Value, confidence: float = 0.9) -> Fact:
    start = note.text.index(needle)
    answer = Answer.from_note(note, concept, start, start + len(needle), score=3.0, null_score=-1.0,
                              confidence=confidence, question=f"{concept}?", question_lang="en")
    return Fact(note.id, concept, value, answer)


def make_run(root: Path, groups: list[str] | None = None) -> tuple[Path, list[Note], list[Fact]]:
    notes = [Note(i, text, lang, patient_id=f"P-{i}") for i, (lang, text) in TEXTS.items()]
    facts = []
    for note in notes:
        age = note.text.split(", ")[1].split()[0]
        nihss = note.text.split("NIHSS ")[1].split()[0]
        facts.append(_fact(note, "age", age, Value(ValueKind.INTEGER, int(age), unit="year")))
        facts.append(_fact(note, "nihss_score", nihss, Value(ValueKind.INTEGER, int(nihss)), confidence=0.3))
    facts.append(_fact(notes[0], "risk_hypertension", "No hypertension",
                       Value(ValueKind.BOOLEAN, False, assertion=Assertion.NEGATED)))
    facts.append(_fact(notes[1], "glucose", "71", Value(ValueKind.DECIMAL, 71, status=ValueStatus.REJECTED,
                                                       reason="71 is above the maximum 50")))
    run_dir = root / "run"
    (run_dir / ".hydra").mkdir(parents=True)
    write_notes_jsonl(notes, run_dir / "notes.jsonl")
    write_facts_jsonl(facts, run_dir / "facts.jsonl")
    (run_dir / "errors.jsonl").write_text(json.dumps(
        {"source": "broken.txt", "reason": "not UTF-8", "note_id": None, "stage": "read"}) + "\n", encoding="utf-8")
    (run_dir / "summary.json").write_text(json.dumps({"run_id": "run-42", "model": "tiny", "notes": 3}),
                                          encoding="utf-8")
    catalogue = {"path": "${kgqa_root:}/kgqa/resources/catalogue/resq.yaml", "concepts": [], "groups": groups or []}
    (run_dir / ".hydra" / "config.yaml").write_text(json.dumps({"catalogue": catalogue}), encoding="utf-8")
    return run_dir, notes, facts


def last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_report_from_run_dir(tmp_path, capsys):
    run_dir, _, facts = make_run(tmp_path)
    assert main([str(run_dir)]) == 0
    summary = last_json(capsys)
    assert summary == {"index": str(run_dir / "report" / "index.html"), "notes": 3, "facts": len(facts), "errors": 1}
    index = parse((run_dir / "report" / "index.html").read_text(encoding="utf-8"))
    assert [r.attrs["data-id"] for r in index.by_class("note-row", "tr")] == ["a-en", "b-pl", "c-el"]
    header = {d.find_all(lambda e: e.tag == "dt")[0].text: d.find_all(lambda e: e.tag == "dd")[0].text
              for d in index.by_class("run", "dl")[0].find_all(lambda e: e.tag == "div")}
    assert (header["run"], header["model"], header["notes"], header["facts"]) == ("run-42", "tiny", "3", str(len(facts)))
    assert "broken.txt" in index.text and "not UTF-8" in index.text
    pages = sorted((run_dir / "report" / "notes").glob("*.html"))
    assert len(pages) == 3
    catalogue = catalogue_mod.load_catalogue(CATALOGUE)
    page = parse(next(p for p in pages if p.name.startswith("a-en")).read_text(encoding="utf-8"))
    rows = [r.attrs["data-concept"] for r in page.by_class("concept", "tr")]
    assert rows == list(catalogue.ids)  # the whole questionnaire, in catalogue order
    states = {r.attrs["data-concept"]: r.classes for r in page.by_class("concept", "tr")}
    assert "state-found" in states["age"] and "state-not-found" in states["sex"]


def test_run_catalogue_selection_and_note_selection(tmp_path, capsys):
    run_dir, _, _ = make_run(tmp_path, groups=["examination"])
    out = tmp_path / "review"
    assert main([str(run_dir), "--note", "b-pl", "-o", str(out), "--low-confidence", "0.2", "--no-figure"]) == 0
    assert last_json(capsys)["notes"] == 1
    page = parse(next((out / "notes").glob("b-pl*.html")).read_text(encoding="utf-8"))
    catalogue = catalogue_mod.load_catalogue(CATALOGUE)
    rows = [r.attrs["data-concept"] for r in page.by_class("concept", "tr")]
    # the run asked only this group; a fact outside the selection is shown last, not dropped
    assert rows == [c.id for c in catalogue if c.group == "examination"] + ["age"]
    assert "age" in [c.attrs["data-concept"] for c in page.by_class("fact-card")]
    assert not page.by_class("low", "mark")  # 0.3 is not below 0.2
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "data:image/png" not in index


@pytest.mark.parametrize(
    ("argv", "rc", "message"),
    [
        ([], 2, "give a run directory"),
        (["a", "b"], 2, "one run directory at most"),
        (["run", "store.kind=embedded"], 2, "--store mode only"),
        (["does-not-exist"], 1, "not a directory"),
    ],
)
def test_bad_invocations(tmp_path, monkeypatch, capsys, argv, rc, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run").mkdir()
    assert main(argv) == rc
    assert message in capsys.readouterr().err


def test_run_dir_without_outputs(tmp_path, capsys):
    assert main([str(tmp_path)]) == 1
    assert "notes.jsonl: missing" in capsys.readouterr().err


def test_unknown_note_is_an_error(tmp_path, capsys):
    run_dir, _, _ = make_run(tmp_path)
    assert main([str(run_dir), "--note", "zz"]) == 1
    assert "'zz'" in capsys.readouterr().err


def load_run(store_cfg, notes, facts) -> None:
    """The run's graphs, built by the real RDF builder, in the store ``store_cfg`` names."""
    from kgqa.rdf.builder import RdfBuilder
    from kgqa.rdf.config import RdfConfig
    from kgqa.stores import open_store

    catalogue = catalogue_mod.load_catalogue(CATALOGUE)
    run = RunInfo("run-42", dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc), "0.1.0", ModelInfo("/m", "0" * 64), "1" * 64)
    builder = RdfBuilder(RdfConfig(), catalogue)
    with open_store(store_cfg) as store:
        store.replace_graphs([*(builder.note_graph(n, [f for f in facts if f.note_id == n.id], run) for n in notes),
                              builder.run_graph(run, notes)])


def check_store_report(out: Path, notes, facts, summary) -> None:
    assert (summary["notes"], summary["facts"]) == (3, len(facts))
    page = parse(next((out / "notes").glob("a-en*.html")).read_text(encoding="utf-8"))
    start = notes[0].text.index("No hypertension")
    seg = [s for s in page.by_class("seg", "span") if s.attrs.get("data-start") == str(start)]
    assert seg and seg[0].text.startswith("No hypertension")
    card = next(c for c in page.by_class("fact-card") if c.attrs["data-concept"] == "risk_hypertension")
    assert "negated" in card.text and "no" in card.text
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "run-42" in index and "/m" in index  # run id, and the model path from the run graph


def test_report_from_store(tmp_path, capsys):
    from kgqa.stores.config import StoreConfig

    run_dir, notes, facts = make_run(tmp_path)
    store_dir = tmp_path / "store"
    load_run(StoreConfig(kind="embedded", path=str(store_dir)), notes, facts)
    out = tmp_path / "from-store"
    # the run dir supplies the note texts (notes.jsonl) and the run id (summary.json)
    assert main(["--store", str(run_dir), f"store.path={store_dir}", "-o", str(out)]) == 0
    check_store_report(out, notes, facts, last_json(capsys))


@pytest.mark.integration
def test_report_from_oxigraph_server(tmp_path, capsys):
    from kgqa.stores.config import StoreConfig
    from kgqa.stores.testing import OxigraphServer, oxigraph_binary

    if not oxigraph_binary():
        pytest.skip("the `oxigraph` server binary (PyPI package oxigraph) is not installed")
    _, notes, facts = make_run(tmp_path)
    server = OxigraphServer(tmp_path / "ox").start()
    try:
        urls = {"query_url": f"{server.base}/query", "update_url": f"{server.base}/update",
                "graph_store_url": f"{server.base}/store"}
        load_run(StoreConfig(kind="sparql", **urls), notes, facts)
        notes_file = tmp_path / "texts.jsonl"
        notes_file.write_text("".join(json.dumps({"id": n.id, "text": n.text, "lang": n.lang}) + "\n" for n in notes),
                              encoding="utf-8")
        out = tmp_path / "from-server"
        overrides = ["store=oxigraph", *(f"store.{k}={v}" for k, v in urls.items())]
        assert main(["--store", "--notes", str(notes_file), "--run-id", "run-42", "-o", str(out), *overrides]) == 0
        check_store_report(out, notes, facts, last_json(capsys))
    finally:
        server.kill()
