# Two commands do all the set-up on a fresh machine:
#   make book   virtualenv + pinned installs (if missing), then the HTML book in _build/html
#   make test   the same set-up, then unit tests, ruff, notebook checks, and the book with -W
# Other targets: make notebooks (re-execute every chapter, refresh the .ipynb; pair the
# experiment notebooks, which papermill executes), make clean.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CHAPTERS := $(sort $(wildcard notebooks/[0-9][0-9]_*.py)) $(sort $(wildcard notebooks/R[0-9]_*.py))

# Offline data archives (see data/README.md): ../shared/data when it exists, unless set.
SPECTRAL_DATA ?= $(if $(wildcard ../shared/data/.),$(abspath ../shared/data),)
export SPECTRAL_DATA
# No progress bars in executed notebooks or test logs.
export TQDM_DISABLE := 1

.PHONY: setup book test unit lint pairs nbval notebooks clean

setup: $(STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going

notebooks: $(STAMP)
	$(BIN)/python tools/run_notebooks.py $(CHAPTERS)
	$(BIN)/jupytext --quiet --to ipynb $(wildcard notebooks/experiments/*.py)

unit: $(STAMP)
	$(BIN)/pytest tests

lint: $(STAMP)
	$(BIN)/ruff check .

pairs: $(STAMP)
	$(BIN)/python tools/check_pairs.py notebooks notebooks/experiments

nbval: $(STAMP)
	$(BIN)/pytest -p no:cacheprovider --nbval --nbval-current-env \
		--nbval-sanitize-with nbval_sanitize.cfg $(CHAPTERS:.py=.ipynb)

test: lint pairs unit nbval book

clean:
	rm -rf _build
