"""Every graded assignment in solutions/: its structure, its generated exercise and its grading.

Grading goes through real nbgrader (tests/nbgrader_course.py): the solution must get full
marks, the untouched exercise zero, every wrong implementation in tests/mutants/<assignment>.py
(``MUTANTS``) must lose points in the test cells of the function it breaks, and every correct
answer written another way (``ALTERNATIVES``, optional) must get full marks.
"""

import ast
import functools
import importlib.util
import re
from pathlib import Path

import nbformat
import pytest
from nbgrader_course import cell_scores

from autograder import assignments, release

ASSIGNMENTS = assignments.names()
MUTANTS_DIR = Path(__file__).parent / "mutants"

# The graded names and signatures, as the issues fix them (issue 5: 00–04, issue 4: 05–06).
# A class is listed with its bases and then its methods.
SPECS = {
    "00_architectures": {
        "relu": ["def relu(x)"],
        "dense_forward": ["def dense_forward(x, W, b)"],
        "rnn_cell": ["def rnn_cell(x, h, W_xh, W_hh, b)"],
        "rnn_forward": ["def rnn_forward(xs, h0, W_xh, W_hh, b)"],
    },
    "01_pixels": {
        "to_grayscale": ["def to_grayscale(rgb)"],
        "crop": ["def crop(image, top, left, height, width)"],
        "min_max_normalize": ["def min_max_normalize(image)"],
    },
    "02_convolution": {
        "conv2d": ["def conv2d(image, kernel, stride=1, padding=0)"],
        "sobel_magnitude": ["def sobel_magnitude(image)"],
    },
    "03_vision_tasks": {
        "iou": ["def iou(box_a, box_b)"],
        "nms": ["def nms(boxes, scores, iou_threshold)"],
        "pixel_accuracy": ["def pixel_accuracy(pred, target)"],
        "mean_iou": ["def mean_iou(pred, target, num_classes)"],
    },
    "04_generative": {
        "gram_matrix": ["def gram_matrix(features)"],
        "discriminator_loss": ["def discriminator_loss(real_logits, fake_logits)"],
        "generator_loss": ["def generator_loss(fake_logits)"],
    },
    "05_gradient_descent": {
        "gd_step": ["def gd_step(w, grad, lr)"],
        "mse": ["def mse(y_true, y_pred)"],
        "linear_regression_gradients": ["def linear_regression_gradients(X, y, w, b)"],
        "minibatch_indices": ["def minibatch_indices(n, batch_size, rng)"],
        "fit_linear_regression": ["def fit_linear_regression(X, y, lr, epochs, batch_size=None, seed=0)"],
        "two_layer_backward": ["def two_layer_backward(X, W1, b1, W2, b2, y)"],
    },
    "06_optimizers": {
        "sgd": ["class SGD", "def SGD.__init__(self, lr)", "def SGD.step(self, params, grads)"],
        "momentum": ["class Momentum", "def Momentum.__init__(self, lr, momentum=0.9)",
                     "def Momentum.step(self, params, grads)"],
        "rmsprop": ["class RMSProp", "def RMSProp.__init__(self, lr=0.01, alpha=0.99, eps=1e-08)",
                    "def RMSProp.step(self, params, grads)"],
        "adam": ["class Adam", "def Adam.__init__(self, lr=0.001, betas=(0.9, 0.999), eps=1e-08)",
                 "def Adam.step(self, params, grads)"],
        "lr_schedules": ["def step_decay(lr0, epoch, step_size, gamma=0.1)",
                         "def cosine_annealing(lr0, t, T, lr_min=0.0)"],
        "torch_momentum": ["class MomentumSGD(torch.optim.Optimizer)",
                           "def MomentumSGD.__init__(self, params, lr, momentum=0.9)",
                           "def MomentumSGD.step(self, closure=None)"],
    },
}

SOLUTION_REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.DOTALL)
HIDDEN_REGION = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.DOTALL)


# ---- reading notebooks ---------------------------------------------------------------------

def _meta(cell):
    return cell.metadata.get("nbgrader", {})


@functools.cache
def _source(assignment):
    return nbformat.read(str(assignments.source_notebook(assignment)), as_version=4)


def _exercise(assignment):
    return nbformat.read(str(assignments.exercise_notebook(assignment)), as_version=4)


def _solution_cells(notebook):
    return {_meta(c)["grade_id"]: c for c in notebook.cells if _meta(c).get("solution")}


def _test_cells(notebook):
    """Each solution cell's grade_id -> the grade_ids of the test cells that follow it."""
    owner, tests = None, {}
    for cell in notebook.cells:
        if _meta(cell).get("solution"):
            owner = _meta(cell)["grade_id"]
            tests.setdefault(owner, [])
        elif _meta(cell).get("grade") and owner is not None:
            tests[owner].append(_meta(cell)["grade_id"])
    return tests


def _definitions(source):
    """What a cell defines, as SPECS writes it: `def f(args)`, `class C(bases)`, `def C.m(args)`."""
    found = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            found.append(f"def {node.name}({ast.unparse(node.args)})")
        elif isinstance(node, ast.ClassDef):
            bases = ", ".join(ast.unparse(base) for base in node.bases)
            found.append(f"class {node.name}({bases})" if bases else f"class {node.name}")
            found += [f"def {node.name}.{item.name}({ast.unparse(item.args)})"
                      for item in node.body if isinstance(item, ast.FunctionDef)]
    return found


def _top_level_names(source):
    """Names a cell binds at the top level (functions, classes, assignments, imports)."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def _used_names(source):
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a mutant may be one: it then defines and uses nothing
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _spec_names(assignment):
    return {entry.split()[1].split("(")[0] for entries in SPECS[assignment].values() for entry in entries
            if "." not in entry.split()[1].split("(")[0]}


# ---- grading all at once -------------------------------------------------------------------

@functools.cache
def _mutant_module(assignment):
    path = MUTANTS_DIR / f"{assignment}.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"mutants_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _mutants(assignment):
    return tuple(getattr(_mutant_module(assignment), "MUTANTS", ()))


def _alternatives(assignment):
    """Correct answers written differently from the solution (optional ``ALTERNATIVES``)."""
    return tuple(getattr(_mutant_module(assignment), "ALTERNATIVES", ()))


def _submission(exercise, answers):
    """The exercise as a student hands it in, with ``answers`` (grade_id -> source) filled in."""
    notebook = nbformat.from_dict(exercise)
    for cell in notebook.cells:
        if _meta(cell).get("solution") and _meta(cell)["grade_id"] in answers:
            cell.source = answers[_meta(cell)["grade_id"]]
    return notebook


def _reaches(assignment):
    """grade_id -> the solution cells its test cells can run into, through any version of a cell.

    Two mutants share a notebook only when neither function's tests reach the other's cell.
    """
    source = _source(assignment)
    versions = {gid: [cell.source] for gid, cell in _solution_cells(source).items()}
    for gid, _, code in _mutants(assignment):
        versions.setdefault(gid, []).append(code)
    definers, uses = {}, {}
    for gid, codes in versions.items():
        uses[gid] = set().union(*(_used_names(code) for code in codes))
        for code in codes:
            try:
                for name in _top_level_names(code):
                    definers.setdefault(name, set()).add(gid)
            except SyntaxError:
                pass
    tests_of = _test_cells(source)
    cells = {_meta(c).get("grade_id"): c.source for c in source.cells}
    reaches = {}
    for gid in versions:
        names = set().union(*(_used_names(cells[t]) for t in tests_of.get(gid, [])))
        reached, todo = set(), list(names)
        while todo:
            for owner in definers.get(todo.pop(), set()) - reached:
                reached.add(owner)
                todo += uses[owner] - names
                names |= uses[owner]
        reaches[gid] = reached
    return reaches


def _packs(assignment):
    """Mutants grouped into as few notebooks as possible without one masking another."""
    reaches = _reaches(assignment)
    packs = []
    for index, (gid, _, _) in enumerate(_mutants(assignment)):
        for pack in packs:
            if all(gid != other and gid not in reaches[other] and other not in reaches[gid]
                   for other in (g for g, _ in pack)):
                pack.append((gid, index))
                break
        else:
            packs.append([(gid, index)])
    return packs


@pytest.fixture(scope="session")
def courses(tmp_path_factory):
    return tmp_path_factory.mktemp("courses")


@functools.cache
def _released(assignment, courses):
    """Generates ``assignment`` once: (exercises/ is up to date, the scratch course for grading)."""
    return release.release(assignment, check=True, course=courses / assignment), courses / assignment


@functools.cache
def _graded(assignment, courses):
    """One nbgrader run per assignment: the solution, the untouched exercise and all mutants."""
    exercise = _exercise(assignment)
    solutions = {gid: cell.source for gid, cell in _solution_cells(_source(assignment)).items()}
    mutants = _mutants(assignment)
    notebooks = {"solution": _submission(exercise, solutions), "exercise": exercise}
    owner = {}
    for number, pack in enumerate(_packs(assignment)):
        student = f"mutants-{number:02d}"
        answers = dict(solutions)
        for gid, index in pack:
            answers[gid] = mutants[index][2]
            owner[index] = student
        notebooks[student] = _submission(exercise, answers)
    for student, answers in _alternative_rounds(assignment).items():
        notebooks[student] = _submission(exercise, {**solutions, **answers})
    scores, log = cell_scores(assignment, notebooks, course=_released(assignment, courses)[1])
    return scores, log, owner


def _alternative_rounds(assignment):
    """Student id -> answers: the k-th correct alternative of every function shares notebook k.

    Correct answers cannot mask each other, so one notebook per round is enough.
    """
    rounds = {}
    for gid, _, code in _alternatives(assignment):
        number = sum(1 for answers in rounds.values() if gid in answers)
        rounds.setdefault(f"alternatives-{number:02d}", {})[gid] = code
    return rounds


def _max_points(assignment):
    return {_meta(c)["grade_id"]: float(_meta(c)["points"])
            for c in _source(assignment).cells if _meta(c).get("grade")}


def _errors(log, student):
    """The errors that ``student``'s cells raised, or the end of nbgrader's log when there are none."""
    lines = [line for line in log.splitlines() if line.startswith(f"{student}: ")]
    return "\n".join(lines) or log[-3000:]


def _mutant_cases():
    return [pytest.param(a, i, id=f"{a}-{i:02d}-{gid}") for a in ASSIGNMENTS
            for i, (gid, _, _) in enumerate(_mutants(a))]


# ---- the tests -----------------------------------------------------------------------------

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_graded_names_and_signatures(assignment):
    assert assignment in SPECS, f"{assignment}: no table of graded names for it in SPECS"
    notebook = _source(assignment)
    ids = [_meta(c)["grade_id"] for c in notebook.cells if _meta(c)]
    assert len(ids) == len(set(ids)), f"repeated grade_ids: {ids}"
    solutions = _solution_cells(notebook)
    assert set(solutions) == set(SPECS[assignment]), "solution cells differ from the issue's grade_ids"
    graded = _spec_names(assignment)
    for gid, cell in solutions.items():
        meta = _meta(cell)
        assert cell.cell_type == "code" and not meta.get("grade") and not meta.get("locked"), gid
        assert meta.get("schema_version") == 3, gid
        assert SOLUTION_REGION.search(cell.source), f"{gid}: no BEGIN/END SOLUTION"
        defined = _definitions(cell.source)
        assert set(SPECS[assignment][gid]) <= set(defined), f"{gid}: defines {defined}"
        extra = {n for n in _top_level_names(cell.source) if not n.startswith("_")} - graded
        assert not extra, f"{gid}: defines public names beyond the issue's: {extra}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_test_cells(assignment):
    notebook = _source(assignment)
    tests_of = _test_cells(notebook)
    graded = _spec_names(assignment)
    shared = set().union(*(_top_level_names(c.source) for c in notebook.cells
                           if c.cell_type == "code" and not _meta(c).get("solution")))
    helpers = set().union(*(_top_level_names(c.source) for c in _solution_cells(notebook).values())) - shared
    for gid in SPECS[assignment]:
        assert tests_of.get(gid), f"{gid}: no test cell after its solution cell"
    cells = {_meta(c)["grade_id"]: c for c in notebook.cells if _meta(c).get("grade")}
    for tid, cell in cells.items():
        meta = _meta(cell)
        assert cell.cell_type == "code" and meta.get("locked") and not meta.get("solution"), tid
        assert meta.get("points", 0) > 0 and meta.get("schema_version") == 3, tid
        assert HIDDEN_REGION.search(cell.source), f"{tid}: no hidden tests"
        tree = ast.parse(cell.source)
        assert not any(isinstance(n, ast.Assert) for n in ast.walk(tree)), f"{tid}: bare assert"
        assert "np.testing" not in cell.source, f"{tid}: np.testing instead of dlcourse.checks"
        borrowed = (_used_names(cell.source) & helpers) - graded - _top_level_names(cell.source)
        assert not borrowed, f"{tid}: uses names of solution cells that are not graded: {borrowed}"
    setup = next(c for c in notebook.cells if c.cell_type == "code")
    assert not _meta(setup).get("solution") and not _meta(setup).get("grade"), "first code cell: setup"
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    for cell in notebook.cells:
        assert not cell.get("outputs") and not cell.get("execution_count"), "committed outputs"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_exercise_up_to_date(assignment, courses):
    assert _released(assignment, courses)[0], (
        f"exercises/{assignment} is stale or holds extra files: run `make exercises`")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_exercise_holds_no_solution(assignment):
    folder = assignments.exercise_notebook(assignment).parent
    assert sorted(p.name for p in folder.iterdir()) == [f"{assignment}.ipynb"]
    text = assignments.exercise_notebook(assignment).read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text, f"exercise contains {marker!r}"
    source = _source(assignment)
    secret, public = set(), set()
    for cell in source.cells:
        regions = SOLUTION_REGION.findall(cell.source) + HIDDEN_REGION.findall(cell.source)
        outside = HIDDEN_REGION.sub("", SOLUTION_REGION.sub("", cell.source))
        secret |= {line.strip() for region in regions for line in region.splitlines()}
        public |= {line.strip() for line in outside.splitlines()}
    exercise = _exercise(assignment)
    shown = {line.strip() for cell in exercise.cells for line in cell.source.splitlines()}
    leaked = (secret - public - {""}) & shown
    assert not leaked, f"solution or hidden-test lines in the exercise: {sorted(leaked)[:5]}"
    for cell in exercise.cells:
        assert not cell.get("outputs") and not cell.get("execution_count"), "exercise has outputs"
    released = {gid: _definitions(c.source) for gid, c in _solution_cells(exercise).items()}
    assert released == {gid: _definitions(c.source) for gid, c in _solution_cells(source).items()}, (
        "the exercise's stubs lost the signatures")


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_gets_full_marks(assignment, courses):
    scores, log, _ = _graded(assignment, courses)
    assert "solution" in scores, f"nbgrader did not grade the solution:\n{log[-3000:]}"
    assert scores["solution"] == _max_points(assignment), f"the solution lost points:\n{_errors(log, 'solution')}"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_untouched_exercise_gets_zero(assignment, courses):
    scores, log, _ = _graded(assignment, courses)
    assert "exercise" in scores, f"nbgrader did not grade the untouched exercise:\n{log[-3000:]}"
    assert scores["exercise"] == {tid: 0.0 for tid in _max_points(assignment)}


@pytest.mark.slow
@pytest.mark.parametrize("assignment", [a for a in ASSIGNMENTS if _alternatives(a)])
def test_correct_alternatives_get_full_marks(assignment, courses):
    scores, log, _ = _graded(assignment, courses)
    for student in _alternative_rounds(assignment):
        assert student in scores, f"nbgrader did not grade {student}:\n{log[-3000:]}"
        assert scores[student] == _max_points(assignment), (
            f"a correct answer written differently lost points:\n{_errors(log, student)}")


@pytest.mark.slow
@pytest.mark.parametrize(("assignment", "index"), _mutant_cases())
def test_mutant_loses_points(assignment, index, courses):
    gid, description, _ = _mutants(assignment)[index]
    assert gid in SPECS[assignment], f"mutant of unknown grade_id {gid!r}"
    scores, log, owner = _graded(assignment, courses)
    student = owner[index]
    assert student in scores, f"nbgrader did not grade {student}:\n{log[-3000:]}"
    assert scores.get("solution") == _max_points(assignment), "the solution itself lost points in this run"
    own = _test_cells(_source(assignment))[gid]
    earned = sum(scores[student][tid] for tid in own)
    full = sum(_max_points(assignment)[tid] for tid in own)
    assert earned < full, f"mutant '{description}' of {gid} keeps all {full:g} points of {own}"
