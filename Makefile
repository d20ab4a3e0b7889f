# One command to run the API, one to run the tests; both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## make serve: install, seed db/ from seeds/ when the database is missing, serve on 127.0.0.1:8000
serve: $(STAMP)
	@test -f db/newsgraph.json || $(BIN)/newsgraph seed seeds
	$(BIN)/newsgraph serve

## make test: install, then run the whole test suite
test: $(STAMP)
	$(BIN)/python -m pytest

## make bench: the benchmarks (see benchmarks/README.md)
bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
