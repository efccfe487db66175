# hv-connector: two commands for a new user.
#   make demo   set everything up and open the demo
#   make test   set everything up and run the tests
PYTHON ?= python3
# pytest workers: the project's machines have 2 cores
JOBS   ?= 2
VENV   := .venv
BIN    := $(VENV)/bin
PLUGINS := $(wildcard plugins/*/pyproject.toml)
STAMP  := $(VENV)/.installed

.PHONY: install test demo bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml setup.py $(PLUGINS)
	$(BIN)/pip install --quiet -e ".[test]" $(foreach p,$(dir $(PLUGINS)),-e ./$(p))
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tui fixtures tests bench plugins conftest.py setup.py
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

test: lint
	$(BIN)/pytest -q -n $(JOBS) $(PYTEST_ARGS)

demo: $(STAMP)
	$(BIN)/hvc demo

bench: $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info plugins/*/*.egg-info
