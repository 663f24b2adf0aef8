# The two README commands:  `make demo` (set up + run the main job)  and  `make test` (set up + run the tests).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
TORCH  ?= torch==2.13.0

.PHONY: setup demo demo-cli test docs bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# CPU build of PyTorch first, so nothing later pulls a multi-GB CUDA build (README: Install).
	$(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet -e ".[test,eval,cluster,docs]"
	# medspaCy and two of its parts pin spacy<3.8 (numpy 1) on Python 3.11; they run on spaCy 3.8: no-deps install
	$(BIN)/pip install --quiet --no-deps medspacy==1.3.1 medspacy_quickumls==3.2 PyRuSH==1.0.13
	touch $(STAMP)

setup: $(STAMP)

# Main job on the embedded defaults (no network, no GPU): the demo patient scored end to end into a
# self-contained HTML report (PGx calls + verbatim CPIC/DPWG guidance, tumour biomarkers, default model bundle),
# then the physician's app on http://127.0.0.1:8501 with a local demo database and a demo physician account
# whose password is generated and printed once. Ctrl-C stops the app. `make demo-cli` runs the CLI part only.
demo: demo-cli
	$(BIN)/recommender app --demo

demo-cli: setup
	$(BIN)/recommender qc genomics/data/demo/demo_pgx_panel.vcf.gz
	$(BIN)/recommender score --demo --html demo_report.html
	@echo "Report written to $(CURDIR)/demo_report.html (research use only)"

# pytest exits 5 when it collects no tests: that is not a failure of ours, but say so.
test: setup
	@$(BIN)/python -m pytest -n 2 --dist loadfile; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

# Documentation site, built offline into site/ (warnings are errors; CLI/HTTP references generated from the code).
docs: setup
	NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true $(BIN)/mkdocs build --strict --quiet
	@echo "Documentation written to $(CURDIR)/site/index.html"

bench: setup
	$(BIN)/python benchmarks/bench_vcf_reader.py --quick
	$(BIN)/python benchmarks/bench_pgx.py --quick
	$(BIN)/python benchmarks/bench_simulate.py --quick
	$(BIN)/python benchmarks/bench_scoring.py
	$(BIN)/python benchmarks/bench_dnalm.py --quick
	$(BIN)/python benchmarks/bench_cohort_scale.py --quick
	$(BIN)/python benchmarks/bench_app.py --quick

clean:
	rm -rf $(VENV) build site *.egg-info .pytest_cache demo_report.html
