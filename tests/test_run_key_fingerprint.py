"""A pseudonymisation key changed through the environment is caught (issue 24, item 10): every run records
the key's fingerprint (run.json, summary.json, its run graph), and a run or resume against a run directory
or a store made with another key stops with one line, unless ``--accept-new-key`` says it is deliberate."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from kgqa import PROJECT_ROOT
from kgqa.commands import run as run_module
from kgqa.config import RunConfig, compose, to_object
from kgqa.errors import EXIT_CONFIG, ConfigError
from kgqa.rdf import RdfConfig
from kgqa.rdf.keys import check_key_fingerprint, key_fingerprint, key_source

KEY_A, KEY_B = "the key the store was made with", "a key from another shell's environment"


def test_the_fingerprint_names_the_key_and_tells_nothing_of_it():
    fp = key_fingerprint(KEY_A)
    assert fp == key_fingerprint(KEY_A) != key_fingerprint(KEY_B)
    assert len(fp) == 16 and int(fp, 16) >= 0
    assert fp not in KEY_A and KEY_A not in fp
    assert key_fingerprint(None) == key_fingerprint("") == ""


def test_the_refusal_is_one_line_naming_both_fingerprints_the_source_and_the_way_on():
    with pytest.raises(ConfigError) as info:
        check_key_fingerprint("aaaa", "bbbb", "the run directory /r", "$KGQA_PSEUDONYM_KEY", "pass --x to go on")
    message = str(info.value)
    assert "\n" not in message and message.startswith("rdf.key_env/rdf.key_file: the pseudonymisation key from ")
    assert "$KGQA_PSEUDONYM_KEY (fingerprint aaaa)" in message and "/r was made with (fingerprint bbbb)" in message
    assert message.endswith("Use that key again, or pass --x to go on")
    for current, recorded in (("aaaa", "aaaa"), ("aaaa", ""), ("", "bbbb")):  # same key, nothing recorded, no key
        check_key_fingerprint(current, recorded, "the run directory /r", "$K", "")


def test_key_source_names_the_variable_or_the_file(tmp_path):
    cfg = RdfConfig(key_file=str(tmp_path / "p.key"))
    assert key_source(cfg, {"KGQA_PSEUDONYM_KEY": "k"}) == "$KGQA_PSEUDONYM_KEY"
    assert key_source(cfg, {}) == f"the key file {tmp_path / 'p.key'}"


def _cfg(tiny_checkpoint, store_dir) -> RunConfig:
    overrides = ["store=embedded", f"store.path={store_dir}", "model=local", f"model.path={tiny_checkpoint}",
                 "catalogue.concepts=[age]", "notes.limit=2", "summary_query=", "runner.progress=false"]  # fmt: skip
    return to_object(compose(overrides), RunConfig)


def _run(cfg, run_dir, monkeypatch, key, **kwargs) -> dict:
    monkeypatch.setenv("KGQA_PSEUDONYM_KEY", key)
    return run_module.execute(cfg, run_dir, config_yaml="notes: {}\n", **kwargs)


def _manifest(run_dir) -> dict:
    return json.loads((run_dir / "run.json").read_text(encoding="utf-8"))


def test_another_key_is_refused_against_the_run_directory_and_the_store(tiny_checkpoint, tmp_path, monkeypatch):
    store_dir, run_dir = tmp_path / "store", tmp_path / "run"
    cfg = _cfg(tiny_checkpoint, store_dir)
    fp_a, fp_b = key_fingerprint(KEY_A), key_fingerprint(KEY_B)

    first = _run(cfg, run_dir, monkeypatch, KEY_A)
    assert first["key_fingerprint"] == fp_a == _manifest(run_dir)["key_fingerprint"]
    assert KEY_A not in (run_dir / "run.json").read_text() + (run_dir / "summary.json").read_text()
    with run_module.open_checked_store(cfg) as store:
        assert run_module.stored_key_fingerprint(store) == fp_a  # the run graph records it

    # the same run directory (a resume), another key: refused before the model loads, nothing touched
    monkeypatch.setattr(run_module, "build_pipeline", lambda *a, **k: pytest.fail("the model was loaded"))
    with pytest.raises(ConfigError, match=rf"\$KGQA_PSEUDONYM_KEY \(fingerprint {fp_b}\) is not the key the run "
                                          rf"directory {run_dir} was made with \(fingerprint {fp_a}\)"):  # fmt: skip
        _run(cfg, run_dir, monkeypatch, KEY_B)
    assert _manifest(run_dir)["key_fingerprint"] == fp_a
    # a fresh run directory against the same store: the store's latest run says which key it was
    with pytest.raises(ConfigError, match=r"is not the key the store's latest run was made with .*--accept-new-key"):
        _run(cfg, tmp_path / "other-run", monkeypatch, KEY_B)
    monkeypatch.undo()

    # deliberately: every note of the run directory is re-run under the new key
    second = _run(cfg, run_dir, monkeypatch, KEY_B, accept_new_key=True)
    assert second["notes_resumed"] == 0 and second["notes"] == 2
    assert second["key_fingerprint"] == fp_b == _manifest(run_dir)["key_fingerprint"]
    # from then on the new key is the one: resumed without the flag, the old key refused
    assert _run(cfg, run_dir, monkeypatch, KEY_B)["notes_resumed"] == 2
    with pytest.raises(ConfigError, match="fingerprint " + fp_b):
        _run(cfg, run_dir, monkeypatch, KEY_A)


def test_a_run_directory_without_a_fingerprint_is_not_resumed(tiny_checkpoint, tmp_path, monkeypatch):
    """A run directory of an earlier kgqa recorded no fingerprint: its notes may be another key's, so they are re-run."""
    cfg = _cfg(tiny_checkpoint, tmp_path / "store")
    _run(cfg, tmp_path / "run", monkeypatch, KEY_A)
    manifest = _manifest(tmp_path / "run")
    del manifest["key_fingerprint"]
    (tmp_path / "run" / "run.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert _run(cfg, tmp_path / "run", monkeypatch, KEY_A)["notes_resumed"] == 0
    assert _run(cfg, tmp_path / "run", monkeypatch, KEY_A)["notes_resumed"] == 2


def test_the_command_line_refuses_in_one_line_and_takes_the_flag(tiny_checkpoint, tmp_path, monkeypatch):
    run_dir, store_dir = tmp_path / "run", tmp_path / "store"
    args = [f"hydra.run.dir={run_dir}", f"store.path={store_dir}", "model=local", f"model.path={tiny_checkpoint}",
            "catalogue.concepts=[age]", "notes.limit=1", "summary_query=", "runner.progress=false"]  # fmt: skip

    def kgqa_run(key, *extra):
        env = {**os.environ, "KGQA_PSEUDONYM_KEY": key}
        return subprocess.run([sys.executable, "-m", "kgqa", "run", *extra, *args], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True, timeout=600, check=False)  # fmt: skip

    assert kgqa_run(KEY_A).returncode == 0
    refused = kgqa_run(KEY_B)
    assert refused.returncode == EXIT_CONFIG
    (line,) = refused.stderr.strip().splitlines()
    assert line.startswith("kgqa run: error: rdf.key_env/rdf.key_file: the pseudonymisation key from $KGQA_PSEUDONYM_KEY")
    assert "--accept-new-key" in line and "Traceback" not in refused.stderr
    accepted = kgqa_run(KEY_B, "--accept-new-key")
    assert accepted.returncode == 0, accepted.stderr[-2000:]
    assert json.loads(accepted.stdout.strip().splitlines()[-1])["key_fingerprint"] == key_fingerprint(KEY_B)
