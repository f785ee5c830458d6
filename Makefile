# jtbd-pipeline: French JTBD interviews in, tagged sentences and job segments out.
# `make help` lists the targets.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.setup-done
IN     ?= data/recordings
OUT    ?= data/processed
ARGS   ?=

.DEFAULT_GOAL := help
.PHONY: help setup system-deps pipeline train eval test test-fast lint bench clean

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock scripts/install_models.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=24"
	# torch first, pinned: the CPU build (an unpinned torch would pull a multi-GB CUDA build)
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -c requirements.lock -e ".[dev]"
	# resemblyzer's metadata asks for webrtcvad (needs pkg_resources on 3.11):
	# its real dependencies come from pyproject (webrtcvad-wheels, librosa)
	$(BIN)/python -m pip install -q --no-deps resemblyzer==0.1.4
	$(BIN)/python scripts/install_models.py
	touch $(STAMP)

setup: $(STAMP) ## Create .venv and install everything (offline-capable models included)

system-deps: ## Install the Debian packages the tests and eval drive (LibreOffice, Chromium, espeak-ng, sox)
	bash scripts/install_system_deps.sh

# The trained tagger: made when missing or older than the annotations it learns from.
TAGGER := models/tagger/meta.json
$(TAGGER): $(STAMP) $(wildcard data/annotations/*/*.jsonl) data/annotations/jobs.yaml $(wildcard configs/textcat_*.cfg) \
		pipeline/train.py pipeline/tagging/features.py pipeline/tagging/trained.py \
		pipeline/segments/represent.py pipeline/tagger_model.py
	$(BIN)/jtbd train

pipeline: $(STAMP) $(TAGGER) ## Run the whole pipeline on IN (data/recordings) into OUT (data/processed)
	$(BIN)/jtbd run $(IN) --out $(OUT) $(ARGS)

train: $(STAMP) ## Train the tagger on data/annotations + reviewers' corrections into models/tagger
	$(BIN)/jtbd train $(ARGS)

eval: $(STAMP) $(TAGGER) system-deps ## Score tags, roles and segments on the dev interviews (text + synthesized audio)
	$(BIN)/jtbd eval $(ARGS)

test: $(STAMP) system-deps ## Run the test suite (real tiny models, no network)
	$(BIN)/python -m pytest -q

test-fast: $(STAMP) system-deps ## Run the tests that need no Whisper model
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP) ## Check the code with ruff
	$(BIN)/ruff check pipeline tests scripts benchmarks

bench: $(STAMP) ## Time the pipeline against faster-whisper alone, text throughput, peak memory
	$(BIN)/python benchmarks/bench.py $(ARGS)

clean: ## Remove the outputs in OUT (only what the pipeline writes; never inputs)
	@test -n "$(strip $(OUT))" -a -d "$(OUT)" || { echo "OUT is not a folder: $(OUT)"; exit 2; }
	cd "$(OUT)" && rm -rf interim transcripts run_summary.json \
		sentences.csv sentences.parquet segments.csv segments.parquet \
		quotes.csv quotes.parquet interviews.csv interviews.parquet \
		report.html "$(notdir $(abspath $(OUT))).xlsx" "$(notdir $(abspath $(OUT))).qdpx"
