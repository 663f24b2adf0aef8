# The two README commands:  `make demo` (set up + run the main job)  and  `make test` (set up + run the tests).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
TORCH  ?= torch==2.13.0

.PHONY: setup demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# CPU build of PyTorch first, so nothing later pulls a multi-GB CUDA build (README: Install).
	$(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/recommender qc genomics/data/demo/demo_pgx_panel.vcf.gz

# pytest exits 5 when it collects no tests: that is not a failure of ours, but say so.
test: setup
	@$(BIN)/python -m pytest -n 2 --dist loadfile; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

bench: setup
	$(BIN)/python benchmarks/bench_vcf_reader.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
