# hv-connector: two commands for a new user.
#   make demo   set everything up and open the demo
#   make test   set everything up and run the tests
#   make trials the kill-at-random trials (.ci/run runs them after make test)
#   make dist   wheels of the core and each plugin in dist/, for deploy/install
#   make system-packages  poppler-utils and openssh-server for the tests (apt; make test runs it)
PYTHON ?= python3
# pytest workers: the project's machines have 2 cores
JOBS   ?= 2
VENV   := .venv
BIN    := $(VENV)/bin
PLUGINS := $(wildcard plugins/*/pyproject.toml)
STAMP  := $(VENV)/.installed

.PHONY: install system-packages test trials demo bench lint clean dist sshd

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# uv resolves and installs in a fraction of pip's time; pip only fetches uv (also into a
# .venv made before uv was used, which has python but no uv).
$(BIN)/uv: $(BIN)/python
	$(BIN)/pip install --quiet uv

# Byte-compiled at install (uv does it on every core at once), not by the first test of each process.
$(STAMP): $(BIN)/uv pyproject.toml setup.py $(PLUGINS)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e ".[test]" $(foreach p,$(dir $(PLUGINS)),-e ./$(p))
	touch $(STAMP)

install: $(STAMP)

# The system packages, for the tests only: pdftotext and pdftoppm (poppler-utils) read the PDFs we print
# the way their readers do; openssh-server and openssh-client give the tests their own sshd on a loopback
# port (never the machine's), to sign in with a staff key. Printing itself needs nothing but the typst wheel.
# Where apt cannot run (no root, no sudo, not Debian) it says so and carries on: those tests then skip, naming it.
system-packages:
	@missing=""; command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	test -x /usr/sbin/sshd && command -v ssh-keygen >/dev/null || missing="$$missing openssh-server openssh-client"; \
	if [ -n "$$missing" ]; then \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  { $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; } || \
	  echo "make system-packages: could not install$$missing; the tests that need them will skip, saying so"; \
	fi

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

# One wheel for the core (with the dashboard) and one per school plugin: deploy/install installs them all.
dist: $(BIN)/uv
	rm -rf dist
	$(BIN)/uv build --quiet --wheel --out-dir dist .
	for p in $(dir $(PLUGINS)); do $(BIN)/uv build --quiet --wheel --out-dir dist $$p || exit 1; done

# The tests' own sshd: one of the system packages.
sshd: system-packages

clean:
	rm -rf $(VENV) build dist *.egg-info src/*.egg-info plugins/*/*.egg-info
