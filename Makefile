# HeatTwin: `make demo` brings the whole product up; `make test` runs everything CI runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install system-deps timescaledb demo test lint clean

# TimescaleDB is built from the source kept beside the checkout (../shared/tools/timescaledb) once,
# when the machine's PostgreSQL lacks it; the build stays installed between runs.
# Found from this Makefile's folder, so `make -C` and a clean clone beside ../shared both work.
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
TIMESCALEDB_SOURCES := $(ROOT)/../shared/tools/timescaledb/build.sh /work/shared/tools/timescaledb/build.sh
TIMESCALEDB_BUILD ?= $(abspath $(firstword $(wildcard $(TIMESCALEDB_SOURCES)) $(TIMESCALEDB_SOURCES)))
# Run on both database paths: the store suite, the sync loop (rollups, retention) and the ingest routes;
# the whole suite runs on TimescaleDB (what `make demo` uses where it is installed). Left out of the plain
# run: the cluster tests (they start their own clusters, whatever the path) and the day-long leak runs
# (their rollups go through the same housekeeping as test_sync's).
PLAIN_TESTS := tests/store --ignore=tests/store/test_cluster.py tests/twin/test_sync.py tests/app/test_api.py \
	tests/scripts/test_cmd_telemetry.py tests/scripts/test_mqtt_ingest.py
# Two workers (pytest-xdist), one per core of the 2-core machines CI runs on: a worker waits on its
# PostgreSQL and its Chromium as often as it computes. A file's tests stay on one worker, in order
# (--dist loadfile); each worker starts its own cluster and browser.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider --durations=20 -n $(TEST_WORKERS) --dist loadfile

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
	bash scripts/install_system_deps.sh postgresql mosquitto
	$(BIN)/heattwin demo

lint: install
	$(BIN)/ruff check .

timescaledb: install
	@if $(BIN)/python -c 'import sys; from store.cluster import timescaledb_installed; sys.exit(not timescaledb_installed())'; then \
	  echo "TimescaleDB is installed"; \
	elif [ -f "$(TIMESCALEDB_BUILD)" ]; then \
	  bash "$(TIMESCALEDB_BUILD)"; \
	else \
	  echo "TimescaleDB is not installed and $(TIMESCALEDB_BUILD) is missing: set TIMESCALEDB_BUILD=path/to/build.sh" >&2; \
	  exit 1; \
	fi

# Both paths run even when the first fails; the target fails if either did.
test: install system-deps lint timescaledb
	@status=0; \
	HEATTWIN_TEST_DB=plain $(PYTEST) $(PLAIN_TESTS) || status=1; \
	HEATTWIN_TEST_DB=timescaledb $(PYTEST) || status=1; \
	exit $$status

clean:
	-$(BIN)/heattwin db down
	rm -rf $(VENV) .state data/build
