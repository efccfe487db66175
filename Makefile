# hv-connector: two commands for a new user.
#   make demo   set everything up and open the demo
#   make test   set everything up and run the tests
#   make trials the kill-at-random trials (.ci/run runs them after make test)
PYTHON ?= python3
# pytest workers: the project's machines have 2 cores
JOBS   ?= 2
VENV   := .venv
BIN    := $(VENV)/bin
PLUGINS := $(wildcard plugins/*/pyproject.toml)
STAMP  := $(VENV)/.installed

.PHONY: install system-packages test trials demo bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# uv resolves and installs in a fraction of pip's time; pip only fetches uv (also into a
# .venv made before uv was used, which has python but no uv).
$(BIN)/uv: $(BIN)/python
	$(BIN)/pip install --quiet uv

$(STAMP): $(BIN)/uv pyproject.toml setup.py $(PLUGINS)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e ".[test]" $(foreach p,$(dir $(PLUGINS)),-e ./$(p))
	touch $(STAMP)

install: $(STAMP)

# The one system package, for the tests only: pdftotext and pdftoppm (poppler-utils) read the PDFs
# we print the way their readers do. Printing itself needs nothing but the typst wheel.
system-packages:
	@command -v pdftotext >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y --no-install-recommends poppler-utils; \
	  else sudo apt-get install -y --no-install-recommends poppler-utils; fi; }

lint: $(STAMP)
	$(BIN)/ruff check src tui fixtures tests bench plugins conftest.py setup.py
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# The trials (tests marked `slow`: real processes killed at random, many
# times) run on their own so `make test` stays under five minutes on two cores.
test: lint system-packages
	$(BIN)/pytest -q -n $(JOBS) -m "not slow" $(PYTEST_ARGS)

trials: $(STAMP)
	$(BIN)/pytest -q -n $(JOBS) -m slow $(PYTEST_ARGS)

demo: $(STAMP)
	$(BIN)/hvc demo

bench: $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info plugins/*/*.egg-info
