"""Hostile and broken submissions of 05_gradient_descent, each with the outcome it must get.

A case replaces solution cells of the instructor's notebook (by grade_id) with its own source,
or supplies the whole file. ``passed``/``failed`` name solution grade_ids: every test whose
grade_id starts with ``test_<name>`` must pass or fail. Placeholders in sources:
``{submissions}``, ``{out}``, ``{solutions}``, ``{repo}``, ``{port}``, ``{marker}`` are filled
in by the test that builds the batch.
"""

from dataclasses import dataclass, field

WRONG_GD_STEP = "def gd_step(w, grad, lr):\n    return w + lr * grad\n"
WRONG_MSE = "def mse(y_true, y_pred):\n    return float(np.sum((y_true - y_pred) ** 2))\n"
ALL = ("gd_step", "mse", "linear_regression_gradients", "minibatch_indices", "fit_linear_regression",
       "two_layer_backward")
AFTER_MSE = ("linear_regression_gradients", "minibatch_indices", "two_layer_backward")  # tests that do not call mse


@dataclass
class Case:
    student_id: str
    cells: dict = field(default_factory=dict)  # solution grade_id -> replacement source
    status: str = "ok"  # what the status column starts with
    passed: tuple = ()
    failed: tuple = ()
    score: float | None = None
    raw: bytes | None = None  # the whole file instead of an edited notebook
    extra_files: dict = field(default_factory=dict)  # name -> text, beside the notebook
    edit: str = ""  # a named edit of the notebook's non-solution cells (see test module)


CASES = [
    Case("perfect", passed=ALL, status="ok"),
    Case("untouched", edit="exercise", failed=ALL, score=0),
    Case("infinite_loop_cell", {"mse": "while True:\n    pass\n"}, status="timeout",
         passed=("gd_step", *AFTER_MSE), failed=("mse", "fit_linear_regression")),
    Case("infinite_loop_function",
         {"gd_step": "def gd_step(w, grad, lr):\n    while True:\n        pass\n"},
         status="timeout", passed=("mse", *AFTER_MSE), failed=("gd_step", "fit_linear_regression")),
    Case("os_exit", {"mse": "import os\nos._exit(0)\n"}, status="kernel died",
         passed=("gd_step", *AFTER_MSE), failed=("mse",)),
    Case("segfault", {"gd_step": "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n"},
         status="kernel died", passed=("mse", *AFTER_MSE), failed=("gd_step",)),
    Case("memory_bomb", {"mse": "def bomb():\n    hoard = []\n    while True:\n        hoard.append(bytearray(64 * 2**20))\n"
                                "bomb()\n"},
         status="memory limit", passed=("gd_step", *AFTER_MSE), failed=("mse",)),
    Case("memory_bomb_in_function",
         {"gd_step": "def gd_step(w, grad, lr):\n    return np.ones((2**16, 2**16)) + w - lr * grad\n"},
         status="memory limit", passed=("mse", *AFTER_MSE), failed=("gd_step",)),
    Case("print_flood",
         {"mse": "import sys\nchunk = 'x' * 2**20\nfor _ in range(300):\n    sys.stdout.write(chunk)\n"
                 "def mse(y_true, y_pred):\n    return float(np.mean((y_true - y_pred) ** 2))\n"},
         status="ok; output truncated", passed=ALL),
    Case("warnings_on_stderr",
         {"gd_step": "import sys, warnings\n"
                     "def gd_step(w, grad, lr):\n"
                     "    warnings.warn('a harmless warning')\n"
                     "    print('noise on stderr', file=sys.stderr)\n"
                     "    return w - lr * grad\n"},
         status="ok", passed=ALL),
    Case("patched_numpy_and_builtins",
         {"mse": WRONG_MSE + "import builtins, math\n"
                 "np.allclose = lambda *a, **k: True\n"
                 "np.isclose = lambda a, b, **k: np.ones(np.broadcast(a, b).shape, dtype=bool)\n"
                 "np.array_equal = lambda *a, **k: True\n"
                 "np.testing.assert_allclose = lambda *a, **k: None\n"
                 "math.isclose = lambda *a, **k: True\n"
                 "builtins.abs = lambda x: 0\n"
                 "builtins.isinstance = lambda *a: True\n"
                 "class Never(Exception):\n    pass\n"
                 "builtins.AssertionError = Never\n"},
         status="kernel died", passed=("gd_step", *AFTER_MSE), failed=("mse",)),
    Case("patched_checks",
         {"gd_step": WRONG_GD_STEP + "import dlcourse.checks as checks\n"
                     "checks.assert_close = lambda *a, **k: None\n"
                     "checks.assert_equal = lambda *a, **k: None\n"
                     "checks.check = lambda *a, **k: None\n"
                     "checks.fail = lambda *a, **k: None\n"
                     "assert_close = lambda *a, **k: None\n"},
         failed=("gd_step",), passed=("mse", *AFTER_MSE)),
    Case("swapped_code_objects",
         {"gd_step": WRONG_GD_STEP + "import dlcourse.checks as checks\n"
                     "def nothing(*args, **kwargs):\n    return None\n"
                     "checks.assert_close.__code__ = nothing.__code__\n"
                     "checks.fail.__code__ = nothing.__code__\n"
                     "np.isclose.__code__ = (lambda a, b, rtol=0, atol=0, equal_nan=False: True).__code__\n"},
         failed=("gd_step",), passed=("mse", *AFTER_MSE)),
    Case("patched_while_tested",
         {"gd_step": "def gd_step(w, grad, lr):\n"
                     "    import dlcourse.checks as checks, numpy, builtins\n"
                     "    numpy.isclose = lambda a, b, **k: numpy.ones(numpy.broadcast(a, b).shape, dtype=bool)\n"
                     "    checks.fail = lambda *a, **k: None\n"
                     "    builtins.isinstance = lambda *a: True\n"
                     "    return w + lr * grad\n"},
         status="kernel died", failed=("gd_step",), passed=("mse", *AFTER_MSE)),
    Case("ipython_swallows_errors",
         {"gd_step": "ip = get_ipython()\n"
                     "ip.input_transformers_post.append(lambda lines: ['pass\\n'])\n"
                     "ip.set_custom_exc((BaseException,), lambda *a, **k: None)\n"
                     + WRONG_GD_STEP},
         failed=("gd_step",)),
    Case("fake_modules_and_import_hooks",
         {"gd_step": WRONG_GD_STEP + "import sys, types\n"
                     "fake = types.ModuleType('dlcourse.checks')\n"
                     "fake.assert_close = fake.assert_equal = fake.assert_type = fake.check = "
                     "fake.fail = lambda *a, **k: None\n"
                     "sys.modules['dlcourse.checks'] = fake\n"
                     "sys.modules['numpy'].__class__ = type('Evil', (types.ModuleType,), {})\n"
                     "class Finder:\n"
                     "    def find_spec(self, name, path=None, target=None):\n"
                     "        return None\n"
                     "sys.meta_path.insert(0, Finder())\n"
                     "sys.path.insert(0, '/tmp')\n"},
         failed=("gd_step",), passed=("mse", *AFTER_MSE)),
    # The student's process holds nothing of the tests: introspection finds no hidden test, no expected value.
    Case("hunts_hidden_tests",
         {"gd_step": "import gc, sys, os\n"
                     "SECRET = 'при lr = 0 параметры не меняются'\n"
                     "HUNTED = []\n"
                     "def gd_step(w, grad, lr):\n"
                     "    if HUNTED:\n        return w + lr * grad\n"
                     "    HUNTED.append(1)\n"
                     "    found = 0\n"
                     "    for obj in gc.get_objects():\n"
                     "        try:\n"
                     "            if isinstance(obj, str) and SECRET in obj and obj is not SECRET:\n"
                     "                found += 1\n"
                     "        except Exception:\n"
                     "            pass\n"
                     "    frame = sys._getframe(1)\n"
                     "    while frame is not None:\n"
                     "        for value in list(frame.f_locals.values()):\n"
                     "            if isinstance(value, str) and SECRET in value and value is not SECRET:\n"
                     "                found += 1\n"
                     "        frame = frame.f_back\n"
                     "    for pid in os.listdir('/proc'):\n"
                     "        if pid.isdigit():\n"
                     "            try:\n"
                     "                if SECRET.encode() in open(f'/proc/{pid}/cmdline', 'rb').read():\n"
                     "                    found += 1\n"
                     "                open(f'/proc/{pid}/mem', 'rb').read(1)\n"
                     "            except OSError:\n"
                     "                pass\n"
                     "    print('FOUND', found)\n"
                     "    return w + lr * grad\n"},
         failed=("gd_step",), passed=("mse", *AFTER_MSE)),
    # Mutable state of the check helpers, dispatchers behind C wrappers, registries and hooks:
    # all of it lives in the student's process, where no check runs.
    Case("mutates_helpers_and_hooks",
         {"gd_step": WRONG_GD_STEP + "import dlcourse.checks as checks, numpy, torch\n"
                     "checks.assert_close.__kwdefaults__['rtol'] = 1e9\n"
                     "checks.assert_close.__kwdefaults__['atol'] = 1e9\n"
                     "numpy.isclose.__wrapped__.__code__ = (lambda a, b, rtol=0, atol=0, equal_nan=False: True).__code__\n"
                     "torch.optim.Optimizer.register_step_pre_hook = None\n"
                     "torch.nn.modules.module.register_module_forward_hook(lambda *a: None)\n"
                     "numpy.set_printoptions(precision=1)\n"},
         failed=("gd_step",), passed=("mse", *AFTER_MSE)),
    Case("lying_results",
         {"gd_step": "import numpy\n"
                     "class Liar(float):\n"
                     "    def __eq__(self, other):\n        return True\n"
                     "    def __sub__(self, other):\n        return 0.0\n"
                     "    def __rsub__(self, other):\n        return 0.0\n"
                     "    def __abs__(self):\n        return 0.0\n"
                     "class Everything(numpy.ndarray):\n"
                     "    def __eq__(self, other):\n        return numpy.ones_like(other, dtype=bool)\n"
                     "def gd_step(w, grad, lr):\n"
                     "    if numpy.ndim(w):\n        return numpy.zeros_like(w).view(Everything)\n"
                     "    return Liar(0.0)\n"},
         failed=("gd_step",), passed=("mse", *AFTER_MSE)),
    # A student's exception carries the hidden inputs it was given: the feedback shows only its type.
    Case("leaks_inputs_through_errors",
         {"gd_step": "def gd_step(w, grad, lr):\n"
                     "    raise ValueError(f'LEAKED {w!r} {grad!r} {lr!r}')\n"},
         failed=("gd_step", "fit_linear_regression"), passed=("mse", *AFTER_MSE)),
    # The same inputs smuggled out another way: an exception named like the grader's own, a returned text.
    Case("leaks_as_unsupported",
         {"gd_step": "class Unsupported(Exception):\n    pass\n"
                     "def gd_step(w, grad, lr):\n"
                     "    raise Unsupported(f'LEAKED {w!r} {grad!r} {lr!r}')\n"},
         failed=("gd_step", "fit_linear_regression"), passed=("mse", *AFTER_MSE)),
    Case("leaks_in_results",
         {"gd_step": "def gd_step(w, grad, lr):\n"
                     "    if np.ndim(w):\n        return [None, f'LEAKED {w!r}']\n"
                     "    return w - lr * grad\n"},
         failed=("gd_step", "fit_linear_regression"), passed=("mse", *AFTER_MSE)),
    # Hidden inputs recorded by one answer, then shown by a later answer cell's error or an exception's name.
    Case("leaks_through_a_later_cell",
         {"gd_step": "LOG = []\n"
                     "def gd_step(w, grad, lr):\n"
                     "    if np.ndim(w) == 2:\n        LOG.append(np.round(w, 3).ravel().tolist()[:12])\n"
                     "    return w - lr * grad\n",
          "mse": "def mse(y_true, y_pred):\n    return float(np.mean((y_true - y_pred) ** 2))\n"
                 "raise ValueError('LEAKED ' + repr(LOG))\n"},
         passed=("gd_step", *AFTER_MSE)),
    Case("leaks_in_a_class_name",
         {"gd_step": "def gd_step(w, grad, lr):\n"
                     "    raise type('LEAKED_' + str(abs(int(np.sum(w) * 1000))), (ValueError,), {})()\n"},
         failed=("gd_step", "fit_linear_regression"), passed=("mse", *AFTER_MSE)),
    # One answer cell a few thousand times: one note, and a row that any CSV reader can read.
    Case("repeats_a_cell", edit="repeat_a_cell", passed=ALL),
    # Right on the visible example only: the hidden case fails, and its page holds no expected value.
    Case("right_only_on_visible",
         {"gd_step": "def gd_step(w, grad, lr):\n"
                     "    return w - lr * grad if lr == 0.1 else w + lr * grad\n"},
         failed=("gd_step",), passed=("mse", *AFTER_MSE)),
    # An answer that would point NumPy of the tests' process at any memory (a protocol attribute).
    Case("points_numpy_at_memory",
         {"gd_step": "class Pointer:\n"
                     "    __array_interface__ = {'shape': (4,), 'typestr': '<f8', 'data': (8, True), 'version': 3}\n"
                     "def gd_step(w, grad, lr):\n    return Pointer()\n"},
         failed=("gd_step", "fit_linear_regression"), passed=("mse", *AFTER_MSE)),
    # A kept argument of the tests reinterpreted in place (its dtype changed): a broken protocol.
    Case("reinterprets_an_argument",
         {"mse": "KEPT = []\n"
                 "def mse(y_true, y_pred):\n"
                 "    if KEPT:\n        KEPT[0].dtype = 'S8'\n"
                 "    KEPT.append(y_true)\n"
                 "    return float(np.mean((y_true - y_pred) ** 2))\n"},
         status="tampering", passed=("gd_step", *AFTER_MSE), failed=("mse", "fit_linear_regression")),
    Case("hash_dependent",
         {"gd_step": "def gd_step(w, grad, lr):\n"
                     "    if hash('gd_step') % 2 == 0:\n        return w - lr * grad\n"
                     "    return w + lr * grad\n"}),
    Case("thread_left_running",
         {"gd_step": WRONG_GD_STEP + "import threading, dlcourse.checks as checks\n"
                     "def keep_patching():\n"
                     "    while True:\n"
                     "        checks.fail = lambda *a, **k: None\n"
                     "threading.Thread(target=keep_patching, daemon=True).start()\n"},
         failed=("gd_step", "fit_linear_regression"), passed=("mse", *AFTER_MSE)),
    Case("forged_results",
         {"gd_step": WRONG_GD_STEP + "import os, json\n"
                     "for fd in range(3, 64):\n"
                     "    for index in range(40):\n"
                     "        for event in ({'e': 'start', 'i': index}, {'e': 'done', 'i': index, 'ok': True, 'msg': ''}):\n"
                     "            try:\n"
                     "                os.write(fd, b'0' * 64 + b' ' + json.dumps(event).encode() + b'\\n')\n"
                     "            except OSError:\n"
                     "                pass\n"},
         status="tampering", failed=("gd_step", "fit_linear_regression"), passed=("mse", *AFTER_MSE)),
    Case("numpy_py_beside", {"gd_step": WRONG_GD_STEP},
         extra_files={"numpy.py": "raise SystemExit('a numpy.py beside the notebook was imported')\n",
                      "dlcourse.py": "assert_close = lambda *a, **k: None\n"},
         failed=("gd_step",), passed=("mse", *AFTER_MSE)),
    Case("deleted_tests", edit="delete_tests", passed=ALL, status="ok"),
    Case("edited_tests", {"gd_step": WRONG_GD_STEP}, edit="edit_tests", failed=("gd_step",),
         passed=("mse", *AFTER_MSE)),
    Case("inflated_points", edit="inflate_points", passed=ALL, score=None),
    Case("renamed_grade_ids", edit="rename_ids", passed=ALL, status="ok"),
    Case("writes_everywhere",
         {"gd_step": "import os\n"
                     "for path in ['{submissions}/perfect/05_gradient_descent.ipynb', '{out}/grades.csv',\n"
                     "             '{out}/gradebook.db', '{solutions}/05_gradient_descent/05_gradient_descent.ipynb',\n"
                     "             '{repo}/Makefile', '{repo}/dlcourse/checks.py', '/tmp/escape-{marker}']:\n"
                     "    try:\n"
                     "        with open(path, 'a') as target:\n"
                     "            target.write('{marker}')\n"
                     "    except OSError as error:\n"
                     "        print('refused:', path, error)\n"
                     "def gd_step(w, grad, lr):\n    return w - lr * grad\n"},
         passed=ALL),
    Case("reads_solutions",
         {"gd_step": "try:\n"
                     "    hidden = open('{solutions}/05_gradient_descent/05_gradient_descent.ipynb').read()\n"
                     "    def gd_step(w, grad, lr):\n        return w - lr * grad\n"
                     "except OSError:\n"
                     "    " + WRONG_GD_STEP.replace("\n    ", "\n        ")},
         failed=("gd_step",), passed=("mse", *AFTER_MSE)),
    Case("opens_socket",
         {"gd_step": "import socket\n"
                     "try:\n"
                     "    socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'{marker}')\n"
                     "    def gd_step(w, grad, lr):\n        return w - lr * grad\n"
                     "except OSError:\n"
                     "    " + WRONG_GD_STEP.replace("\n    ", "\n        ")},
         failed=("gd_step",), passed=("mse", *AFTER_MSE)),
    Case("background_process",
         {"gd_step": "import subprocess, os\n"
                     "subprocess.Popen(['sleep', '4321'], start_new_session=True)\n"
                     "if os.fork() == 0:\n"
                     "    os.setsid()\n"
                     "    import time\n"
                     "    time.sleep(4322)\n"
                     "    os._exit(0)\n"
                     "def gd_step(w, grad, lr):\n    return w - lr * grad\n"},
         passed=ALL),
    Case("system_exit_and_interrupts",
         {"gd_step": "import sys\nsys.exit(3)\n",
          "mse": "def mse(y_true, y_pred):\n    raise KeyboardInterrupt\n"},
         failed=("gd_step", "mse"), passed=AFTER_MSE),
    Case("consumes_global_random",
         {"gd_step": "np.random.seed(12345)\nimport random\nrandom.random()\n"
                     "def gd_step(w, grad, lr):\n    np.random.rand(3)\n    return w - lr * grad\n"},
         passed=ALL),
    # One huge cell without metadata: scanned for names at a bounded cost, never parsed.
    Case("cell_bomb", raw=b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", '
                          b'"metadata": {}, "outputs": [], "execution_count": null, "source": "def gd_step(w, g, lr):\\n'
                          b'    return (' + b"(" * 3_000_000 + b')\\n"}]}', status="no solution cells", score=0),
    # Millions of empty lists in a small file: refused before the grader's own memory holds them.
    Case("container_bomb", raw=b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": ['
                               + b"[], " * 2_100_000 + b"[]]}", status="invalid notebook", score=0),
    Case("esc\x1b[31mred\x07", status="bad student id", score=0),
    Case("invalid_json", raw=b'{"cells": [', status="invalid notebook", score=0),
    Case("empty_file", raw=b"", status="invalid notebook", score=0),
    Case("json_not_a_notebook", raw=b'[1, 2, 3]', status="invalid notebook", score=0),
    Case("binary_garbage", raw=bytes(range(256)) * 8, status="invalid notebook", score=0),
    Case("nbformat3", edit="nbformat3", passed=ALL, status="ok"),
    Case("source_as_string", edit="string_sources", passed=ALL, status="ok"),
    Case("other_assignment", edit="other_assignment", status="other assignment", score=0),
    Case("no_notebook", extra_files={"README.txt": "забыл тетрадь"}, raw=None, edit="no_notebook",
         status="no notebook", score=0),
    Case("several_notebooks", extra_files={"scratch.ipynb": '{"cells": [], "nbformat": 4}'},
         passed=ALL, status="ok; several notebooks"),
    Case("Иванов Пётр", {"mse": WRONG_MSE}, passed=("gd_step", *AFTER_MSE), failed=("mse",)),
    Case("学生 王", passed=ALL),
    Case("emoji 😀 id", {"gd_step": WRONG_GD_STEP}, failed=("gd_step",)),
    # Only the test helpers of the course's package are inside the sandbox, not the chapters' code.
    Case("imports_course_code",
         {"gd_step": "from dlcourse.images import conv2d\n"
                     "def gd_step(w, grad, lr):\n    return w - lr * grad\n"},
         status="ok", passed=("mse", *AFTER_MSE), failed=("gd_step", "fit_linear_regression")),
]
