"""kgqa's training upstream: masked-LM domain adaptation and SQuAD-style QA fine-tuning.

Entry points: ``kgqa train mlm|qa …`` / ``kgqa-train`` (``training.cli.main``), Hydra apps over
``conf/train_mlm.yaml`` and ``conf/train_qa.yaml``. The plain functions behind them, which tests
and notebooks call with typed configs (``training.config``):

- ``training.mlm.train_mlm(cfg: MlmRunConfig, run_dir) -> MlmRunResult``
- ``training.qa.train_qa(cfg: QaRunConfig, run_dir) -> QaRunResult``

See docs/training.md.
"""
