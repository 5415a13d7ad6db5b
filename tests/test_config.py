"""Hydra composition: every YAML composes against its schema; typos and wrong types fail."""

from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf.errors import ConfigKeyError, ValidationError

from kgqa.config import CONF_DIR, RunConfig, compose, masked_yaml, to_object

RUN_GROUPS = ["notes", "model", "reader", "catalogue", "linker", "rdf", "store", "runner"]


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


@pytest.mark.parametrize(
    "group, option", [(g, o) for g in RUN_GROUPS for o in _options(g)]
)
def test_every_run_option_composes(group, option):
    overrides = [f"{group}={option}"]
    if (group, option) in (("notes", "jsonl"), ("model", "local")):
        overrides.append(f"{group}.path=/tmp/x")  # these options require a path (???)
    cfg = to_object(compose(overrides), RunConfig)
    assert isinstance(cfg, RunConfig)


def test_every_run_yaml_extends_its_schema():
    for group in RUN_GROUPS:
        for path in (CONF_DIR / group).glob("*.yaml"):
            text = path.read_text(encoding="utf-8")
            assert f"base_{group}" in text, f"{path} does not extend base_{group}"


@pytest.mark.parametrize(
    "override",
    ["store.pathh=/tmp/x", "reader.batch_size=many", "notes.max_bytes=1.5x", "nonexistent=1", "store=nosuchstore"],
)
def test_wrong_override_fails_at_composition(override):
    with pytest.raises((ConfigCompositionException, ConfigKeyError, ValidationError)):
        compose([override])


def test_overrides_reach_the_typed_config():
    cfg = to_object(compose(["store=oxigraph", "reader.precision=int8", "notes.path=/data/notes"]), RunConfig)
    assert cfg.store.kind == "sparql" and cfg.store.query_url.endswith("/query")
    assert cfg.reader.precision == "int8" and cfg.notes.path == "/data/notes"
    assert Path(cfg.model.path).is_absolute()


def test_secrets_are_masked(monkeypatch):
    monkeypatch.setenv("KGQA_GRAPHDB_PASSWORD", "hunter2")
    cfg = compose(["store=graphdb"])
    assert cfg.store.password == "hunter2"
    assert "hunter2" not in masked_yaml(cfg)


def test_missing_required_value_is_an_error_naming_the_key():
    from kgqa.errors import ConfigError

    with pytest.raises(ConfigError, match="model.path"):
        to_object(compose(["model=local"]), RunConfig)


def test_trained_tokenizer_offsets_match_the_saved_one(tmp_path):
    from transformers import AutoTokenizer

    from kgqa.tokenizer import train_unigram_tokenizer

    tok = train_unigram_tokenizer(["Pacient přijat s NIHSS 8 b.", "Ο ασθενής εισήχθη", "NIHSS 14 on admission"] * 20, vocab_size=200)
    tok.save_pretrained(tmp_path)
    again = AutoTokenizer.from_pretrained(tmp_path)
    text = "Pacient přijat s NIHSS 8 b."
    assert tok(text, return_offsets_mapping=True)["offset_mapping"] == again(text, return_offsets_mapping=True)["offset_mapping"]


def test_run_help_lists_exactly_the_run_groups():
    import subprocess
    import sys

    from kgqa import PROJECT_ROOT

    out = subprocess.run([sys.executable, "-m", "kgqa", "run", "--help"], cwd=PROJECT_ROOT, capture_output=True,
                         text=True, check=True, timeout=120)  # fmt: skip
    assert out.stdout.startswith("kgqa run:") and "powered by Hydra" not in out.stdout
    groups_section = out.stdout.split("== Configuration groups")[1].split("== Config")[0]
    assert "train/" not in groups_section and "base_" not in groups_section and "experiment" not in groups_section
    listed = dict(line.split(": ", 1) for line in groups_section.splitlines() if line.split(":")[0] in RUN_GROUPS)
    assert {g: ", ".join(_options(g)) for g in RUN_GROUPS} == listed
