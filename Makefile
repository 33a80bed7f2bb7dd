# colearn-jupyter: every command installs what it needs first (Python venv, npm packages, the built extension).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FORGE := node_modules/.bin/forge
LABEXT := colearn_jupyter/labextension/package.json
LABEXT_SOURCES := $(shell find labextension/src labextension/style -type f 2>/dev/null) labextension/package.json

.PHONY: install lab test test-contracts test-python test-frontend test-ui lint contracts bench bench-devnet test-soak soak clean

# A venv with JupyterLab first: building the extension needs it.
$(BIN)/.base:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "jupyterlab>=4.2,<5" hatchling
	touch $@

labextension/node_modules/.installed: labextension/package.json labextension/package-lock.json
	cd labextension && npm ci --no-audit --no-fund
	touch $@

$(LABEXT): $(BIN)/.base labextension/node_modules/.installed $(LABEXT_SOURCES)
	cd labextension && JUPYTER=$(CURDIR)/$(BIN)/jupyter npm run build:prod

$(BIN)/.installed: $(BIN)/.base pyproject.toml $(LABEXT)
	SKIP_JUPYTER_BUILDER=1 $(BIN)/python -m pip install --quiet -e ".[test,lab,keras]"  # the extension is built above
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

install: $(BIN)/.installed node_modules/.installed  ## set everything up

lab: install  ## start JupyterLab with the extension and the example notebooks (PORT=8890, NO_BROWSER=1)
	BIN=$(BIN) PORT="$(PORT)" NO_BROWSER="$(NO_BROWSER)" bash scripts/lab.sh

contracts: node_modules/.installed  ## rebuild the contract artifacts shipped in the Python package
	node scripts/build-contracts.mjs

test-contracts: install  ## forge unit, fuzz and invariant tests
	cd contracts && ../$(FORGE) test

lint: install
	$(BIN)/ruff check colearn_jupyter tests conftest.py
	$(BIN)/ruff format --check colearn_jupyter tests conftest.py

# Two workers, each with its own colearn home and devnet; a file's tests stay together (module fixtures).
test-python: install  ## pytest against the real devnet, IPFS node and contracts; the example notebooks
	$(BIN)/pytest -n 2 --dist loadfile --durations=25

test-frontend: install  ## jest tests of the JupyterLab extension
	cd labextension && npm test -- --silent

test-ui: install  ## Playwright in Debian's chromium against a live JupyterLab
	bash scripts/ensure-chromium.sh
	cd labextension && npm run test:ui

test: lint test-contracts test-python test-soak test-frontend test-ui  ## set everything up and run every test

bench: install  ## run every benchmark at full size; rewrite docs/benchmarks.md (targets, before and now) and a chart
	$(BIN)/colearn bench --report docs/benchmarks.md --figures docs/benchmarks.json --chart bench-chart.html

bench-devnet: install  ## durable send latency after 100, 1,000 and 10,000 transactions; recovery after a SIGKILL
	$(BIN)/python -m colearn_jupyter.bench.devnet

# The class soak (30 student processes, the devnet SIGKILLed every 15 s): bounded in `make test`, on its own after
# the parallel suite (its load would slow the other tests down); longer with `make soak SOAK_SECONDS=...`.
SOAK_SECONDS ?= 600
run_soak = COLEARN_SOAK_SECONDS=$(1) $(BIN)/pytest tests/test_soak.py -p no:cacheprovider -s --timeout $$(( $(1) + 600 ))

test-soak: install  ## the class soak, 60 s
	$(call run_soak,60)

soak: install  ## the class soak for SOAK_SECONDS (default 600)
	$(call run_soak,$(SOAK_SECONDS))

clean:
	rm -rf $(VENV) node_modules labextension/node_modules labextension/lib colearn_jupyter/labextension \
		contracts/out contracts/cache .pytest_cache
