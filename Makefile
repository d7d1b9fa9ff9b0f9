# mannsim -- the two commands a user needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The CPU build of PyTorch that installs from local disk here; an open range can pull a
# multi-GB CUDA build, so it is pinned.
TORCH  := torch==2.13.0
STAMP  := $(VENV)/.mannsim-installed

export HF_HUB_OFFLINE := 1

.PHONY: setup run test test-fast lint bench fuzz clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check $(TORCH)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[hf,openai,dev]'
	touch $(STAMP)

run: setup
	mkdir -p traces
	$(BIN)/mannsim run programs/u15_2.tm --backend hf --trace traces/u15_2.jsonl.zst

lint: setup
	$(BIN)/ruff check mannsim tests benchmarks fuzz
	$(BIN)/mypy

# Two workers (pytest-xdist), each test file on one worker so that a file's model, server and
# browser are started once; the 15 slowest tests are listed at the end. TEST_WORKERS=0 runs
# them in this process.
TEST_WORKERS ?= 2
PYTEST_WORKERS = $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

test: lint
	$(BIN)/python -m pytest -q $(PYTEST_WORKERS) --durations=15

# the core (memory, programs, simulator, formats, computer, verify, U15,2 chain), no models,
# browsers or servers (the README says how long it takes)
test-fast: lint
	$(BIN)/python -m pytest -q -m "not slow" $(PYTEST_WORKERS)

bench: setup
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis

FUZZ_SECONDS ?= 20
FUZZ_TARGETS := tm std morphett yaml bitag trace ztrace answer report cycle resume

fuzz: setup
	$(BIN)/python -m pip install -q --disable-pip-version-check atheris
	mkdir -p build/fuzz
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus-$$t; cp fuzz/corpus/$$t/* build/fuzz/corpus-$$t/ 2>/dev/null; \
	  $(BIN)/python fuzz/fuzz_parsers.py $$t -max_total_time=$(FUZZ_SECONDS) \
	    -artifact_prefix=build/fuzz/ build/fuzz/corpus-$$t > build/fuzz/$$t.log 2>&1; \
	  status=$$?; \
	  grep -E "^Done" build/fuzz/$$t.log | sed "s/^/$$t: /"; \
	  if [ $$status -ne 0 ] || ! grep -q "^Done" build/fuzz/$$t.log; then \
	    tail -25 build/fuzz/$$t.log; echo "$$t: CRASH (build/fuzz/$$t.log)"; exit 1; fi; \
	done
