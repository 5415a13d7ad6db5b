# kgqa — the two commands of the README, and a few more.
VENV ?= .venv
PY := $(VENV)/bin/python
KGQA := $(VENV)/bin/kgqa
PYTEST_ARGS ?=

.PHONY: install demo test test-slow test-all bench lint clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/install.sh
	bash scripts/install.sh
	touch $@

## set up, then run the main job on the embedded defaults (sample notes -> ... -> embedded store -> query)
demo: install
	$(KGQA) run

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

clean:
	rm -rf outputs multirun .cache .pytest_cache
