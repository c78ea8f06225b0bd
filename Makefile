# The two commands a user needs: `make run` and `make test`. Both are safe to run again.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 2000
# `make run` listens on this machine only; HOST=0.0.0.0 opens it to the network.
HOST ?= 127.0.0.1
STAMP := $(VENV)/.installed

.PHONY: run test install lint format clean contract chaos ha-chaos ha-tools fuzz audit bench bench-sqlite bench-tools

# Development defaults for the two commands; production sets DEBUG=false, a JWT_SECRET and a
# LEDGER_SIGNING_KEY.
run test: export DEBUG ?= true

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	# The development key that signs receipts and checkpoints (production: LEDGER_SIGNING_KEY).
	test -s .ledger-signing-key || (umask 077 && $(BIN)/python -c \
		"import base64, os; print(base64.b64encode(os.urandom(32)).decode())" > .ledger-signing-key)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py ensure_dev_system_user
	# The email worker runs beside the server and stops with it (Ctrl-C included).
	$(BIN)/python manage.py db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py events_worker & events=$$!; trap 'kill $$worker $$events 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Schemathesis against a live gunicorn on a fresh SQLite file (CONTRACT_PORT, default 8101).
contract: $(STAMP)
	tests/contract/run_schemathesis.sh

# Fault injection: transfers under worker kills, dropped connections and a PostgreSQL restart,
# on a throwaway cluster (127.0.0.1:5499) and gunicorn on 8200. Exits 1 if anything is lost.
CHAOS_DURATION ?= 90
chaos: $(STAMP)
	$(BIN)/python -m tests.chaos.run --duration $(CHAOS_DURATION)

# Failover: etcd and two PostgreSQL nodes under Patroni (synchronous replication, strict) on
# 5510-5511 (Patroni REST 8350-8351, etcd 23790-23791), gunicorn on 8360 through a multi-host
# read-write connection string; the primary's PostgreSQL is SIGKILLed under load. Exits 1 if
# anything is lost. Installs Debian's patroni and etcd-server when missing.
HA_CHAOS_DURATION ?= 90
ha-chaos: $(STAMP) ha-tools
	$(BIN)/python -m tests.chaos.ha --duration $(HA_CHAOS_DURATION)

ha-tools:
	@command -v patroni >/dev/null && command -v etcd >/dev/null || \
	  { apt-get update && apt-get install -y patroni etcd-server || \
	    { sudo apt-get update && sudo apt-get install -y patroni etcd-server; }; }

# The model-based test, longer than in `make test`: FUZZ_EXAMPLES sequences of FUZZ_STEPS steps.
FUZZ_EXAMPLES ?= 200
FUZZ_STEPS ?= 50
fuzz: $(STAMP)
	MODEL_EXAMPLES=$(FUZZ_EXAMPLES) MODEL_STEPS=$(FUZZ_STEPS) \
	  $(BIN)/python -m pytest tests/flows/test_model_based.py -q $(PYTEST_ARGS)

# Known vulnerabilities in the installed dependencies (pip-audit).
audit: $(STAMP)
	.ci/audit

# Benchmarks (README "Benchmarks"): the app under granian + wrk against the pgbench yardstick
# in ../shared/bench/ and django-hordak (../shared/bench/peers/hordak/), on PostgreSQL from
# DATABASE_URL (bench-sqlite: HTTP part only, SQLite), with CPU per request from /proc.
# Ports 8150-8151. Results land in bench/results/. BENCH_ARGS passes options (--help).
BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench-tools:
	@command -v wrk >/dev/null || { apt-get install -y wrk || sudo apt-get install -y wrk; }
	@command -v pgbench >/dev/null || { apt-get install -y postgresql-client || sudo apt-get install -y postgresql-client; }

bench: $(BENCH_STAMP) bench-tools
	@test -n "$(DATABASE_URL)" || { echo "make bench needs DATABASE_URL=postgres://user@host:port/db"; exit 2; }
	$(BIN)/python -m bench.run --database postgresql $(BENCH_ARGS)

bench-sqlite: $(BENCH_STAMP) bench-tools
	$(BIN)/python -m bench.run --database sqlite $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* test_db.sqlite3*
