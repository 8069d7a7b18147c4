# Set-up and everyday commands. Needs Python 3.11+ (python3 on PATH, or PYTHON=...).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Neo4j's Cypher front end (an npm package, pinned in its package-lock.json) lints every query
# the tests send.
CYPHER_LINT       := tests/cypher_lint
CYPHER_LINT_STAMP := $(CYPHER_LINT)/node_modules/.installed

# The register lives here unless CMDB_DATA_DIR says otherwise.
export CMDB_DATA_DIR ?= $(CURDIR)/data

.PHONY: run test install bench clean-data messages

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed, this is " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(CYPHER_LINT_STAMP): $(CYPHER_LINT)/package.json $(CYPHER_LINT)/package-lock.json
	@command -v npm >/dev/null || { echo "The Cypher lint needs Node.js 20 or newer with npm (e.g. apt-get install nodejs npm)." >&2; exit 1; }
	cd $(CYPHER_LINT) && npm ci --no-audit --no-fund --loglevel=error
	touch $(CYPHER_LINT_STAMP)

install: $(STAMP) $(CYPHER_LINT_STAMP)

## Load the demo estate into an empty register, then serve the API and pages on the embedded engine.
## (The demo load hosts the engine itself and stops it, so that the server owns the engine.)
run: $(STAMP)
	CMDB_ENGINE_IDLE_SECONDS=0 $(BIN)/cmdb demo --if-empty
	$(BIN)/cmdb serve

## Install everything the tests need (including Debian's chromium and a CJK font when run as root), run them,
## and lint every Cypher query they sent with Neo4j's front end.
test: $(STAMP) $(CYPHER_LINT_STAMP)
	bash tests/install-system-packages.sh
	$(BIN)/python -m pytest -q --lint-cypher

## Texts to translate: extract every message from the code and templates (babel.cfg says where),
## then add the new ones, untranslated, to each language's catalogue. Translate them in
## cmdb/i18n/locale/*/LC_MESSAGES/messages.po; nothing needs compiling (read at start-up).
LOCALES := cmdb/i18n/locale
messages: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg --no-location --sort-output -w 100 \
		--project=cmdb --copyright-holder="the cmdb authors" -o $(LOCALES)/messages.pot .
	$(BIN)/pybabel -q update -i $(LOCALES)/messages.pot -d $(LOCALES) -w 100 \
		--no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date

bench: $(STAMP)
	$(BIN)/python bench/bench_graph.py

clean-data:
	rm -rf data
