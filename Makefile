# The two commands of the README: `make demo` and `make test`. Both create .venv.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python

.PHONY: venv demo test browser lint types migrations-check messages-check docs pytest bench chaos clean

$(BIN)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $@

venv: $(BIN)/.installed

demo: venv
	$(PY) manage.py rundemo

test: browser venv lint types migrations-check messages-check pytest docs

# The browser test drives Debian's Chromium (never a browser download), with a CJK font
# for the shop's Chinese text. Installed only when missing.
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -f $(CJK_FONT) ]; then \
	  if [ "$$(id -u)" -ne 0 ]; then \
	    echo "Run as root: apt-get install chromium fonts-wqy-microhei" >&2; exit 1; \
	  fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei; \
	fi

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: venv
	$(BIN)/mypy django_wxlogistics example_project

migrations-check: venv
	DEMO_STATE_DIR=$$(mktemp -d) $(PY) manage.py makemigrations --check --dry-run

messages-check: venv
	$(PY) scripts/check_translations.py

# pytest's exit code 5 means no test ran: a failure here, never a silent pass.
pytest: venv
	$(PY) -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest ran no test: failing." >&2; exit 1; fi; exit $$rc

docs: venv
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

bench: venv
	$(PY) benchmarks/run.py

# The failure test at full size: 10,000 events, six worker kills, a broker restart (about 15 min).
chaos: venv
	WXL_CHAOS=full $(PY) -m pytest -m chaos -p no:cacheprovider -s tests/pipeline/test_failure.py

clean:
	rm -rf $(VENV) .demo docs/_build .pytest_cache .mypy_cache .ruff_cache
