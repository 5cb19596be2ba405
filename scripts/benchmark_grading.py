"""Grading speed: `python -m autograder grade` against plain sequential `nbgrader autograde`.

Both grade the same 40 submissions of 05_gradient_descent (the instructor's solution, the
untouched exercise and wrong answers from tests/mutants/05_gradient_descent.py) in one run
of this script, on this machine. Prints seconds per submission for each, the ratio, the
per-submission overhead of the sandbox (two processes, namespaces, cgroups, imports, IPython), and
whether both gave every student the same score, as a Markdown table for the README.

    .venv/bin/python scripts/benchmark_grading.py [--workers N] [--count 40]

Not a test: it takes minutes, and the figures depend on the machine.
"""

import argparse
import csv
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder import assignments, compose, pipeline, sandbox, settings

ROOT = Path(__file__).resolve().parents[1]

ASSIGNMENT = "05_gradient_descent"


def mutants():
    path = ROOT / "tests" / "mutants" / f"{ASSIGNMENT}.py"
    spec = importlib.util.spec_from_file_location("mutants", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MUTANTS


def notebooks(count):
    """``count`` student notebooks: a quarter correct, a quarter untouched, the rest wrong answers."""
    solution = json.loads(assignments.source_notebook(ASSIGNMENT).read_text(encoding="utf-8"))
    exercise = json.loads(assignments.exercise_notebook(ASSIGNMENT).read_text(encoding="utf-8"))
    wrong = mutants()
    result = []
    for index in range(count):
        if index % 4 == 0:
            result.append(solution)
        elif index % 4 == 1:
            result.append(exercise)
        else:
            grade_id, _, source = wrong[index % len(wrong)]
            notebook = json.loads(json.dumps(solution))
            for cell in notebook["cells"]:
                if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id:
                    cell["source"] = source
            result.append(notebook)
    return [json.dumps(notebook, ensure_ascii=False) for notebook in result]


def run(command, cwd, env=None):
    started = time.monotonic()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return time.monotonic() - started


def ours(texts, scratch, workers):
    folder = scratch / "ours" / "submissions"
    for index, text in enumerate(texts):
        (folder / f"student{index:02d}").mkdir(parents=True)
        (folder / f"student{index:02d}" / f"{ASSIGNMENT}.ipynb").write_text(text, encoding="utf-8")
    out = scratch / "ours" / "out"
    seconds = run([sys.executable, "-m", "autograder", "grade", ASSIGNMENT, str(folder), "--out", str(out),
                   "--workers", str(workers)], ROOT)
    with (out / "grades.csv").open(newline="", encoding="utf-8") as file:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(file)}
    return seconds, scores


def nbgrader(texts, scratch):
    """Plain nbgrader in a scratch course: generate_assignment once, then one autograde of all."""
    course = scratch / "nbgrader"
    (course / "solutions" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy2(assignments.source_notebook(ASSIGNMENT), course / "solutions" / ASSIGNMENT)
    shutil.copy2(assignments.NBGRADER_CONFIG, course / "nbgrader_config.py")
    for index, text in enumerate(texts):
        folder = course / "submitted" / f"student{index:02d}" / ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / f"{ASSIGNMENT}.ipynb").write_text(text, encoding="utf-8")
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
    base = [sys.executable, "-m", "nbgrader"]
    database = f"--db=sqlite:///{course / 'gradebook.db'}"
    run([*base, "generate_assignment", ASSIGNMENT, "--force", database], course, env)
    seconds = run([*base, "autograde", ASSIGNMENT, "--force", database], course, env)
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as book:
        scores = {f"student{index:02d}": book.find_submission(ASSIGNMENT, f"student{index:02d}").score
                  for index in range(len(texts))}
    return seconds, scores


def overhead(repeats=3):
    """Seconds to start one submission's two sandboxed processes and import everything, with no student code."""
    assignment = compose.load_assignment(ASSIGNMENT, assignments.source_notebook(ASSIGNMENT), settings.STUB)
    setup = [cell for cell in assignment.cells if cell.kind == "setup"]
    student_job, trusted_job = pipeline.jobs(setup, assignment, False)
    figures = {}
    for kind in (sandbox.mechanism(), "rlimits"):
        times = [sandbox.run(student_job, {**trusted_job, "skip": []}, sandbox.Limits(), kind=kind).wall_s
                 for _ in range(repeats)]
        figures[kind] = statistics.median(times)
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--count", type=int, default=40)
    args = parser.parse_args()
    texts = notebooks(args.count)
    with tempfile.TemporaryDirectory(prefix="grading-benchmark-") as scratch:
        scratch = Path(scratch)
        print(f"nbgrader autograde, {args.count} submissions, sequential...", file=sys.stderr)
        nbgrader_seconds, nbgrader_scores = nbgrader(texts, scratch)
        print(f"python -m autograder grade --workers {args.workers}...", file=sys.stderr)
        our_seconds, our_scores = ours(texts, scratch, args.workers)
    costs = overhead()
    differing = sorted(s for s in nbgrader_scores if abs(nbgrader_scores[s] - our_scores.get(s, -1)) > 1e-9)
    n = args.count
    print(f"Grading {n} submissions of {ASSIGNMENT} on {os.cpu_count()} cores "
          f"(sandbox: {sandbox.mechanism()}):\n")
    print("| command | seconds per submission | total, s |")
    print("|---|---|---|")
    print(f"| `nbgrader autograde` (sequential) | {nbgrader_seconds / n:.2f} | {nbgrader_seconds:.1f} |")
    print(f"| `python -m autograder grade --workers {args.workers}` | {our_seconds / n:.2f} | {our_seconds:.1f} |")
    print(f"\nSpeed-up: {nbgrader_seconds / our_seconds:.2f}×. "
          f"Per-submission overhead (two sandboxed processes, imports, IPython; no student code): "
          + ", ".join(f"{seconds:.2f} s with {kind}" for kind, seconds in costs.items()) + ".")
    details = ", ".join(f"{s} (nbgrader {nbgrader_scores[s]:g}, ours {our_scores.get(s, float('nan')):g})"
                        for s in differing)
    print(f"Same score from both for {n - len(differing)} of {n} submissions"
          + (f"; different: {details}." if differing else "."))


if __name__ == "__main__":
    main()
