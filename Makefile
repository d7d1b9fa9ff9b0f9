# mannsim -- the two commands a user needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The CPU build of PyTorch that installs from local disk here; an open range can pull a
# multi-GB CUDA build, so it is pinned.
TORCH  := torch==2.13.0
STAMP  := $(VENV)/.mannsim-installed

export HF_HUB_OFFLINE := 1

.PHONY: setup run test bench fuzz clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check $(TORCH)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[hf,openai,dev]'
	touch $(STAMP)

run: setup
	mkdir -p traces
	$(BIN)/mannsim run programs/u15_2.tm --backend hf --trace traces/u15_2.jsonl

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis

FUZZ_SECONDS ?= 20
FUZZ_TARGETS := tm std morphett yaml bitag trace answer

fuzz: setup
	$(BIN)/python -m pip install -q --disable-pip-version-check atheris
	mkdir -p build/fuzz
	for t in $(FUZZ_TARGETS); do \
	  $(BIN)/python fuzz/fuzz_parsers.py $$t -max_total_time=$(FUZZ_SECONDS) \
	    -artifact_prefix=build/fuzz/ > build/fuzz/$$t.log 2>&1; \
	  grep -E "^Done" build/fuzz/$$t.log | sed "s/^/$$t: /"; \
	  if grep -q "ERROR: libFuzzer" build/fuzz/$$t.log; then \
	    grep -A12 "Uncaught" build/fuzz/$$t.log; echo "$$t: CRASH (build/fuzz/$$t.log)"; exit 1; fi; \
	done
