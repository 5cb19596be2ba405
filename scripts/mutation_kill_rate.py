"""Kill rate of automatic mutants of each assignment's reference solution.

cosmic-ray's operators (pinned in requirements.txt) mutate the solution cells of
`solutions/NAME/NAME.ipynb`, extracted to a module (written to `_build/mutation/NAME.py` for
reading); each mutant replaces the solution cells and the notebook's own test cells, visible
and hidden, run on it in this process. A mutant is killed when a test cell fails or it runs
past `--timeout`. Surviving mutants are listed; those shown equivalent to the solution in
`tests/mutants/equivalent.md` (by their key, ``NAME/grade_id/operator/occurrence``) are
marked so. In-process runs are good enough for this measurement: grading itself goes through
nbgrader and the grader (tests/test_assignments.py).

    python scripts/mutation_kill_rate.py [NAME ...] [--max-mutants N] [--timeout S]
"""

import argparse
import contextlib
import difflib
import io
import re
import signal
import sys
import time
import types
from dataclasses import dataclass
from pathlib import Path

import nbformat
from cosmic_ray.mutating import mutate_code
from cosmic_ray.plugins import get_operator, operator_names

from autograder import assignments

ROOT = Path(__file__).resolve().parent.parent

EQUIVALENT = ROOT / "tests" / "mutants" / "equivalent.md"
KEY = re.compile(r"`([0-9A-Za-z_]+/[0-9A-Za-z_]+/core/[0-9A-Za-z_]+/\d+)`")


@dataclass
class Mutant:
    key: str  # NAME/grade_id/operator/occurrence
    cell: str
    source: str  # the mutated cell
    change: str  # the changed lines, "-old / +new"


class Timeout(Exception):
    pass


def _meta(cell):
    return cell.metadata.get("nbgrader", {})


def _operators():
    # Operators that need arguments (variable replacers) are configured per project; skip them.
    names = []
    for name in operator_names():
        operator = get_operator(name)
        if not list(operator.arguments()):
            names.append(name)
    return names


def _change(before, after):
    lines = [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
             if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    return " / ".join(f"{line[0]} {line[1:].strip()}" for line in lines)


def mutants(name, notebook, operators):
    """Every mutant cosmic-ray's operators make of the solution cells, in a stable order."""
    found = []
    for cell in notebook.cells:
        if not _meta(cell).get("solution"):
            continue
        gid = _meta(cell)["grade_id"]
        for op_name in operators:
            operator = get_operator(op_name)()
            occurrence = 0
            while (mutated := mutate_code(cell.source, operator, occurrence)) is not None:
                found.append(Mutant(f"{name}/{gid}/{op_name}/{occurrence}", gid, mutated,
                                    _change(cell.source, mutated)))
                occurrence += 1
    return found


def _alarm(signum, frame):
    raise Timeout


def passes(notebook, replaced, timeout):
    """Whether every test cell passes with the solution cells ``replaced`` (grade_id -> source)."""
    # The cells run in a fresh __main__, as in a kernel: setup helpers find the graded names there.
    main, saved = types.ModuleType("__main__"), sys.modules["__main__"]
    namespace = vars(main)
    sys.modules["__main__"] = main
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            for cell in notebook.cells:
                if cell.cell_type != "code":
                    continue
                gid = _meta(cell).get("grade_id", "cell")
                exec(compile(replaced.get(gid, cell.source), gid, "exec"), namespace)
        return True
    except Timeout:
        return False
    except Exception:  # any failure of a test cell kills the mutant
        return False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        sys.modules["__main__"] = saved


def _spread(items, limit):
    """At most ``limit`` items, spread evenly over the list (every operator and cell gets a share)."""
    if limit is None or len(items) <= limit:
        return items
    return [items[i * len(items) // limit] for i in range(limit)]


def measure(name, limit, timeout, equivalent):
    notebook = nbformat.read(str(assignments.source_notebook(name)), as_version=4)
    module = ROOT / "_build" / "mutation" / f"{name}.py"
    module.parent.mkdir(parents=True, exist_ok=True)
    module.write_text("\n\n\n".join(c.source for c in notebook.cells if _meta(c).get("solution")) + "\n",
                      encoding="utf-8")
    if not passes(notebook, {}, timeout * 5):
        sys.exit(f"{name}: the solution itself fails its tests")
    every = mutants(name, notebook, _operators())
    chosen = _spread(every, limit)
    started = time.monotonic()
    survivors = [m for m in chosen if passes(notebook, {m.cell: m.source}, timeout)]
    killed = len(chosen) - len(survivors)
    explained = [m for m in survivors if m.key in equivalent]
    print(f"{name}: {killed}/{len(chosen)} killed ({100 * killed / max(len(chosen), 1):.1f}%)"
          f"{'' if len(chosen) == len(every) else f' of {len(every)} mutants'}, "
          f"{len(explained)} survivors shown equivalent, {len(survivors) - len(explained)} unexplained, "
          f"{time.monotonic() - started:.0f} s", flush=True)
    for m in survivors:
        mark = "equivalent" if m.key in equivalent else "UNEXPLAINED"
        print(f"  {mark}: `{m.key}` {m.change}", flush=True)
    return killed, len(chosen), len(survivors) - len(explained)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="assignments (all by default)")
    parser.add_argument("--max-mutants", type=int, help="at most this many mutants per assignment")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per mutant (default 30)")
    args = parser.parse_args()
    names = args.names or assignments.names()
    unknown = sorted(set(names) - set(assignments.names()))
    if unknown:
        parser.error(f"unknown assignments: {', '.join(unknown)}")
    equivalent = set(KEY.findall(EQUIVALENT.read_text(encoding="utf-8"))) if EQUIVALENT.exists() else set()
    total = [0, 0, 0]
    for name in names:
        for i, value in enumerate(measure(name, args.max_mutants, args.timeout, equivalent)):
            total[i] += value
    print(f"all: {total[0]}/{total[1]} killed ({100 * total[0] / max(total[1], 1):.1f}%), "
          f"{total[2]} unexplained survivors")


if __name__ == "__main__":
    main()
