# The book and its tests. The README shows two commands: `make book` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PROFILE ?= quick
PYTHON ?= python3
CHAPTERS := $(patsubst book/notebooks/%.md,%,$(sort $(wildcard book/notebooks/*.md)))

# The offline data folder beside the project, when there is one.
SHARED_DATA := $(abspath ../shared/data)
ifneq ($(wildcard $(SHARED_DATA)/mnist.npz),)
export COMPANION_DATA_DIR ?= $(SHARED_DATA)
endif
export TF_CPP_MIN_LOG_LEVEL := 3
export PYDEVD_DISABLE_FILE_VALIDATION := 1

# Use the active virtualenv or conda environment; otherwise create and fill .venv.
ifneq ($(or $(VIRTUAL_ENV),$(CONDA_PREFIX)),)
BIN :=
ENV_STAMP := build/.env-installed
else
BIN := .venv/bin/
ENV_STAMP := .venv/.installed
endif

.PHONY: help env book chapter chapters test reference benchmark clean

help:
	@echo "make book      [PROFILE=quick|ci|paper]  run every chapter, then build the HTML book"
	@echo "make test                                unit tests and nbval on the reference notebooks"
	@echo "make chapter   CHAPTER=<slug> [PROFILE=] run one chapter into book/chapters/"
	@echo "make reference                           rewrite tests/reference/ with the ci profile"
	@echo "chapters: $(CHAPTERS)"

env: $(ENV_STAMP)

.venv/.installed: pyproject.toml
	$(PYTHON) -m venv .venv
	.venv/bin/python -m pip install --quiet --upgrade pip
	.venv/bin/python -m pip install --quiet -e '.[dev]'
	touch $@

build/.env-installed: pyproject.toml
	mkdir -p build
	python -m pip install --quiet -e '.[dev]'
	touch $@

# One chapter: jupytext -> papermill (headless) -> book/chapters/<slug>.ipynb, moved into place
# only when every cell ran.
chapter: $(ENV_STAMP)
	@test -n "$(CHAPTER)" || { echo "say which chapter: make chapter CHAPTER=<one of: $(CHAPTERS)>"; exit 2; }
	@test -f book/notebooks/$(CHAPTER).md || { echo "no chapter '$(CHAPTER)'; the chapters are: $(CHAPTERS)"; exit 2; }
	$(BIN)python -c "from companion import profiles; profiles.settings('$(CHAPTER)', '$(PROFILE)')"
	mkdir -p build book/chapters
	$(BIN)jupytext --quiet --to ipynb -o build/$(CHAPTER).ipynb book/notebooks/$(CHAPTER).md
	COMPANION_RESULTS_DIR=$(abspath book/chapters) $(BIN)papermill --log-level WARNING \
	  -k python3 --cwd book/chapters -p profile $(PROFILE) \
	  build/$(CHAPTER).ipynb build/$(CHAPTER).executed.ipynb
	mv build/$(CHAPTER).executed.ipynb book/chapters/$(CHAPTER).ipynb

chapters: $(ENV_STAMP)
	for c in $(CHAPTERS); do $(MAKE) --no-print-directory chapter CHAPTER=$$c PROFILE=$(PROFILE); done

book: chapters
	$(BIN)python -m companion.scorecard book/chapters book/scorecard.md
	$(BIN)jupyter-book build --warningiserror --keep-going book/
	@echo "The book: book/_build/html/index.html"

test: $(ENV_STAMP)
	$(BIN)python -m pytest --nbval-current-env --nbval tests/ -p no:cacheprovider

# The nbval references: every chapter executed with the ci profile, outputs kept.
reference: $(ENV_STAMP)
	mkdir -p build tests/reference
	for c in $(CHAPTERS); do \
	  $(BIN)jupytext --quiet --to ipynb -o build/$$c.ipynb book/notebooks/$$c.md; \
	  COMPANION_RESULTS_DIR=$$(mktemp -d) COMPANION_CACHE=$$(mktemp -d) $(BIN)papermill \
	    --log-level WARNING -k python3 --cwd tests/reference -p profile ci \
	    build/$$c.ipynb build/$$c.reference.ipynb; \
	  $(BIN)python scripts/strip_images.py build/$$c.reference.ipynb; \
	  mv build/$$c.reference.ipynb tests/reference/$$c.ipynb; \
	done

benchmark: $(ENV_STAMP)
	$(BIN)python benchmarks/run.py

clean:
	rm -rf build book/_build book/chapters book/scorecard.md
