# One command runs the API, one runs the tests; both set themselves up from scratch.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: serving installs only the package and what it needs; the tests add the [test] extra.
SERVE_STAMP := $(VENV)/.installed-serve
TEST_STAMP := $(VENV)/.installed-test

.PHONY: serve test test-setup bench clean

$(SERVE_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(SERVE_STAMP)

$(TEST_STAMP): $(SERVE_STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

## make serve: install what serving needs, build the offline GraphiQL (falls back to a CDN page
## without npm) and the reader app served at /, seed db/ from seeds/ (every time: unchanged files are skipped, so it is quick;
## bad files are reported and the rest served), serve on http://127.0.0.1:8000/graphql
serve: $(SERVE_STAMP)
	@scripts/setup-graphiql.sh || echo "GraphiQL bundle not built: the page will load GraphiQL from a CDN"
	@scripts/setup-frontend.sh || echo "Reader app not built: / will say how to build it"
	@$(BIN)/newsgraph seed seeds; status=$$?; \
	if [ $$status = 1 ]; then echo "make serve: some seed files were skipped (see above); serving the rest"; \
	elif [ $$status != 0 ]; then exit $$status; fi
	$(BIN)/newsgraph serve

## make test: install everything the suite uses (PostgreSQL, Chromium, the HTTP audit,
## the Node clients, graphql-codegen, the GraphiQL bundle), then run the whole test suite
test: test-setup
	eval "$$(scripts/postgres-test-server.sh start)" && $(BIN)/python -m pytest; \
	status=$$?; scripts/postgres-test-server.sh stop >/dev/null 2>&1 || true; exit $$status

test-setup: $(TEST_STAMP)
	scripts/setup-http-audit.sh
	scripts/setup-clients.sh
	scripts/setup-codegen.sh
	scripts/setup-browser.sh
	scripts/setup-frontend.sh

## make bench: the benchmarks (see benchmarks/README.md)
bench: $(TEST_STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache graph/static
