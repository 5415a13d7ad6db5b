"""The throughput benchmark runs end to end and keeps its output contract (one JSON object last)."""

import json
import runpy
import sys

import pytest

from kgqa import PROJECT_ROOT

REQUIRED = {
    "kgqa_pairs_per_s",
    "baseline_pairs_per_s",
    "ratio",
    "top1_agreement",
    "mode",
    "model_size",
    "gemm_peak_fraction",
}


@pytest.mark.slow
def test_quick_benchmark_prints_its_json_last(tmp_path, capsys, monkeypatch) -> None:
    argv = ["qa_throughput.py", "--quick", "--sizes", "tiny", "--modes", "fp32,onnx", "--workdir", str(tmp_path)]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(PROJECT_ROOT / "benchmarks" / "qa_throughput.py"), run_name="__main__")
    assert done.value.code == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    summary = json.loads(last)
    assert REQUIRED <= set(summary)
    assert summary["model_size"] == "tiny" and summary["quick"] is True
    rows = {r["mode"]: r for r in summary["results"]}
    assert set(rows) == {"fp32", "onnx"}
    # same windowing, same constraints, fp32 both sides: the reader must reproduce the baseline's top-1
    assert rows["fp32"]["top1_agreement"] == 1.0
    assert rows["onnx"]["top1_agreement_vs_fp32_decisive"] == 1.0
    assert all(r["kgqa_pairs_per_s"] > 0 and r["baseline_pairs_per_s"] > 0 for r in rows.values())
