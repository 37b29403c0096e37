# The two commands: `make run` and `make test`. Everything installs into .venv on first use.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/fangfan run

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -q

bench-engine: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/engine.py

bench-webhook: $(STAMP)
	command -v wrk >/dev/null || apt-get install -y wrk
	$(BIN)/python bench/webhook.py

.PHONY: install run test bench-engine bench-webhook
