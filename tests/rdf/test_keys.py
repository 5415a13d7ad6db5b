"""The pseudonymisation key: outside disposable state, never replaced silently, same IRIs run after run."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from kgqa.errors import ConfigError
from kgqa.rdf import RdfBuilder, RdfConfig
from kgqa.rdf import keys as keys_module
from kgqa.rdf.keys import DISPOSABLE, KEY_FILE_ENV, key_file_path, load_key
from kgqa.stores import StoreConfig, open_store

from .rdf_factories import CONCEPTS, NOTE_A, RUN, build_graphs

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path, monkeypatch) -> dict[str, str]:
    """An environment without the key variable whose config home is a fresh directory."""
    monkeypatch.setattr(keys_module, "LEGACY_KEY_FILE", tmp_path / "checkout" / ".cache" / "pseudonym.key")
    return {"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "config")}


def _case_iri(key: str) -> str:
    return str(RdfBuilder(RdfConfig(), CONCEPTS, environ={"KGQA_PSEUDONYM_KEY": key}).iris.case("patient-001"))


def test_the_environment_variable_wins(env):
    assert load_key(RdfConfig(), {**env, "KGQA_PSEUDONYM_KEY": "from-env"}) == "from-env"
    assert not key_file_path(RdfConfig(), env).exists()


def test_a_missing_key_is_refused_with_the_way_out(env):
    path = key_file_path(RdfConfig(), env)
    with pytest.raises(ConfigError) as err:
        load_key(RdfConfig(), env)
    message = str(err.value)
    assert message.startswith("rdf.key_file: no pseudonymisation key at ") and str(path) in message
    assert "rdf.create_key=true" in message and "\n" not in message
    assert not path.exists()


def test_create_key_makes_a_private_key_that_later_runs_reuse(env):
    cfg = RdfConfig(create_key=True)
    key = load_key(cfg, env)
    path = key_file_path(cfg, env)
    assert path == Path(env["XDG_CONFIG_HOME"]) / "kgqa" / "pseudonym.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert len(key) == 64
    again = load_key(RdfConfig(), env)  # the next run needs no create_key, and mints the same IRIs
    assert again == key and load_key(cfg, env) == key
    assert _case_iri(again) == _case_iri(key)
    assert _case_iri(key) != _case_iri("another key")


def test_a_new_key_is_refused_while_the_store_holds_graphs_of_an_earlier_key(env):
    cfg = RdfConfig(create_key=True)
    with open_store(StoreConfig(kind="embedded", path="")) as store:
        builder = RdfBuilder(RdfConfig(), CONCEPTS, environ={"KGQA_PSEUDONYM_KEY": "the lost key"})
        assert store.replace_graphs(build_graphs(builder)).ok
        with pytest.raises(ConfigError, match=r"rdf.create_key: the store already holds 3 note graph\(s\)"):
            load_key(cfg, env, stored_graphs=store.graphs)
        assert not key_file_path(cfg, env).exists()
    with open_store(StoreConfig(kind="embedded", path="")) as empty:
        # only a run graph (no case IRIs in it): a new key is fine
        empty.replace_graphs([builder.run_graph(RUN, [NOTE_A])])
        assert load_key(cfg, env, stored_graphs=empty.graphs)


def test_a_key_readable_by_others_is_refused(env):
    path = key_file_path(RdfConfig(), env)
    path.parent.mkdir(parents=True)
    path.write_text("k" * 64)
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by other users .*chmod 600"):
        load_key(RdfConfig(), env)
    path.chmod(0o600)
    assert load_key(RdfConfig(), env) == "k" * 64


def test_an_earlier_kgqa_key_is_moved_not_replaced(env):
    legacy = keys_module.LEGACY_KEY_FILE
    legacy.parent.mkdir(parents=True)
    legacy.write_text("old-key")
    for cfg in (RdfConfig(), RdfConfig(create_key=True)):
        with pytest.raises(ConfigError, match=f"mv {legacy} "):
            load_key(cfg, env)
    assert not key_file_path(RdfConfig(), env).exists()


def test_where_the_key_file_is(env, tmp_path):
    assert key_file_path(RdfConfig(key_file=str(tmp_path / "a.key")), {**env, KEY_FILE_ENV: "/x/b.key"}) == \
        tmp_path / "a.key"  # fmt: skip
    assert key_file_path(RdfConfig(), {**env, KEY_FILE_ENV: "/x/b.key"}) == Path("/x/b.key")
    assert key_file_path(RdfConfig(), {"HOME": "/home/u"}) == Path("/home/u/.config/kgqa/pseudonym.key")


def test_nothing_pseudonymised_needs_no_key(env):
    assert load_key(RdfConfig(pseudonymise=False), env) is None


def test_run_sets_the_key_from_the_key_file(env, monkeypatch, tmp_path):
    """kgqa run's start-up (kgqa.commands.run.ensure_pseudonym_key) reads the key file, refuses without one."""
    from kgqa.commands.run import ensure_pseudonym_key
    from kgqa.config import RunConfig

    monkeypatch.delenv("KGQA_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", env["XDG_CONFIG_HOME"])
    cfg = RunConfig()
    with open_store(StoreConfig(kind="embedded", path="")) as store:
        with pytest.raises(ConfigError, match="rdf.key_file: no pseudonymisation key"):
            ensure_pseudonym_key(cfg, store)
        cfg.rdf.create_key = True
        ensure_pseudonym_key(cfg, store)
    assert os.environ["KGQA_PSEUDONYM_KEY"] == key_file_path(RdfConfig(), env).read_text().strip()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_clean_leaves_the_key():
    """`make clean` removes disposable directories of the checkout; the default key lives in the user's
    config home, and kgqa warns about a key file kept in any directory `make clean` removes."""
    out = subprocess.run(["make", "-n", "clean"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    removed = [PROJECT_ROOT / t for line in out.stdout.splitlines() if line.startswith("rm ")
               for t in line.split()[2:]]  # fmt: skip
    assert removed and set(removed) <= set(DISPOSABLE)
    key = key_file_path(RdfConfig(), {"HOME": str(PROJECT_ROOT)})  # even with the checkout as home
    assert not any(key.is_relative_to(r) for r in removed)
