# dx-promoter-bot: every daily command goes through make.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv run test lint format bench package playground e2e-deps clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/dxbot db upgrade
	$(BIN)/dxbot seed-demo --if-empty
	$(BIN)/dxbot run

test: $(STAMP)
	$(BIN)/pytest -ra

lint: $(STAMP)
	$(BIN)/ruff check bot dialogs storage tests bench
	$(BIN)/ruff format --check bot dialogs storage tests bench
	$(BIN)/mypy bot dialogs storage

format: $(STAMP)
	$(BIN)/ruff format bot dialogs storage tests bench
	$(BIN)/ruff check --fix bot dialogs storage tests bench

bench: $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info
