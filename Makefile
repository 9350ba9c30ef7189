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

# The browser tests drive Debian's chromium (never a downloaded browser). Installed here when
# missing and we may (root with apt); otherwise only a note, and those tests skip saying why.
CHROMIUM ?= $(or $(VIGIL_CHROMIUM),/usr/bin/chromium)
browser:
	@if [ -x "$(CHROMIUM)" ] || command -v chromium >/dev/null 2>&1; then \
	  :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk; } \
	    || echo "note: chromium could not be installed; the browser tests will be skipped"; \
	else \
	  echo "note: chromium is not installed, so the browser tests will be skipped;" \
	       "install it with: sudo apt-get install -y chromium"; \
	fi

test: lint browser
	$(BIN)/pytest -q -n 2

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/scan_text.py
	$(BIN)/python bench/images.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/near_dup.py

evaluate: $(STAMP)
	$(BIN)/python bench/evaluate_sample.py

clean:
	rm -rf $(VENV) vigil-data .pytest_cache .mypy_cache .ruff_cache
