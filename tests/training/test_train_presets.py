"""Every shipped `experiment=` preset composes under Hydra and fits the typed training schema."""

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from kgqa.config import CONF_DIR, to_object
from training.config import MlmRunConfig, QaRunConfig, compose_train

PRESETS = sorted(p.stem for p in (Path(CONF_DIR) / "experiment").glob("*.yaml"))


def test_there_are_presets_of_both_kinds():
    assert any("mlm" in p for p in PRESETS) and any("qa" in p for p in PRESETS)


@pytest.mark.parametrize("preset", PRESETS)
def test_preset_composes_into_the_schema(preset):
    kind, schema = ("mlm", MlmRunConfig) if "mlm" in preset else ("qa", QaRunConfig)
    cfg = compose_train(kind, [f"experiment={preset}"])
    assert cfg.run_name == preset
    # presets for a real checkpoint leave it to the command line (the CLI refuses to run without it)
    missing = OmegaConf.missing_keys(cfg)
    assert missing <= {"model.checkpoint"}, missing
    if missing:
        cfg.model.checkpoint = "/models/xlm-roberta-base"
    run = to_object(cfg, schema)
    assert run.model.max_position_embeddings > 0
    if kind == "qa":
        window = run.data.window
        assert window.max_seq_length <= run.model.max_position_embeddings - 2 or run.model.checkpoint
