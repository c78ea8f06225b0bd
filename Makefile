# The two commands a user needs: `make run` and `make test`. Both are safe to run again.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 2000
STAMP := $(VENV)/.installed

.PHONY: run test install lint format clean contract chaos audit

# Development defaults for the two commands; production sets DEBUG=false and a JWT_SECRET.
run test: export DEBUG ?= true

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py ensure_dev_system_user
	# The email worker runs beside the server and stops with it (Ctrl-C included).
	$(BIN)/python manage.py db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver 0.0.0.0:$(PORT)

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

# Known vulnerabilities in the installed dependencies (pip-audit).
audit: $(STAMP)
	.ci/audit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* test_db.sqlite3*
