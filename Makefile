# mlrun — common tasks. `make help` lists them.
PYTHON ?= python
SCALE ?= default
PAPERS := $(patsubst experiments/%.py,%,$(filter-out experiments/__init__.py,$(wildcard experiments/*.py)))
SLUGS := $(subst _,-,$(PAPERS))

.PHONY: help install data test test-full lint smoke bench reproduce-all clean

help:  ## list the targets
	@grep -E '^[a-zA-Z%_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

install:  ## CPU torch from disk first, then the package with dev, baselines, rl and data extras
	$(PYTHON) -m pip install torch==2.13.0
	$(PYTHON) -m pip install -e ".[dev,baselines,rl,data]"

data:  ## real offline data: Fashion-MNIST (Debian) and the R data sets of kernlab/mlbench
	bash scripts/fetch_data.sh

test:  ## the fast suite (CI): unit tests, engine tests, smoke reproductions
	$(PYTHON) -m pytest -q -m "not slow"

test-full:  ## everything, including the slow full reproductions
	$(PYTHON) -m pytest -q

lint:  ## byte-compile everything (syntax check)
	$(PYTHON) -m compileall -q runner methods experiments tests

smoke:  ## every paper at scale=smoke
	$(MAKE) reproduce-all SCALE=smoke

bench:  ## benchmarks: engine overhead and each paper's timings
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(PYTHON) $$f || exit 1; done

reproduce-%:  ## one paper's experiments and report at SCALE (smoke|default|paper)
	mlrun-report $* --reproduce --scale $(SCALE)

reproduce-all:  ## every paper at SCALE
	@set -e; for p in $(SLUGS); do $(MAKE) reproduce-$$p SCALE=$(SCALE); done

clean:  ## remove run folders, reports and caches
	rm -rf outputs/runs outputs/sweeps outputs/reports .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
