# The two commands of the README: `make demo` and `make test`. Both create .venv.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python

.PHONY: venv demo test test-django6 browser lint lint-imports types migrations-check messages-check docs pytest bench chaos clean

$(BIN)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $@

venv: $(BIN)/.installed

# make demo PORT=8001 SANDBOX_PORT=8901: the shop and the sandbox elsewhere (the rest follows).
PORT         ?= 8000
SANDBOX_PORT ?= 8900
demo: venv
	$(PY) manage.py rundemo --port $(PORT) --sandbox-port $(SANDBOX_PORT)

test: browser venv lint lint-imports types migrations-check messages-check pytest docs

# The browser test drives Debian's Chromium (never a browser download), with a CJK font
# for the shop's Chinese text. Installed from Debian when missing and we are root; otherwise
# CI=true fails here, and elsewhere a warning says so and the browser tests fail saying how.
BROWSER_CHROMIUM ?= /usr/bin/chromium
CJK_FONT         ?= /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
AS_ROOT          ?= $(shell [ "$$(id -u)" -eq 0 ] && echo yes)
browser:
	@if [ ! -x $(BROWSER_CHROMIUM) ] || [ ! -f $(CJK_FONT) ]; then \
	  if [ "$(AS_ROOT)" = yes ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei; \
	  else \
	    case "$$(printf %s "$$CI" | tr A-Z a-z)" in \
	      1|true|yes) echo "CI=true: $(BROWSER_CHROMIUM) or $(CJK_FONT) is missing and only root can install them:" \
	                       "apt-get install chromium fonts-wqy-microhei" >&2; exit 1;; \
	      *) echo "WARNING: $(BROWSER_CHROMIUM) or $(CJK_FONT) is missing, so the browser tests will fail." \
	              "As root: apt-get install chromium fonts-wqy-microhei" >&2;; \
	    esac; \
	  fi; \
	fi

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The import layers and forbidden imports, as written in pyproject.toml ([tool.importlinter]).
lint-imports: venv
	$(BIN)/lint-imports

types: venv
	$(BIN)/mypy django_wxlogistics example_project

# Against a throwaway SQLite, not DATABASE_URL: the check compares models with migrations, and
# a DATABASE_URL whose database is not created yet would only add a RuntimeWarning about it.
migrations-check: venv
	env -u DATABASE_URL DEMO_STATE_DIR=$$(mktemp -d) $(PY) manage.py makemigrations --check --dry-run

messages-check: venv
	$(PY) scripts/check_translations.py

# pytest's exit code 5 means no test ran: a failure here, never a silent pass.
pytest: venv
	$(PY) -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest ran no test: failing." >&2; exit 1; fi; exit $$rc

docs: venv
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

# The whole pytest suite on Django 6.x, which needs Python 3.12+: the first such Python on
# PATH or under pyenv that really runs (a pyenv shim on PATH may not), through noxfile.py.
# Without one it says loudly that Django 6 was not tested, and does not fail.
PYENV_DIRS      ?= $(sort $(or $(PYENV_ROOT),$(HOME)/.pyenv) /root/.pyenv)
DJANGO6_PYTHONS ?= python3.12 $(wildcard $(addsuffix /versions/3.12*/bin/python3.12,$(PYENV_DIRS))) \
                   python3.13 $(wildcard $(addsuffix /versions/3.13*/bin/python3.13,$(PYENV_DIRS)))
test-django6:
	@py=""; for candidate in $(DJANGO6_PYTHONS); do \
	  if "$$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
	    py=$$("$$candidate" -c 'import sys; print(sys.executable)'); break; \
	  fi; \
	done; \
	if [ -z "$$py" ]; then \
	  echo "!!!!!! DJANGO 6.x WAS NOT TESTED: it needs Python 3.12+, and none runs here" \
	       "(tried: $(DJANGO6_PYTHONS)). !!!!!!" >&2; \
	  exit 0; \
	fi; \
	version=$$("$$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	echo "Django 6.x: the test suite on $$py"; \
	$(MAKE) --no-print-directory venv && \
	PATH="$$(dirname "$$py"):$$PATH" $(BIN)/nox -s "tests-django6.0-$$version" -- $(PYTEST_ARGS)

bench: venv
	$(PY) benchmarks/run.py

# The failure test at full size: 10,000 events, six worker kills, a broker restart (about 15 min).
chaos: venv
	WXL_CHAOS=full $(PY) -m pytest -m chaos -p no:cacheprovider -s tests/pipeline/test_failure.py

clean:
	rm -rf $(VENV) .nox .demo docs/_build .pytest_cache .mypy_cache .ruff_cache
