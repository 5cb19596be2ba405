# The course's task list. `make book` and `make test` are all a fresh machine needs.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# nbgrader runs alembic as a subprocess, and Jupyter Book runs the venv's kernel.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: venv book test exercises grade lint clean benchmark benchmark-grading benchmark-training benchmark-similarity

venv: $(STAMP)

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	# The shared package and the grader import from the repository root in every kernel;
	# the path is relative to site-packages, so it follows the checkout the venv sits in.
	$(PY) -c "import site, pathlib; pathlib.Path(site.getsitepackages()[0], 'dlcourse-root.pth').write_text('../../../..\n')"
	touch $(STAMP)

book: $(STAMP)
	DLCOURSE_STATIC=1 $(VENV)/bin/jupyter-book build . --builder html -W -n --keep-going

exercises: $(STAMP)
	$(PY) -m autograder release --all

grade: $(STAMP)
	$(PY) -m autograder grade 05_gradient_descent autograder/sample_submissions/05_gradient_descent --out _build/grades/05_gradient_descent --timeout 10

# The browser test reads the built book, so the book is built (or found up to date) first.
test: book
	bash scripts/ensure_system_tools.sh
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check dlcourse autograder tests scripts

benchmark: $(STAMP)
	$(PY) scripts/benchmark_build.py

benchmark-grading: $(STAMP)
	$(PY) scripts/benchmark_grading.py

benchmark-training: $(STAMP)
	$(PY) scripts/benchmark_training.py --out _build/benchmark_training.md

benchmark-similarity: $(STAMP)
	$(PY) scripts/benchmark_similarity.py

.PHONY: benchmark-cluster
benchmark-cluster: $(STAMP)
	$(PY) scripts/benchmark_cluster.py

clean:
	rm -rf _build
