# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# torch is installed first, pinned to the CPU build that lies on local disk here;
# installing the project first would make pip fetch a multi-GB CUDA build.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH_SPEC ?= torch==2.13.0

$(BIN)/dnnet: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

.PHONY: install demo profile test test-fast bench clean
install: $(BIN)/dnnet

demo: install
	$(BIN)/dnnet demo --out runs/demo

profile: install
	$(BIN)/dnnet profile --preset dnnet_resnet32_g22 --out runs/profile/dnnet_resnet32_g22 --cells 14x12 --macs 24M
	$(BIN)/dnnet profile --preset resnet32_anytime --out runs/profile/resnet32_anytime --macs 24M

# two workers, each test file on one (its module fixtures built once), one thread each: the suite's tests are
# mostly small, single-threaded steps, so two processes use two cores better than one process with two threads
test: install
	$(BIN)/ruff check src tests bench examples
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2 --dist loadfile

# the quick loop while editing: no slow tests (training subprocesses, torch.compile, the experiment suite), no wheel
# build, no distributed processes; `make test` (what CI runs) runs them all
test-fast: install
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2 --dist loadfile -m "not slow" --ignore tests/test_wheel_install.py \
		--ignore tests/test_distributed.py

bench: install
	$(BIN)/python bench/bench_core.py --device cpu --train-batch 64 --eval-batch 32 --repeats 7 --out docs/benchmarks_cpu.json

clean:
	rm -rf $(VENV) runs build src/*.egg-info
