# One command runs the API, one runs the tests; both set themselves up from scratch.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test test-setup bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## make serve: install, build the offline GraphiQL (falls back to a CDN page without npm),
## seed db/ from seeds/ when the database is missing, serve on http://127.0.0.1:8000/graphql
serve: $(STAMP)
	@scripts/setup-graphiql.sh || echo "GraphiQL bundle not built: the page will load GraphiQL from a CDN"
	@test -f db/newsgraph.json || $(BIN)/newsgraph seed seeds
	$(BIN)/newsgraph serve

## make test: install everything the suite uses (PostgreSQL, Chromium, the HTTP audit,
## the Node clients, the GraphiQL bundle), then run the whole test suite
test: test-setup
	eval "$$(scripts/postgres-test-server.sh start)" && $(BIN)/python -m pytest; \
	status=$$?; scripts/postgres-test-server.sh stop >/dev/null 2>&1 || true; exit $$status

test-setup: $(STAMP)
	scripts/setup-http-audit.sh
	scripts/setup-clients.sh
	scripts/setup-browser.sh

## make bench: the benchmarks (see benchmarks/README.md)
bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache graph/static
