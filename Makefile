# SalesLab — the common verbs. Two commands on a fresh machine:
#   make demo    create .venv, install, generate the demo exports, run the whole pipeline
#   make test    install (reusing .venv) and run every test
PYTHON ?= python3
# one BLAS/OpenMP thread per process: 2 cores are oversubscribed otherwise (SARIMAX 14 s -> 0.55 s)
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
VENV   := .venv
BIN    := $(VENV)/bin
SCALE  ?= small
SEED   ?= 42

.PHONY: demo test install install-test system-deps bench clean help

help:
	@echo "make demo     install, generate demo exports (SCALE=$(SCALE)), run the pipeline, print the report path"
	@echo "make test     install and run every test"
	@echo "make bench    run the benchmarks (BENCH_SCALE=small|medium|large, default medium)"

# pip's output filtered to one line per package (and its errors); a failing pip still fails the step
PIP_PROGRESS = 2>&1 | awk '/^Collecting /{n++; printf "  [%d] %s\n", n, $$2; fflush(); next} \
	/^(ERROR|error:)/{print; fflush()} /^Successfully installed/{print "  installed " NF-2 " packages"} \
	/^__pip_failed__$$/{failed=1} END{exit failed}'

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "SalesLab needs Python 3.11+"'
	@echo "==> creating $(VENV)"
	$(PYTHON) -m venv $(VENV)
	@{ $(BIN)/python -m pip install --progress-bar off --upgrade pip || echo __pip_failed__; } $(PIP_PROGRESS)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@echo "==> installing SalesLab and its dependencies into $(VENV) (about 2 minutes on a fresh machine)"
	@{ $(BIN)/python -m pip install --progress-bar off -e . || echo __pip_failed__; } $(PIP_PROGRESS)
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	@echo "==> installing the test and PySpark extras"
	@{ $(BIN)/python -m pip install --progress-bar off -e ".[test,spark]" || echo __pip_failed__; } $(PIP_PROGRESS)
	@touch $@

# plotly.js's partial bundle for the stakeholder pages (npm; without it the pages use plotly's full one)
install: $(VENV)/.installed
	@$(BIN)/python scripts/fetch-plotly-basic.py
install-test: $(VENV)/.installed-test
	@$(BIN)/python scripts/fetch-plotly-basic.py

system-deps:
	@bash scripts/system-deps.sh $(DEPS)

demo: install
	@$(MAKE) --no-print-directory system-deps DEPS="font browser"
	@echo "==> generating the demo exports ($(SCALE))"
	$(BIN)/saleslab demo-data --out data/demo --scale $(SCALE) --seed $(SEED)
	@test -f .keys/demo.key || $(BIN)/saleslab keys new --params parameters/demo.yaml   # the demo key (git-ignored)
	@echo "==> running the pipeline (ingest, then every stage notebook)"
	$(BIN)/saleslab run --params parameters/demo.yaml --allow-shrink   # the demo data were just regenerated (maybe at another scale)
	@echo ""
	@echo "Report:     $(CURDIR)/reports/latest/index.html"
	@echo "PDF:        $(CURDIR)/reports/latest/pack.pdf"
	@echo "History:    $(CURDIR)/reports/history.html"
	@echo "JupyterLab: $(BIN)/saleslab lab        (jupyter lab notebooks/, with --allow-root as root; change a stage's parameters cell)"
	@echo "Pages:      $(BIN)/saleslab users set-password --params parameters/demo.yaml ceo, then $(BIN)/saleslab serve --params parameters/demo.yaml   (dashboard, customer 360, pack behind a login; open the printed URL)"

test: install-test
	@$(MAKE) --no-print-directory system-deps DEPS="font java browser"
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

bench: install-test
	$(BIN)/python benchmarks/ingest.py --scale $${BENCH_SCALE:-medium}
	$(BIN)/python benchmarks/kpi_cube.py --scale $${BENCH_SCALE:-medium}
	$(BIN)/python benchmarks/cleaning_accuracy.py --scale $${BENCH_SCALE:-medium}
	$(BIN)/python benchmarks/customers.py --scale $${BENCH_SCALE:-medium}
	$(BIN)/python benchmarks/forecast.py --scale $${BENCH_SCALE:-medium}
	$(BIN)/python benchmarks/encryption.py --scale $${BENCH_SCALE:-medium}
	$(BIN)/python benchmarks/pipeline.py --scale $${BENCH_SCALE:-medium}

clean:
	rm -rf data reports/[0-9]* reports/latest reports/_scratch .tmp
