# fairio-tools: `make run` starts Galaxy (and the portal); `make test` runs every check.
# Both set up everything they need on a fresh machine with Python 3.11+ and the registries.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FAIRIO := $(BIN)/fairio

.PHONY: setup galaxy-env browser lint pytest galaxy-test test portal run clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check 'uv>=0.5'
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

galaxy-env: setup
	$(BIN)/python -c "from fairio_tools.galaxy.harness import galaxy_venv; \
	from fairio_tools.galaxy.environment import ensure_galaxy_venv; \
	from pathlib import Path; ensure_galaxy_venv(galaxy_venv(Path('.').resolve()))"

browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

lint: setup galaxy-env
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(FAIRIO) galaxy lint

pytest: setup galaxy-env browser
	$(BIN)/pytest -n 2 --dist loadfile

galaxy-test: setup galaxy-env browser
	$(FAIRIO) galaxy test

test: lint pytest galaxy-test

portal: setup
	$(FAIRIO) portal build --site-dir site

run: setup galaxy-env portal
	$(FAIRIO) galaxy serve --port 8080 --portal site

clean:
	rm -rf build site .galaxy/serve .galaxy/test
