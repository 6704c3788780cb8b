# HeatTwin: `make demo` brings the whole product up; `make test` runs everything CI runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install system-deps demo test lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Debian packages the demo and the tests need (PostgreSQL server, Chromium, Mosquitto, CJK fonts).
system-deps:
	bash scripts/install_system_deps.sh

demo: install
	bash scripts/install_system_deps.sh postgresql
	$(BIN)/heattwin demo

lint: install
	$(BIN)/ruff check .

test: install system-deps lint
	$(BIN)/python -m pytest -q -p no:cacheprovider

clean:
	-$(BIN)/heattwin db down
	rm -rf $(VENV) .state data/build
