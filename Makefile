# The two commands of the README: `make demo` and `make test`. Both create .venv and install first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_WORKERS ?= 2

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# the project's modules compiled to bytecode on every install (only what changed): an editable install
# compiles nothing, and with PYTHONDONTWRITEBYTECODE set (as on this machine) every command would
# compile its modules again at start (0.1 s of `danbao check`'s start)
PACKAGES := pipelines schemas validations connectors store filings web

install: $(STAMP)
	$(BIN)/python -m compileall -q -j 0 $(PACKAGES) > /dev/null

demo: install
	$(BIN)/python -m pipelines.demo

lint: install
	$(BIN)/ruff check .

test: install lint
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --durations=25

bench: install  # the quick ones; benchmarks/pipeline.py and benchmarks/publish.py take minutes
	$(BIN)/python benchmarks/check.py
	$(BIN)/python benchmarks/phase4.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
