"""Test-wide setup: no network, ever; a tiny checkpoint built once per session."""

import os

# Set before transformers/datasets/huggingface_hub are imported anywhere in the test session.
for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ[_var] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("KGQA_PSEUDONYM_KEY", "test-key-not-secret")

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A tiny random XLM-R QA checkpoint saved with save_pretrained (random weights: test invariants only)."""
    from kgqa.qa.tiny import build_tiny_checkpoint

    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-xlmr") / "ckpt")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data when present (a user's clone has none): tests that need it skip otherwise."""
    path = PROJECT_ROOT.parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip("../shared/data is not present (only the developers' checkout has it)")
    return path
