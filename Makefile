# dx-promoter-bot: every daily command goes through make.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv run test lint format bench package playground e2e e2e-deps clean report-png

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The general synonym lexicon for the FAQ search (the Sudachi synonym dictionary, from PyPI; not committed).
LEXICON := dialogs/qa/data/sudachi_synonyms.txt
$(LEXICON): dialogs/qa/search/lexicon.py
	$(PY) dialogs/qa/search/lexicon.py fetch

venv: $(STAMP) $(LEXICON)

run: $(STAMP) $(LEXICON)
	$(BIN)/dxbot db upgrade
	$(BIN)/dxbot seed-demo --if-empty
	$(BIN)/dxbot run

test: $(STAMP) $(LEXICON)
	$(BIN)/pytest -ra

CODE := bot dialogs storage manifests tests bench

lint: $(STAMP)
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy bot dialogs storage manifests

format: $(STAMP)
	$(BIN)/ruff format $(CODE)
	$(BIN)/ruff check --fix $(CODE)

# Every bench/*.py is a benchmark; bench/_*.py are helpers they start (e.g. the bare aiohttp baseline).
# All of them run and print their figures; make bench fails at the end if any missed a target.
bench: $(STAMP) $(LEXICON)
	@failed=""; for b in bench/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || failed="$$failed $$b"; done; \
	if [ -n "$$failed" ]; then echo "== targets missed in:$$failed"; exit 1; fi

# The Teams app package: build/appPackage.zip with the app id filled in (from .env or the command line:
# make package MicrosoftAppId=<GUID> DXBOT_PUBLIC_HOST=dxbot.example.jp).
package: $(STAMP)
	$(BIN)/python manifests/build.py --out build/appPackage.zip

e2e/node_modules/.installed: e2e/package.json e2e/package-lock.json
	cd e2e && npm ci --no-audit --no-fund
	touch $@

e2e-deps: e2e/node_modules/.installed

# The bot plus the Microsoft 365 Agents Playground (a local Teams emulator) in one terminal.
# make playground PORT=3979  runs the bot on another port (its links follow: DXBOT_PUBLIC_URL defaults to it).
PORT ?= $(or $(DXBOT_PORT),3978)
playground: $(STAMP) $(LEXICON) e2e-deps
	$(BIN)/dxbot db upgrade
	$(BIN)/dxbot seed-demo --if-empty
	@echo ""
	@echo "  Bot on http://127.0.0.1:$(PORT). Agents Playground: open http://127.0.0.1:56150 in a browser (Ctrl+C stops both)."
	@echo "  Another mock user: DXBOT_PORT=$(PORT) e2e/playground.sh --as leader@demo-city.example.jp --port 56151"
	@echo ""
	DXBOT_PORT=$(PORT) $(BIN)/dxbot run & BOT=$$!; trap "kill $$BOT" EXIT INT TERM; DXBOT_PORT=$(PORT) e2e/playground.sh

# Only the end-to-end tests (the Agents Playground in headless Chromium).
e2e: $(STAMP) $(LEXICON) e2e-deps
	$(BIN)/pytest tests/e2e -ra

# The demo city's quarterly report, rendered slide by slide to build/report-png/ (needs LibreOffice).
report-png: $(STAMP)
	rm -f build/report-demo.sqlite3 && mkdir -p build
	DXBOT_DATABASE_URL=sqlite+aiosqlite:///build/report-demo.sqlite3 $(BIN)/dxbot db upgrade
	DXBOT_DATABASE_URL=sqlite+aiosqlite:///build/report-demo.sqlite3 $(BIN)/dxbot seed-demo
	DXBOT_DATABASE_URL=sqlite+aiosqlite:///build/report-demo.sqlite3 $(BIN)/dxbot report --quarter $${QUARTER:-2026Q2} --out build/report.pptx
	$(BIN)/python -m dialogs.report.render build/report.pptx build/report-png

clean:
	rm -rf $(VENV) build *.egg-info
