# Two entry points: `make run` (the main job) and `make test` (the whole suite).
# Each creates .venv and installs the pinned dependencies on first use (re-done when they change).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= runs/quickstart

.PHONY: run test setup bench clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/fairmarket simulate --scenario pilot --policy zi --out $(OUT) --force --record-slots $(OUT)/slots.jsonl

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2

bench: $(STAMP)
	$(BIN)/python scripts/bench_market.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis runs
