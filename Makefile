# Two commands: `make demo` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench bench-quick truth truth-quick interop clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/rtcprobe demo

test: $(STAMP)
	$(PY) -m ruff check rtcprobe tests bench interop
	$(PY) -m pytest -q -n 3 --dist loadfile -m "not alone" --durations=20
	$(PY) -m pytest -q -m alone --durations=5

lint: $(STAMP)
	$(PY) -m ruff check rtcprobe tests bench interop

# Every benchmark, as the README quotes them (about 15 minutes on 2 cores; Chromium for load_capacity).
bench: $(STAMP)
	$(PY) bench/sdp_throughput.py
	$(PY) bench/sdp_scale.py --kind candidates
	$(PY) bench/sdp_scale.py --kind attributes
	$(PY) bench/connect_setup.py
	$(PY) bench/report_scaling.py
	$(PY) bench/import_scaling.py
	$(PY) bench/load_capacity.py --audio-steps 50,75,100,125,150 --video-steps 10,20,30,40,60 --page-steps 4,8,12,16 --pc-steps 20,40,60,80

# The same scripts at small sizes, to check they still run (about a minute).
bench-quick: $(STAMP)
	$(PY) bench/sdp_throughput.py --seconds 1
	$(PY) bench/sdp_scale.py --sizes 500,5000 --repeat 1
	$(PY) bench/connect_setup.py --runs 3 --warmup 1 --duration 1
	$(PY) bench/report_scaling.py --counts 1,3 --seconds 10
	$(PY) bench/import_scaling.py --sizes 10

# The truth table (bench/truth.py): the probe against headless Chromium over a grid of network
# impairments, each number against the impairment's own record and Chromium's getStats (about
# 3 minutes; not in make test). TRUTH_ARGS=--readme writes the table into README.md.
truth: $(STAMP)
	$(PY) bench/truth.py $(TRUTH_ARGS)

truth-quick: $(STAMP)
	$(PY) bench/truth.py --quick

# The interop matrix (interop/run.py): the probe against real third-party WebRTC stacks installed
# from Debian and npm by interop/install.sh (libwebrtc, werift, libdatachannel, pion; needs root for
# its network namespaces), written into README.md's "Interop matrix". Not run by `make test`.
interop: $(STAMP)
	interop/install.sh all
	$(PY) interop/run.py --readme $(INTEROP_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
