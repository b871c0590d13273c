# The book and its tests. The README shows two commands: `make book` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PROFILE ?= $(or $(COMPANION_PROFILE),quick)
OVERRIDES ?= {}
PYTHON ?= python3
CHAPTERS := $(patsubst book/notebooks/%.md,%,$(sort $(wildcard book/notebooks/*.md)))

# The offline data folder beside the project, when there is one.
SHARED_DATA := $(abspath ../shared/data)
ifneq ($(wildcard $(SHARED_DATA)/mnist.npz),)
export COMPANION_DATA_DIR ?= $(SHARED_DATA)
endif
export TF_CPP_MIN_LOG_LEVEL := 3
export PYDEVD_DISABLE_FILE_VALIDATION := 1

# CPU math: pinned for the runs that are compared with references, free for the others (numerics.mk).
include numerics.mk

# Use the active virtualenv or conda environment; otherwise create and fill .venv.
ifneq ($(or $(VIRTUAL_ENV),$(CONDA_PREFIX)),)
BIN :=
ENV_STAMP := build/.env-installed
else
BIN := .venv/bin/
ENV_STAMP := .venv/.installed
endif

.PHONY: help env book chapter chapters lint test reference portability calibrate browser-test lock benchmark clean

help:
	@echo "make book      [PROFILE=quick|ci|paper]  the HTML book: runs the stale chapters, then builds"
	@echo "                                         (the same as COMPANION_PROFILE=... jupyter-book build book/)"
	@echo "make test                                lint, unit tests, then each ci chapter checked against tests/reference/"
	@echo "make lint                                ruff: the lint rules and the format of pyproject.toml"
	@echo "make chapter   CHAPTER=<slug> [PROFILE=] [OVERRIDES='{setting: value}']"
	@echo "                                         run one chapter into book/chapters/"
	@echo "make reference                           rewrite tests/reference/ with the ci profile"
	@echo "make portability                         the ci chapters under emulated CPUs vs tests/reference/"
	@echo "make calibrate                           the spread of every checked number (perturbed and emulated"
	@echo "                                         runs) into tests/reference/calibration.json (~75 min)"
	@echo "make browser-test                        build the ci book and check it in headless Chromium"
	@echo "make benchmark                           speed figures against their goals (installs ART)"
	@echo "make lock                                re-resolve requirements.lock (exact versions)"
	@echo "chapters: $(CHAPTERS)"

env: $(ENV_STAMP)

# Exact versions from requirements.lock (the printed numbers depend on them); pyproject.toml keeps
# the ranges for library users.
.venv/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv .venv
	.venv/bin/python -m pip install --quiet --upgrade pip
	.venv/bin/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

build/.env-installed: pyproject.toml requirements.lock
	mkdir -p build
	python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

# Re-resolve the lock: the newest versions that fit pyproject.toml, one set for Python 3.11+.
# Then `make reference` and commit both.
lock: $(ENV_STAMP)
	$(BIN)python -m pip install --quiet uv
	$(BIN)python -m uv pip compile --quiet --universal --python-version 3.11 \
	  --fork-strategy fewest pyproject.toml --extra dev --extra browser --extra benchmark -o requirements.lock

# One chapter: jupytext -> papermill (headless) -> book/chapters/<slug>.ipynb, written only when
# every cell ran (companion.book.chapters).
chapter: $(ENV_STAMP)
	@test -n "$(CHAPTER)" || { echo "say which chapter: make chapter CHAPTER=<one of: $(CHAPTERS)>"; exit 2; }
	$(BIN)python -m companion.book.chapters run $(CHAPTER) $(PROFILE) book/chapters/$(CHAPTER).ipynb \
	  --results-dir $(abspath book/chapters) --overrides '$(OVERRIDES)'

# Every stale chapter (companion.book.build --only), BOOK_JOBS at a time (default one, on every
# core), each on its share of the cores.
# A chapter that loads another one's cached networks waits for it (.after below), so no network is
# trained twice; synthesis waits for all of them and runs alone, on every core. On 2 cores, two
# side by side at one thread each built the ci chapters in 6.1 min against 8.9 one at a time
# (start-up and tracing overlap), but the quick ones were no faster: the saturating chapter took
# 33 min beside smooth_codes against 19 min alone.
CORES := $(shell nproc 2>/dev/null || echo 1)
BOOK_JOBS ?= 1
SHARE = $(shell echo $$(( $(CORES) / $(1) > 0 ? $(CORES) / $(1) : 1 )))
stabilized_gradients.after := saturating_networks
synthesis.after := $(filter-out synthesis,$(CHAPTERS))
# the longest chapters first, so that the short ones fill in beside them
BOOK_ORDER := smooth_codes saturating_networks $(filter-out smooth_codes saturating_networks,$(CHAPTERS))

chapters: $(ENV_STAMP)
	start=$$(date +%s); \
	  $(MAKE) --no-print-directory -j$(BOOK_JOBS) --output-sync=target $(addprefix run-,$(BOOK_ORDER)); \
	  printf '{"profile": "%s", "jobs": %s, "cores": %s, "seconds": %s}\n' $(PROFILE) $(BOOK_JOBS) $(CORES) \
	    $$(( $$(date +%s) - start )) > book/chapters/.build.tmp && mv book/chapters/.build.tmp book/chapters/build.json

.PHONY: $(addprefix run-,$(CHAPTERS))
.SECONDEXPANSION:
$(addprefix run-,$(CHAPTERS)): run-%: $$(addprefix run-,$$($$*.after))
	@echo "chapter $* ($(PROFILE)): started $$(date +%T)"
	threads=$(if $(filter synthesis,$*),$(CORES),$(call SHARE,$(BOOK_JOBS))); \
	  TF_NUM_INTRAOP_THREADS=$$threads OMP_NUM_THREADS=$$threads OPENBLAS_NUM_THREADS=$$threads \
	  COMPANION_PROFILE=$(PROFILE) $(BIN)python -m companion.book.build --only $*
	@echo "chapter $* ($(PROFILE)): finished $$(date +%T)"

# The book: `jupyter-book build book/` itself runs every chapter whose executed notebook is missing
# or stale and gathers the scorecard (book/_ext/execute_chapters.py), under $COMPANION_PROFILE;
# a second build with nothing changed executes nothing. `make chapters BOOK_JOBS=2` first runs
# them side by side instead.
book: $(ENV_STAMP)
	COMPANION_PROFILE=$(PROFILE) $(BIN)jupyter-book build --warningiserror --keep-going book/
	@echo "The book: book/_build/html/index.html"

# The code's lint and format (pyproject.toml [tool.ruff]); `ruff format .` mends the format. The
# chapters' code cells are checked for undefined and unused names (pyflakes) through jupytext.
LINTED := src tests benchmarks scripts book/_ext
lint: $(ENV_STAMP)
	$(BIN)ruff check $(LINTED)
	$(BIN)ruff format --check $(LINTED)
	d=$$(mktemp -d); trap 'rm -rf "$$d"' EXIT; \
	  for f in book/notebooks/*.md; do $(BIN)jupytext --quiet --to py:percent -o "$$d/$$(basename $$f .md).py" $$f; done; \
	  $(BIN)ruff check --isolated --select F --config "builtins = ['display']" --quiet "$$d"

test: lint
	$(PINNED_ENV) $(BIN)python -m pytest tests/ -p no:cacheprovider

# The references: every chapter executed with the ci profile in a fresh cache, outputs kept
# (images dropped: they are not compared).
reference: $(ENV_STAMP)
	for c in $(CHAPTERS); do \
	  d=$$(mktemp -d); \
	  $(PINNED_ENV) $(BIN)python -m companion.book.chapters run $$c ci tests/reference/$$c.ipynb --strip-images \
	    --results-dir $$d/results --cache-dir $$d/cache; \
	  rm -rf $$d; \
	done

# The ci book in headless Chromium: every page loads, images load, formulas are typeset, the
# scorecard lists every chapter, search works; screenshots in build/screenshots/. Installs
# Chromium and its driver from Debian's packages (as root, or with sudo) when they are missing.
browser-test: $(ENV_STAMP)
	command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver; }
	$(BIN)python -m pip install --quiet -c requirements.lock -e '.[dev,browser]'
	$(MAKE) --no-print-directory book PROFILE=ci
	$(BIN)python -m pytest tests/test_book_browser.py -p no:cacheprovider

# The ci chapters as machines with other CPU features and thread counts would run them.
portability: $(ENV_STAMP)
	$(PINNED_ENV) $(BIN)python scripts/numerics_probe.py
	$(PINNED_ENV) $(BIN)python scripts/portability.py

# How far every checked number moves under rounding-level perturbations (8 runs whose initial
# weights are moved by a few ulps, and the emulated machines of `make portability`), recorded in
# tests/reference/calibration.json; tests/test_calibration.py holds each declared tolerance to at
# least 3x the largest deviation seen. Run it after `make reference` and commit both.
# CALIBRATE_ARGS='--report-only' rebuilds the record from the runs kept in build/calibration/.
calibrate: $(ENV_STAMP)
	$(PINNED_ENV) $(BIN)python scripts/calibrate.py $(CALIBRATE_ARGS)

# Speed figures against their goals (README): PGD vs ART, extra loss terms, spheres vs matmul peak.
benchmark: $(ENV_STAMP)
	$(BIN)python -m pip install --quiet -c requirements.lock -e '.[dev,benchmark]'
	COMPANION_PIN_VARS='$(PIN_VARS)' $(BIN)python benchmarks/run.py $(BENCHMARK_ARGS)

clean:
	rm -rf build book/_build book/chapters book/scorecard.md
