"""Training configs: every preset composes, schemas reject typos, Trainer arguments follow the config."""

from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, ValidationError

from kgqa.config import CONF_DIR, to_object
from kgqa.errors import ConfigError
from training.config import MlmRunConfig, QaRunConfig, TrainerConfig, compose_train
from training.runs import resolve_precision, training_arguments

PRESETS = sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))
SCHEMAS = {"mlm": MlmRunConfig, "qa": QaRunConfig}


def _kinds(preset: str):
    """Training presets are named *_mlm / *_qa; others (e.g. demo_*) may target either or kgqa run."""
    for kind in ("mlm", "qa"):
        if preset.endswith(f"_{kind}"):
            return [kind]
    return ["mlm", "qa"]


def test_the_required_presets_exist():
    assert {"xlmr_base_mlm", "xlmr_base_qa", "tiny_mlm", "tiny_qa"} <= set(PRESETS)


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_composes(preset):
    errors, composed = [], 0
    for kind in _kinds(preset):
        try:
            cfg = compose_train(kind, [f"experiment={preset}"])
        except ConfigCompositionException as exc:  # a preset for the other task (or for kgqa run)
            errors.append(f"{kind}: {exc}")
            continue
        composed += 1
        assert OmegaConf.missing_keys(cfg) <= {"model.checkpoint"}, OmegaConf.missing_keys(cfg)
        if not OmegaConf.missing_keys(cfg):
            obj = to_object(cfg, SCHEMAS[kind])  # types validated by the schema
            assert obj.trainer.learning_rate > 0
    if not composed and preset.startswith("demo_"):
        pytest.skip(f"{preset} is not a training preset")
    assert composed, errors


@pytest.mark.parametrize(
    "preset, key, expected",
    [
        ("xlmr_base_qa", "data.window.max_seq_length", 384),
        ("xlmr_base_qa", "trainer.gradient_accumulation_steps", 2),
        ("xlmr_base_mlm", "data.block_size", 512),
        ("tiny_qa", "model.hidden_size", 64),
        ("tiny_mlm", "trainer.use_cpu", True),
        # the e5 reader's stage 2 continues stage 1 with the catalogue's questions weighted up
        ("e5_small_qa_stage2", "data.train.synth.weight", 0.5),
        ("e5_small_qa_stage2", "model.freeze_layers", 3),
        ("e5_small_qa_stage2", "data.window.max_seq_length", 256),
        ("e5_calibrate_independent", "data.eval.independent_dev.lang", "mul"),
        ("e5_small_qa_stage3", "data.train.synth.weight", 0.0),
        ("e5_small_qa_stage3", "data.train.synth_seed23.weight", 0.4),
        ("e5_small_qa_stage4", "data.train.synth_seed23.weight", 0.0),
        ("e5_small_qa_stage4", "data.train.synth_seed31.weight", 0.2),
        ("e5_small_qa_stage4", "data.train.squad_es_v1.weight", 1.0),
    ],
)
def test_presets_pin_their_values(preset, key, expected):
    cfg = compose_train("mlm" if preset.endswith("_mlm") else "qa", [f"experiment={preset}"])
    assert OmegaConf.select(cfg, key) == expected


@pytest.mark.parametrize("kind, preset", [("qa", "xlmr_base_qa"), ("mlm", "xlmr_base_mlm"), ("qa", None)])
def test_real_model_presets_require_a_checkpoint(kind, preset):
    cfg = compose_train(kind, [f"experiment={preset}"] if preset else [])
    assert OmegaConf.missing_keys(cfg) == {"model.checkpoint"}


def test_xlmr_presets_need_a_local_checkpoint():
    cfg = compose_train("qa", ["experiment=xlmr_base_qa", "model.checkpoint=/models/xlmr"])
    assert to_object(cfg, QaRunConfig).model.checkpoint == "/models/xlmr"


@pytest.mark.parametrize(
    "override, error",
    [
        ("trainer.learning_rat=1e-5", (ConfigAttributeError, ConfigKeyError, ConfigCompositionException)),
        ("trainer.max_steps=many", (ValidationError, ConfigCompositionException)),
        (
            "data.window.max_seq_lenght=128",
            (ConfigAttributeError, ConfigKeyError, ConfigCompositionException),
        ),
        ("train/trainer=huge", (ConfigCompositionException,)),
    ],
)
def test_typos_and_wrong_types_fail_at_compose_time(override, error):
    with pytest.raises(error):
        compose_train("qa", ["experiment=tiny_qa", override])


def test_group_yaml_typo_is_caught_by_the_schema(tmp_path):
    # every option YAML extends its schema: check they carry the defaults entry that does so
    for yaml_file in (CONF_DIR / "train").rglob("*.yaml"):
        text = yaml_file.read_text()
        assert text.startswith("# @package "), yaml_file
        assert "- base_" in text, f"{yaml_file} does not extend a schema"


def test_own_dataset_from_the_command_line():
    cfg = compose_train(
        "qa",
        [
            "train/qa_data=squad",
            "data.train.main.path=/d/train.json",
            "data.train.main.lang=pl",
            "model.checkpoint=/m",
        ],
    )
    obj = to_object(cfg, QaRunConfig)
    assert obj.data.train["main"].lang == "pl" and obj.data.train["main"].format == "squad"
    assert obj.data.eval == {}


@pytest.mark.parametrize(
    "precision, cuda, bf16_ok, expected",
    [
        ("auto", False, False, "fp32"),
        ("auto", True, True, "bf16"),
        ("auto", True, False, "fp16"),
        ("bf16", False, False, "bf16"),  # CPU autocast supports bfloat16
        ("fp32", True, True, "fp32"),
        ("fp16", True, False, "fp16"),
    ],
)
def test_precision_resolution(precision, cuda, bf16_ok, expected):
    assert resolve_precision(precision, cuda=cuda, bf16_ok=bf16_ok) == expected


@pytest.mark.parametrize(
    "precision, cuda, bf16_ok, message",
    [
        ("fp16", False, False, "needs a CUDA GPU"),
        ("bf16", True, False, "does not support bfloat16"),
        ("fp8", False, False, "not one of"),
    ],
)
def test_precision_errors_name_the_key(precision, cuda, bf16_ok, message):
    with pytest.raises(ConfigError, match=message) as exc:
        resolve_precision(precision, cuda=cuda, bf16_ok=bf16_ok)
    assert "trainer.precision" in str(exc.value)


def test_training_arguments_follow_the_config(tmp_path: Path):
    t = TrainerConfig(
        learning_rate=2e-5,
        gradient_accumulation_steps=4,
        eval_steps=300,
        save_steps=500,
        seed=7,
        precision="fp32",
        early_stopping_patience=2,
    )
    args = training_arguments(t, tmp_path, run_name="r", metric="f1", has_eval=True)
    assert args.gradient_accumulation_steps == 4 and args.learning_rate == 2e-5 and args.seed == 7
    assert args.output_dir == str(tmp_path / "checkpoints")
    assert args.save_steps == 300  # rounded down to a multiple of eval_steps (best-model tracking needs it)
    assert args.load_best_model_at_end and args.metric_for_best_model == "f1" and args.greater_is_better
    no_eval = training_arguments(t, tmp_path, run_name="r", metric="loss", has_eval=False)
    assert no_eval.eval_strategy == "no" and not no_eval.load_best_model_at_end
    with pytest.raises(ConfigError, match="gradient_accumulation_steps"):
        training_arguments(
            TrainerConfig(gradient_accumulation_steps=0), tmp_path, run_name="r", metric="f1", has_eval=True
        )


def test_bf16_without_a_gpu_trains_on_the_cpu(tmp_path: Path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("checks the CPU path")
    args = training_arguments(
        TrainerConfig(precision="bf16"), tmp_path, run_name="r", metric="f1", has_eval=True
    )
    assert args.bf16 and not args.fp16 and args.use_cpu
    auto = training_arguments(
        TrainerConfig(precision="auto"), tmp_path, run_name="r", metric="f1", has_eval=True
    )
    assert not auto.bf16 and not auto.fp16
