"""``kgqa validate`` on files and run directories: exit status, readable report, JSON last line."""

from __future__ import annotations

import json

import pytest

from kgqa.commands.validate import main
from kgqa.rdf import write_dataset
from kgqa.types import Value, ValueKind

from .rdf_factories import NOTE_A, RUN, fact, facts_a


def _run(capsys, *argv: str) -> tuple[int, str, dict]:
    rc = main(list(argv))
    out = capsys.readouterr()
    lines = out.out.strip().splitlines()
    return rc, out.out + out.err, json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}


def test_conforming_file_passes_and_lists_incomplete_cases(tmp_path, capsys, graphs, resq_shapes):
    path = write_dataset(graphs, tmp_path / "graphs.trig")
    rc, text, summary = _run(capsys, str(path), "--resq-shapes", str(resq_shapes))
    assert rc == 0, text
    assert summary["conforms"] and summary["violations"] == 0
    assert summary["incomplete_cases"] == 2 and summary["shape_sets"] == ["resq", "kgqa", "review"]
    assert "no resq:StrokeType" in text


def test_strict_fails_on_incomplete_cases(tmp_path, capsys, graphs, resq_shapes):
    path = write_dataset(graphs, tmp_path / "graphs.nq", "nquads")
    rc, _, summary = _run(capsys, str(path), "--strict", "--resq-shapes", str(resq_shapes))
    assert rc == 1 and summary["conforms"]


def test_run_directory_with_a_broken_fact_fails_readably(tmp_path, capsys, builder, resq_shapes):
    broken = fact(NOTE_A, "prestroke_mrs", "mRS 4", Value(ValueKind.INTEGER, 9))  # mRS is 0..6
    facts = [*(f for f in facts_a() if f.concept_id != "prestroke_mrs"), broken]
    write_dataset([builder.note_graph(NOTE_A, facts, RUN), builder.run_graph(RUN, [NOTE_A])],
                  tmp_path / "graphs.trig")
    rc, text, summary = _run(capsys, str(tmp_path), "--resq-shapes", str(resq_shapes))
    assert rc == 1 and summary["violations"] == 1
    assert "[resq] Violation" in text and "prestroke_mrs" in text and "MaxInclusive" in text


@pytest.mark.parametrize("argv", [[], ["no/such/file.trig"], ["--store", "x.trig"]])
def test_usage_errors_exit_2(capsys, argv):
    rc, text, _ = _run(capsys, *argv)
    assert rc == 2 and "kgqa validate" in text


def test_unparsable_file_names_the_file(tmp_path, capsys):
    bad = tmp_path / "bad.trig"
    bad.write_text("<a> <b> .", encoding="utf-8")
    rc, text, _ = _run(capsys, str(bad))
    assert rc == 2 and "bad.trig" in text


def test_store_mode_validates_the_union_of_the_store(tmp_path, capsys, graphs, resq_shapes):
    from kgqa.stores import open_store
    from kgqa.stores.config import StoreConfig

    store_dir = tmp_path / "store"
    with open_store(StoreConfig(kind="embedded", path=str(store_dir))) as store:
        assert store.replace_graphs(graphs).ok
    rc, text, summary = _run(capsys, "--store", "store=embedded", f"store.path={store_dir}",
                             f"rdf.resq_shapes={resq_shapes}")
    assert rc == 0, text
    assert summary["triples"] == len({t for g in graphs for t in g})
    assert summary["incomplete_cases"] == 2


def test_without_the_resq_shapes_the_verdict_says_what_was_not_checked(tmp_path, capsys, graphs):
    path = write_dataset(graphs, tmp_path / "graphs.trig")
    rc, text, summary = _run(capsys, str(path), "--resq-shapes", str(tmp_path / "absent.ttl"))
    assert rc == 0 and summary["conforms"] and summary["shape_sets"] == ["kgqa", "review"] and not summary["resq_checked"]
    verdict = next(line for line in text.splitlines() if line.startswith(("conforms", "does NOT")))
    assert verdict.startswith("conforms to kgqa's shapes and kgqa's review-decision shapes; NOT checked against the RES-Q PLUS")
    assert "github.com/Ontotext-AD/resq_plus" in verdict and "--resq-shapes" in verdict
    # --require-resq: their absence is an error, in one line
    rc, text, _ = _run(capsys, str(path), "--resq-shapes", str(tmp_path / "absent.ttl"), "--require-resq")
    assert rc == 2 and "kgqa validate: error: --require-resq" in text and "absent.ttl" in text


def test_with_the_resq_shapes_the_verdict_names_both_sets(tmp_path, capsys, graphs, resq_shapes):
    path = write_dataset(graphs, tmp_path / "graphs.trig")
    rc, text, summary = _run(capsys, str(path), "--resq-shapes", str(resq_shapes), "--require-resq")
    assert rc == 0 and summary["resq_checked"]
    assert "conforms to the RES-Q PLUS shapes and kgqa's shapes" in text and "NOT checked" not in text


def test_help_says_where_to_get_the_resq_shapes(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "github.com/Ontotext-AD/resq_plus" in capsys.readouterr().out
