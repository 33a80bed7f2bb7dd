# colearn-jupyter: every command installs what it needs first (Python venv, npm packages).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FORGE := node_modules/.bin/forge

.PHONY: install lab test test-contracts test-python lint contracts bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[test,lab,keras]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

install: $(BIN)/.installed node_modules/.installed  ## set everything up

lab: install  ## start JupyterLab with the extension and the example notebooks
	$(BIN)/jupyter lab --notebook-dir=example_notebooks

contracts: node_modules/.installed  ## rebuild the contract artifacts shipped in the Python package
	node scripts/build-contracts.mjs

test-contracts: install  ## forge unit, fuzz and invariant tests
	cd contracts && ../$(FORGE) test

lint: install
	$(BIN)/ruff check colearn_jupyter tests conftest.py
	$(BIN)/ruff format --check colearn_jupyter tests conftest.py

test-python: install  ## pytest against the real devnet and contracts
	$(BIN)/pytest

test: lint test-contracts test-python  ## set everything up and run every test

bench: install  ## print gas figures
	$(BIN)/colearn bench gas

clean:
	rm -rf $(VENV) node_modules contracts/out contracts/cache .pytest_cache
