"""Similarity speed: `python -m autograder similarity` on a generated class of 200 submissions.

Each generated student answers every cell of 05_gradient_descent with one of the answers in
tests/mutants/05_gradient_descent.py (wrong ones and correct ones written differently) or the
instructor's, with local names renamed at random; every tenth student hands in a disguised
copy of the one before (other names, comments). Prints the command's wall-clock and CPU
seconds and how many of the planted copies it flagged, for the README.

    .venv/bin/python scripts/benchmark_similarity.py [--count 200]

Not a test: the figures depend on the machine.
"""

import argparse
import csv
import importlib.util
import json
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder import assignments, compose, grade

ROOT = Path(__file__).resolve().parents[1]

ASSIGNMENT = "05_gradient_descent"
# Names students often pick for the same thing; swapping them changes the text, not the tokens.
NAMES = ["order", "error", "batch", "losses", "size", "start", "chunks", "residual", "rows", "dw", "db"]


def answers_by_cell():
    """For each solution cell, every answer we have: the instructor's, the mutants, the alternatives."""
    spec = importlib.util.spec_from_file_location("mutants", ROOT / "tests" / "mutants" / f"{ASSIGNMENT}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    source = assignments.source_notebook(ASSIGNMENT)
    assignment = compose.load_assignment(ASSIGNMENT, source, grade.STUB)
    answers = compose.extract_answers(source.read_bytes(), assignment).sources
    pool = {grade_id: [text] for grade_id, text in answers.items()}
    for grade_id, _, text in module.MUTANTS + module.ALTERNATIVES:
        pool[grade_id].append(text)
    return pool


def disguise(text, rng):
    for name in NAMES:
        text = re.sub(rf"\b{name}\b", f"{name}_{rng.randrange(100)}", text)
    return "\n".join(line + ("  # " + rng.choice(["шаг", "см. лекцию", "todo"]) if rng.random() < 0.2 else "")
                     for line in text.splitlines()) + "\n"


def notebooks(count, rng, pool):
    exercise = json.loads(assignments.exercise_notebook(ASSIGNMENT).read_text(encoding="utf-8"))
    students, planted, previous = {}, [], None
    for index in range(count):
        student_id = f"student{index:03d}"
        if previous and index % 10 == 9:
            answers = {grade_id: disguise(text, rng) for grade_id, text in previous.items()}
            planted.append({f"student{index - 1:03d}", student_id})
        else:
            answers = {grade_id: disguise(rng.choice(texts), rng) for grade_id, texts in pool.items()}
        notebook = json.loads(json.dumps(exercise))
        for cell in notebook["cells"]:
            grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell["source"] = answers[grade_id]
        students[student_id], previous = json.dumps(notebook, ensure_ascii=False), answers
    return students, planted


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    pool = answers_by_cell()
    students, planted = notebooks(args.count, random.Random(0), pool)
    with tempfile.TemporaryDirectory(prefix="similarity-benchmark-") as scratch:
        folder, out = Path(scratch) / "submissions", Path(scratch) / "out"
        for student_id, text in students.items():
            (folder / student_id).mkdir(parents=True)
            (folder / student_id / f"{ASSIGNMENT}.ipynb").write_text(text, encoding="utf-8")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "autograder", "similarity", ASSIGNMENT, str(folder),
                               "--out", str(out)], cwd=ROOT, capture_output=True, text=True, check=False)
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise SystemExit(f"similarity failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        with (out / "similarity.csv").open(newline="", encoding="utf-8") as file:
            flagged = [set(row[:2]) for row in list(csv.reader(file))[1:]]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    pairs = args.count * (args.count - 1) // 2
    found = sum(pair in flagged for pair in planted)
    print(f"`python -m autograder similarity` on {args.count} generated submissions of {ASSIGNMENT} "
          f"({pairs} pairs): {wall:.1f} s wall-clock, {cpu:.1f} s CPU.")
    print(f"Planted disguised copies flagged: {found} of {len(planted)}. Pairs at or above the default "
          f"threshold: {len(flagged)}; the generated answers come from {min(map(len, pool.values()))}–"
          f"{max(map(len, pool.values()))} per cell, so most pairs do share whole cells.")


if __name__ == "__main__":
    main()
