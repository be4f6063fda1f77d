# Hourglass: `make run` sets everything up and restores photos; `make test` sets up and runs the tests.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup run run-cli test test-slow test-all bench bench-quick bench-detect soak train eval eval-full eval-grid train-detect eval-detect lint clean \
	bundle package package-test package-nsis

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt -e '.[gui,dev]'
	touch $(STAMP)

setup: $(STAMP)

# With a display: the desktop app. Without one: restore the bundled samples with the default model.
run: setup
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
		$(VENV)/bin/hourglass; rc=$$?; \
		if [ $$rc -ne 2 ]; then exit $$rc; fi; \
		echo "No window could open (above): restoring the bundled samples headless instead."; \
	fi; $(MAKE) --no-print-directory run-cli

run-cli: setup
	$(VENV)/bin/hourglass restore resources/samples -o out/samples --overwrite

test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

test-slow: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m slow

test-all: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m "slow or not slow"

# Network speed (reference vs optimised), the fast full-resolution path vs tiling, 24 MP peak memory:
# bench/results/bench.{json,md} (~20-30 min on 2 cores); bench-quick is the few-minute development run.
bench: setup
	$(PY) bench/run_bench.py

bench-quick: setup
	$(PY) bench/run_bench.py --quick

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

# The degradation detector (resources/models/hourglass-detector.safetensors): train on synthetic degradations
# of the clean training photos (cached in out/detect), evaluate on the real photos → docs/eval/detect.{md,json}.
# Two classifiers, joined in one file: colour photos, and black-and-white ones (trained with gray samples too).
train-detect: setup
	$(PY) -m engine.detection.train --workers $${WORKERS:-1} --out out/detect/colour.safetensors
	$(PY) -m engine.detection.train --workers $${WORKERS:-1} --gray-variants 1 --out out/detect/gray.safetensors
	$(PY) tools/detector_gray_route.py out/detect/colour.safetensors out/detect/gray.safetensors \
		resources/models/hourglass-detector.safetensors

eval-detect: setup
	$(PY) -m engine.detection.evaluate

bench-detect: setup
	$(PY) bench/bench_detect.py

lint: setup
	$(VENV)/bin/ruff check app engine tests bench

# Installers (packaging/README.md; not part of `make test`). PyInstaller comes from the `packaging` extra.
PACKAGING_STAMP := $(VENV)/.packaging-installed
$(PACKAGING_STAMP): $(STAMP)
	$(PY) -m pip install -q -c constraints.txt -e '.[gui,packaging]'
	touch $@

# dist/hourglass/: the one-folder app (GUI + engine + CLI in one executable), checked (glibc floor, xcb libs)
bundle: $(PACKAGING_STAMP)
	PY=$(PY) packaging/build_linux.sh

# dist/hourglass_<version>_<arch>.deb (DEB_COMPRESSION=xz for a release: smaller, slower)
package: bundle
	PY=$(PY) packaging/build_deb.sh dist/hourglass dist

# as root: install the .deb here, smoke-test it as root and as an unprivileged user, uninstall it
package-test:
	$(PY) packaging/smoke_deb.py

# compile the Windows NSIS installer script against a placeholder payload (needs makensis: apt-get install nsis)
package-nsis: setup
	PY=$(PY) packaging/windows/check_nsis.sh

clean:
	rm -rf out build dist .pytest_cache
