"""``kgqa run`` fails fast and in one line (issue 24, items 3 and 4): every numeric setting range-checked,
the notes, model, precision, device, output directory and store checked before any model is loaded,
and each expected failure ends with one line on stderr and its documented exit code."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import time
import typing

import pytest

from kgqa import PROJECT_ROOT
from kgqa.config import RANGES, RunConfig, compose, to_object
from kgqa.errors import EXIT_CONFIG, EXIT_STORE, ConfigError


def _numeric_fields(schema, prefix=""):
    hints = typing.get_type_hints(schema)
    for f in dataclasses.fields(schema):
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            yield from _numeric_fields(hint, f"{prefix}{f.name}.")
        elif hint in (int, float) or typing.get_args(hint)[1:] in ((int,), (float,)):
            yield prefix + f.name


def test_every_numeric_setting_has_a_range():
    numeric = set(_numeric_fields(RunConfig))
    assert "reader.batch_size" in numeric and "store.retries" in numeric  # the walk finds them
    assert numeric - set(RANGES) == set(), "numeric settings without a range in kgqa.config.RANGES"
    assert set(RANGES) - numeric == set(), "RANGES names settings that do not exist"


@pytest.mark.parametrize(
    "override",
    [
        "reader.batch_size=-1",
        "notes.max_bytes=-5",
        "runner.notes_per_batch=0",
        "store.batch_size=0",
        "store.retries=-1",
        "linker.nil_threshold=1.5",
        "reader.min_confidence=-0.1",
        "rdf.quote_context=-1",
        "+reader.max_answer_tokens_by_kind={integer:0}",
        "reader.window.doc_stride=500",  # not below max_seq_length
        "store.timeout_s=nan",
    ],
)
def test_out_of_range_values_fail_when_the_config_is_built(override):
    key = override.lstrip("+").split("=")[0]
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        to_object(compose([override]), RunConfig)


def test_the_store_group_alone_is_range_checked_too():
    from kgqa.commands.query import compose_store_config

    with pytest.raises(ConfigError, match=r"store\.batch_size=0"):
        compose_store_config(["store.batch_size=0"])


def _kgqa_run(*args, env=None, timeout=180):
    t0 = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "kgqa", "run", *args],
        cwd=PROJECT_ROOT,
        check=False,  # callers assert on the return code
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    return out, time.monotonic() - t0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("kgqa run:")]
    assert len(lines) == 1, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    return lines[0]


@pytest.mark.parametrize(
    "overrides, code, needle",
    [
        (["reader.batch_size=-1"], EXIT_CONFIG, "reader.batch_size=-1"),
        (["reader.precision=int4"], EXIT_CONFIG, "reader.precision='int4'"),
        (["notes.path=/nonexistent"], EXIT_CONFIG, "notes.path=/nonexistent"),
        (["notes.format=xml"], EXIT_CONFIG, "notes.format='xml'"),
        (["catalogue.groups=[nosuchgroup]"], EXIT_CONFIG, "nosuchgroup"),
        (["model=local", "model.path=/nonexistent/model"], EXIT_CONFIG, "model.path=/nonexistent/model"),
        (["store=oxigraph", "store.query_url=not-a-url"], EXIT_CONFIG, "store.query_url"),
        (["output.dir=/proc/kgqa-cannot-write"], EXIT_CONFIG, "/proc/kgqa-cannot-write"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_config_errors_are_one_line_and_exit_2(tmp_path, overrides, code, needle):
    out, seconds = _kgqa_run(f"hydra.run.dir={tmp_path}", "store=memory", *overrides)
    assert out.returncode == code, out.stderr[-3000:]
    assert needle in _one_error_line(out.stderr)
    assert not (tmp_path / "facts.jsonl").exists()  # nothing ran
    assert seconds < 60


def test_an_unreachable_store_fails_in_seconds_before_the_model(tmp_path):
    port = _free_port()
    out, seconds = _kgqa_run(f"hydra.run.dir={tmp_path}", "store=oxigraph", f"store.query_url=http://127.0.0.1:{port}/query",
                             f"store.update_url=http://127.0.0.1:{port}/update", "store.graph_store_url=")  # fmt: skip
    assert out.returncode == EXIT_STORE
    line = _one_error_line(out.stderr)
    assert "cannot reach the server" in line and f"127.0.0.1:{port}" in line
    assert seconds < 60 and not (tmp_path / "facts.jsonl").exists()


def test_a_locked_embedded_store_is_one_line_naming_store_path(tmp_path):
    import pyoxigraph

    store_dir = tmp_path / "store"
    holder = pyoxigraph.Store(str(store_dir))  # this process holds RocksDB's lock
    try:
        out, seconds = _kgqa_run(f"hydra.run.dir={tmp_path / 'run'}", f"store.path={store_dir}")
    finally:
        del holder
    assert out.returncode == EXIT_STORE
    assert "store.path" in _one_error_line(out.stderr)
    assert seconds < 60


def test_kgqa_debug_shows_the_traceback(tmp_path):
    out, _ = _kgqa_run(f"hydra.run.dir={tmp_path}", "store=memory", "notes.format=xml", env={"KGQA_DEBUG": "1"})
    assert out.returncode == EXIT_CONFIG
    assert "Traceback" in out.stderr and "kgqa run: error: notes.format='xml'" in out.stderr


@pytest.mark.parametrize(
    "override, needle",
    [
        ("reader.batch_sise=3", "reader.batch_sise"),
        ("store=nosuch", "store/nosuch"),
        ("reader.batch_size=abc", "could not be converted to Integer"),
    ],
)
def test_a_bad_override_is_one_line_and_exit_2(tmp_path, override, needle):
    out, _ = _kgqa_run(f"hydra.run.dir={tmp_path}", override)
    assert out.returncode == EXIT_CONFIG and needle in _one_error_line(out.stderr)


def test_resume_needs_a_run_directory(tmp_path):
    out, _ = _kgqa_run("--resume", str(tmp_path))
    assert out.returncode == EXIT_CONFIG
    assert "not a kgqa run directory" in out.stderr and "Traceback" not in out.stderr


def test_a_checkpoint_that_cannot_load_is_one_line_and_exit_4(tmp_path):
    from kgqa.errors import EXIT_MODEL

    broken = tmp_path / "model"
    broken.mkdir()
    (broken / "config.json").write_text("{}", encoding="utf-8")
    out, _ = _kgqa_run(f"hydra.run.dir={tmp_path / 'run'}", "store=memory", "model=local", f"model.path={broken}")
    assert out.returncode == EXIT_MODEL
    assert "model.path" in _one_error_line(out.stderr)
