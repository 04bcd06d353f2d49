# Entry points of Switchboard. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help runtime venv run migrate superuser worker beat test lint format bench fuzz faults clean

help:
	@echo "make run        set up and run the hub on embedded defaults (SQLite, in-memory layer, in-process tasks)"
	@echo "make test       set up the services and a virtualenv, then lint and run the whole test suite"
	@echo "make superuser  create the first admin user"
	@echo "make bench      run the benchmarks against PostgreSQL, Redis and gunicorn, print figures"
	@echo "make fuzz       the OpenAPI fuzz with more examples (FUZZ_EXAMPLES, default 200) and a fresh seed"
	@echo "make faults     kill the worker, stop Redis and PostgreSQL under load; count what was lost or duplicated"

# What running the hub needs (make run), and on top of it what testing it needs (make test).
$(VENV)/.installed-runtime: requirements.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt -c constraints.txt
	touch $@

$(VENV)/.installed: $(VENV)/.installed-runtime requirements-dev.txt
	$(PIP) install -q -r requirements-dev.txt -c constraints.txt
	touch $@

runtime: $(VENV)/.installed-runtime

venv: $(VENV)/.installed

migrate: runtime
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput

# HOST=0.0.0.0 listens on every interface (then add the name you reach it by to ALLOWED_HOSTS).
run: migrate
	DEBUG=$${DEBUG:-1} $(PY) manage.py runserver $(HOST):$(PORT)

superuser: runtime
	DEBUG=$${DEBUG:-1} $(PY) manage.py createsuperuser

worker: runtime
	$(VENV)/bin/celery -A config worker -l info

beat: runtime
	$(VENV)/bin/celery -A config beat -l info

# The static checks; `make test` runs this same target first, so the two cannot drift. Each tool
# names what broke: lint-imports the contract and the import chain, vulture file:line and name
# (allow-list: .ci/vulture_allowlist.py), deptry the package and the rule.
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/vulture
	$(VENV)/bin/deptry . --config .ci/deptry.toml

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: lint
	./scripts/services.sh
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest $(PYTEST_ARGS)

bench: venv
	./scripts/services.sh
	./bench/run.sh
	./bench/run_integrations.sh
	./bench/run_bots.sh
	./bench/run_telegram.sh

# Its own Redis and PostgreSQL (services.sh only installs the binaries if missing); ~15 minutes.
faults: venv
	./scripts/services.sh
	./bench/faults.sh

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles bench/results

# More of the OpenAPI fuzz than `make test` runs: FUZZ_EXAMPLES cases per operation and caller, a fresh seed.
fuzz: venv
	./scripts/services.sh
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} FUZZ_RANDOM=1 $(VENV)/bin/pytest tests/api -q
