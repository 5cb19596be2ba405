"""The grader on assignment 06, where the references are torch's own optimizers.

The student's process can replace torch.optim.SGD, register global optimizer hooks or forge
what a student-side scenario returns: the references and comparisons run in the tests'
process, so none of it turns a wrong optimizer into points.
"""

import csv
import subprocess
import sys
from pathlib import Path

import answered
import pytest

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "06_optimizers"
SOURCE = ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
EXERCISE = ROOT / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
WRONG_MOMENTUM_SGD = '''
class MomentumSGD(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.9):
        super().__init__(params, {"lr": lr, "momentum": momentum})

    @torch.no_grad()
    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.sub_(group["lr"] * p.grad)  # no momentum at all
        return loss
'''
# SGD that ignores a schedule's later opt.lr, and a rebinding of the names the student-side
# helper uses (graded, the helper itself) so that the hidden tests would step a correct class.
BUGGY_SGD_SWAPPING_GRADED = '''
class SGD:
    def __init__(self, lr):
        self.lr = self._lr0 = lr

    def step(self, params, grads):
        for p, g in zip(params, grads):
            p -= self._lr0 * g


class _Reference:
    def __init__(self, lr):
        self.lr = lr

    def step(self, params, grads):
        for p, g in zip(params, grads):
            p -= self.lr * g


_graded = graded


def graded(name):
    return _Reference if name == "SGD" else _graded(name)


_run_optimizer = run_optimizer


def run_optimizer(class_name, *args):
    return _run_optimizer("_Reference" if class_name == "SGD" else class_name, *args)
'''
# The same SGD, and the helper's own dependencies rewritten: dlcourse.checks.graded rebound,
# a setup function's code replaced so that it rebinds graded in the helper's globals.
BUGGY_SGD_REWRITING_SETUP = BUGGY_SGD_SWAPPING_GRADED.split("_graded = graded")[0] + '''
import dlcourse.checks as _checks

_real = graded
_checks.graded = lambda name, namespace=None: _Reference if name == "SGD" else _real(name)


def _hook(shapes, steps, seed, scale):
    import sys

    sys._getframe(1).f_globals["graded"] = lambda name: _Reference if name == "SGD" else _real(name)
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=shape) for shape in shapes]
    grads = [[scale * rng.normal(size=shape) for shape in shapes] for _ in range(steps)]
    return params, grads


optimizer_problem.__code__ = _hook.__code__
'''
CASES = {
    "perfect": ({}, 13),
    "patches_the_reference": ({"torch_momentum": WRONG_MOMENTUM_SGD + "torch.optim.SGD = MomentumSGD\n"}, None),
    "global_hooks": ({"torch_momentum": WRONG_MOMENTUM_SGD
                      + "from torch.optim.optimizer import register_optimizer_step_post_hook\n"
                        "register_optimizer_step_post_hook(lambda optimizer, args, kwargs: None)\n"}, None),
    "forges_the_scenario": ({"torch_momentum": WRONG_MOMENTUM_SGD
                             + "def run_momentum_sgd(*args, **kwargs):\n"
                               "    return {'is_optimizer': True, 'params': [], 'frozen': [], 'returned_none': [True],"
                               " 'returned_closure_result': [True], 'losses': []}\n"}, None),
    "swaps_what_the_helper_steps": ({"sgd": BUGGY_SGD_SWAPPING_GRADED}, "test_sgd"),
    "rewrites_the_helpers_setup": ({"sgd": BUGGY_SGD_REWRITING_SETUP}, "test_sgd"),
}


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    base = tmp_path_factory.mktemp("grader06")
    for student_id, (replacements, _) in CASES.items():
        (base / "subs" / student_id).mkdir(parents=True)
        text = answered.notebook(ASSIGNMENT, replacements)
        (base / "subs" / student_id / f"{ASSIGNMENT}.ipynb").write_text(text, encoding="utf-8")
    (base / "subs" / "untouched").mkdir()
    (base / "subs" / "untouched" / f"{ASSIGNMENT}.ipynb").write_bytes(EXERCISE.read_bytes())
    result = subprocess.run([sys.executable, "-m", "autograder", "grade", ASSIGNMENT, str(base / "subs"), "--out",
                             str(base / "out"), "--workers", "2"], cwd=ROOT, capture_output=True, text=True,
                            timeout=900, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    with (base / "out" / "grades.csv").open(newline="", encoding="utf-8") as file:
        return {row["student_id"]: row for row in csv.DictReader(file)}


@pytest.mark.slow
@pytest.mark.parametrize("student_id", [*CASES, "untouched"])
def test_each_06_submission_gets_its_score(rows, student_id):
    row = rows[student_id]
    if student_id == "untouched":
        assert row["score"] == "0", row
        return
    expected = CASES[student_id][1]
    if isinstance(expected, str):  # that test fails, every other keeps its points
        assert float(row[expected]) == 0, row
        points = {test: float(value) for test, value in rows["perfect"].items() if test.startswith("test_")}
        assert float(row["score"]) == float(row["max_score"]) - points[expected], row
    elif expected is not None:
        assert float(row["score"]) == expected and row["status"] == "ok", row
    else:  # a wrong torch optimizer: every other task is the instructor's solution and keeps its points
        assert float(row["test_torch_momentum"]) == 0, row
        assert float(row["score"]) == float(row["max_score"]) - 3, row
