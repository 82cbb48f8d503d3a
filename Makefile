# Two commands: `make demo` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/rtcprobe demo

test: $(STAMP)
	$(PY) -m ruff check rtcprobe tests bench
	$(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check rtcprobe tests bench

bench: $(STAMP)
	$(PY) bench/sdp_throughput.py

clean:
	rm -rf $(VENV) .pytest_cache
