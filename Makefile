# The two commands of the README. Both create .venv and install listener into it first.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: demo test bench cluster-test clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/listener demo $(DEMO_ARGS)

test: $(BIN)/.installed
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/bench_index.py

# Three Elasticsearch nodes on loopback, one killed mid-ingest (see tests/cluster/check.py); not part of `make test`.
cluster-test: $(BIN)/.installed
	$(BIN)/python -m tests.cluster.check

clean:
	rm -rf $(VENV) data/demo .pytest_cache
