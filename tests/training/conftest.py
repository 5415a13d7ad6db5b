"""Helpers for training tests: compose the real Hydra configs (presets included) into schema objects."""


import pytest

from kgqa.config import to_object
from training.config import MlmRunConfig, QaRunConfig, compose_train


@pytest.fixture
def qa_config(tmp_path):
    """``experiment=tiny_qa`` (+ overrides) as a QaRunConfig, with the MLM/QA cache inside tmp_path."""

    def make(*overrides: str) -> QaRunConfig:
        return to_object(compose_train("qa", ["experiment=tiny_qa", *overrides]), QaRunConfig)

    return make


@pytest.fixture
def mlm_config(tmp_path):
    def make(*overrides: str) -> MlmRunConfig:
        return to_object(
            compose_train("mlm", ["experiment=tiny_mlm", f"data.cache_dir={tmp_path / 'cache'}", *overrides]),
            MlmRunConfig,
        )

    return make


@pytest.fixture(autouse=True)
def _restore_torch_threads():
    """trainer.threads=1 (cpu_tiny) sets torch's global thread count: give other tests theirs back."""
    import torch

    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)
