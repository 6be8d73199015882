# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install -q --disable-pip-version-check -c requirements.lock
HOST   ?= 127.0.0.1
export GRADIO_ANALYTICS_ENABLED=False
export HF_HUB_OFFLINE=1
export ANONYMIZED_TELEMETRY=False

.PHONY: run test lint bench ingest clean

$(VENV)/.run-installed: pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.run-installed
	$(PIP) -e '.[test]'
	touch $@

## make run: venv, install, ingest corpus/, start the UI on 127.0.0.1
run: $(VENV)/.run-installed
	$(VENV)/bin/drafting ingest corpus/
	DRAFTING_HOST=$(HOST) $(VENV)/bin/python app.py

## make lint: ruff (rules in pyproject.toml) over drafting/ tests/ bench/ app.py, then mypy on drafting/
lint: $(VENV)/.test-installed
	$(PY) -m ruff check drafting tests bench app.py
	$(PY) -m mypy

## make test: venv with test extras, lint, then every test
test: lint
	$(PY) -m pytest -q

bench: $(VENV)/.test-installed
	$(PY) bench/retrieval.py

clean:
	rm -rf $(VENV) vectorstore/chroma.sqlite3 vectorstore/*/ test-artifacts bench/out
