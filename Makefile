# Two set-up commands: `make demo` and `make test`. Everything they need installs from here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Constraints pin every package, build back-ends included (pip applies them to builds too).
export PIP_CONSTRAINT := $(CURDIR)/constraints.txt
export PIP_DISABLE_PIP_VERSION_CHECK := 1
STAMP := $(VENV)/.installed

.PHONY: demo test lint browser format bench evaluate clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Vigil needs Python 3.11 or newer; set PYTHON=python3.11 (or newer)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/vigil demo --workers 2

lint: $(STAMP)
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

# The browser tests drive Debian's chromium (never a downloaded browser); the notice tests turn
# PDFs into PNG pages with poppler's pdftoppm. Both are Debian packages, installed here when
# missing and we may (root with apt); otherwise only a note, and those tests skip saying why.
CHROMIUM ?= $(or $(VIGIL_CHROMIUM),/usr/bin/chromium)
browser:
	@if { [ -x "$(CHROMIUM)" ] || command -v chromium >/dev/null 2>&1; } && command -v pdftoppm >/dev/null 2>&1; then \
	  :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian's chromium and poppler-utils for the browser and notice tests"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk poppler-utils; } \
	    || echo "note: chromium or poppler-utils could not be installed; their tests will be skipped"; \
	else \
	  echo "note: chromium or pdftoppm is not installed, so the browser or notice-PDF tests will" \
	       "be skipped; install them with: sudo apt-get install -y chromium poppler-utils"; \
	fi

test: lint browser
	$(BIN)/pytest -q -n 2

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/scan_text.py
	$(BIN)/python bench/images.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/near_dup.py
	$(BIN)/python bench/evidence_log.py

# Calibration from simulated outcomes runs without images, for time: a 20k-listing scan with
# them takes a quarter of an hour here (bench/calibrate_sample.py --images measures it so).
evaluate: $(STAMP)
	$(BIN)/python bench/evaluate_sample.py
	$(BIN)/python bench/calibrate_sample.py --no-images

clean:
	rm -rf $(VENV) vigil-data .pytest_cache .mypy_cache .ruff_cache
