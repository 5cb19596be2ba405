# The course's task list. `make book` and `make test` are all a fresh machine needs.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# nbgrader runs alembic as a subprocess, and Jupyter Book runs the venv's kernel.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: venv book pdf test test-fast exercises grade lint clean benchmark benchmark-grading benchmark-training benchmark-mutation benchmark-similarity

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	# The shared package and the grader, editable, so that every kernel imports them from this
	# checkout; the lock already holds their dependencies. Venvs made earlier had a .pth instead.
	$(PY) -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e .
	rm -f $$($(PY) -c "import site; print(site.getsitepackages()[0])")/dlcourse-root.pth
	# JupyterLab speaks Russian by default in this environment only; a student's own choice
	# (Settings → Language) is a user setting and wins over this default.
	mkdir -p $(VENV)/share/jupyter/lab/settings/overrides.d
	echo '{"@jupyterlab/translation-extension:plugin": {"locale": "ru_RU"}}' \
		> $(VENV)/share/jupyter/lab/settings/overrides.d/dlcourse.json
	touch $(STAMP)

book: $(STAMP)
	DLCOURSE_STATIC=1 $(VENV)/bin/jupyter-book build . --builder html -W -n --keep-going

# The whole book as one PDF: Chromium prints the built HTML pages, pypdf merges them.
pdf: book
	bash scripts/ensure_system_tools.sh
	$(PY) scripts/build_pdf.py --out _build/pdf/book.pdf

exercises: $(STAMP)
	$(PY) -m autograder release --all

grade: $(STAMP)
	$(PY) -m autograder grade 05_gradient_descent autograder/sample_submissions/05_gradient_descent --out _build/grades/05_gradient_descent --timeout 10

# The browser test reads the built book, so the book is built (or found up to date) first.
test: book
	bash scripts/ensure_system_tools.sh
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

# The edit-test loop: no book build, no notebook execution, no nbgrader or grader runs.
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check .

benchmark: $(STAMP)
	$(PY) scripts/benchmark_build.py

benchmark-grading: $(STAMP)
	$(PY) scripts/benchmark_grading.py

# Kill rate of automatic mutants of each assignment's solution (cosmic-ray), one at a time;
# ASSIGNMENTS=... picks some, MAX_MUTANTS=... bounds each.
benchmark-mutation: $(STAMP)
	$(PY) scripts/mutation_kill_rate.py $(ASSIGNMENTS) $(if $(MAX_MUTANTS),--max-mutants $(MAX_MUTANTS))

benchmark-training: $(STAMP)
	$(PY) scripts/benchmark_training.py --out _build/benchmark_training.md

benchmark-similarity: $(STAMP)
	$(PY) scripts/benchmark_similarity.py

.PHONY: benchmark-cluster
benchmark-cluster: $(STAMP)
	$(PY) scripts/benchmark_cluster.py

clean:
	rm -rf _build
