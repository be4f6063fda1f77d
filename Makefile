# Hourglass: `make run` sets everything up and restores photos; `make test` sets up and runs the tests.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup run run-cli test test-slow test-all bench soak train eval eval-full eval-grid lint clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt -e '.[gui,dev]'
	touch $(STAMP)

setup: $(STAMP)

# With a display: the desktop app. Without one: restore the bundled samples with the default model.
run: setup
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then $(VENV)/bin/hourglass; else $(MAKE) --no-print-directory run-cli; fi

run-cli: setup
	$(VENV)/bin/hourglass restore resources/samples -o out/samples --overwrite

test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

test-slow: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m slow

test-all: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m "slow or not slow"

bench: setup
	$(PY) bench/bench_network.py

soak: setup
	$(PY) bench/soak.py --threads 1

# Continue training the bundled DiffUIR-T (resumable; see training/README.md), then export it.
train: setup
	$(PY) -m engine.training.train --resume --minutes $${MINUTES:-60} --export resources/models/hourglass-diffuir-t.safetensors

eval: setup
	$(PY) -m engine.evaluation.evaluate

eval-full: setup
	$(PY) -m engine.evaluation.evaluate --limit 0

eval-grid: setup
	$(PY) -m engine.evaluation.visual_grid

lint: setup
	$(VENV)/bin/ruff check app engine tests bench

clean:
	rm -rf out build dist .pytest_cache
