"""An honest learning test: a tiny QA model trained from scratch must answer held-out questions.

The synthetic task is learnable but not trivial: each context holds three facts (a dose, a ward
colour, a doctor's name) in random order with random values, and the question asks for one of
them. To answer, the model has to match the question to the right sentence and point at the value
after its keyword; position alone does not work (the order is shuffled) and values are drawn anew,
so held-out contexts are unseen combinations. A random span scores ~0% EM. Observed: 84–86% EM
after 400 steps (CPU, ~20 s on a free machine, a minute on a loaded one); the test asks for 60%.
"""

import json
import random

import pytest

from kgqa.qa.config import WindowConfig
from training.config import ModelSourceConfig, QaDataConfig, QaDatasetConfig, QaRunConfig, TrainerConfig
from training.qa import train_qa

NAMES = [
    "Novak",
    "Garcia",
    "Popescu",
    "Kowalski",
    "Ivanova",
    "Smith",
    "Papadopoulos",
    "Dvorak",
    "Lopez",
    "Nowak",
    "Marin",
    "Petrov",
]
COLOURS = ["red", "blue", "green", "yellow", "white", "black", "orange", "purple", "grey", "brown"]
QUESTIONS = {"dose": "What was the dose?", "ward": "Which ward?", "doctor": "Who is the doctor?"}

#: the stated target: exact match on the held-out questions
TARGET_EM = 60.0


def synthetic_squad(rng: random.Random, n: int, prefix: str) -> dict:
    data = []
    for i in range(n):
        values = {"dose": str(rng.randint(10, 990)), "ward": rng.choice(COLOURS), "doctor": rng.choice(NAMES)}
        sentences = [
            ("dose", f"The dose was {values['dose']} mg."),
            ("ward", f"The ward is {values['ward']}."),
            ("doctor", f"The doctor is {values['doctor']}."),
        ]
        rng.shuffle(sentences)
        context = " ".join(s for _, s in sentences)
        field = rng.choice(list(values))
        answer = values[field]
        start = context.index(answer, context.index(f"The {field}"))
        qa = {
            "id": f"{prefix}{i}",
            "question": QUESTIONS[field],
            "answers": [{"text": answer, "answer_start": start}],
        }
        data.append({"title": "", "paragraphs": [{"context": context, "qas": [qa]}]})
    return {"version": "1.1", "data": data}


@pytest.mark.slow
def test_tiny_model_learns_synthetic_qa(tmp_path):
    rng = random.Random(0)
    train_file, heldout_file = tmp_path / "train.json", tmp_path / "heldout.json"
    train_file.write_text(json.dumps(synthetic_squad(rng, 600, "t")))
    heldout_file.write_text(json.dumps(synthetic_squad(rng, 100, "h")))
    steps = 400
    cfg = QaRunConfig(
        model=ModelSourceConfig(
            checkpoint="",
            tokenizer_vocab_size=300,
            hidden_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=128,
            max_position_embeddings=130,
            hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0,
        ),
        data=QaDataConfig(
            train={"synthetic": QaDatasetConfig(path=str(train_file))},
            eval={"heldout": QaDatasetConfig(path=str(heldout_file))},
            window=WindowConfig(max_seq_length=64, doc_stride=16, max_question_length=16),
        ),
        trainer=TrainerConfig(
            max_steps=steps,
            learning_rate=8e-3,
            per_device_train_batch_size=32,
            warmup_ratio=0.1,
            eval_steps=steps,
            save_steps=steps,
            logging_steps=100,
            precision="fp32",
            use_cpu=True,
            threads=1,
            progress=False,
        ),
    )
    result = train_qa(cfg, tmp_path / "run")
    held = result.metrics["dataset=heldout"]
    assert held["total"] == 100
    assert held["exact"] >= TARGET_EM, held
    assert held["f1"] >= held["exact"]
    # v1.1 data: nothing to learn a null threshold from, so none goes into the checkpoint
    assert result.null_threshold is None
