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
ALL = ("gd_step", "mse", "linear_regression_gradients", "minibatch_indices", "fit_linear_regression")
AFTER_MSE = ("linear_regression_gradients", "minibatch_indices")  # tests that do not call mse


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
         passed=("gd_step", *AFTER_MSE), failed=("mse",)),
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
         status="tampering", failed=("gd_step",), passed=("mse", *AFTER_MSE)),
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
    Case("trace_and_introspection",
         {"gd_step": WRONG_GD_STEP + "import sys, gc, ctypes\n"
                     "def spy(event, args):\n"
                     "    if event == 'open':\n"
                     "        print('HOOK CALLED')\n"
                     "for attempt in (lambda: sys.settrace(lambda *a: None),\n"
                     "                lambda: sys.setprofile(lambda *a: None),\n"
                     "                lambda: gc.get_referents(int.__dict__),\n"
                     "                lambda: ctypes.c_long.from_address(id(0)).value,\n"
                     "                lambda: open('/proc/self/mem', 'rb')):\n"
                     "    try:\n"
                     "        attempt()\n"
                     "        print('ALLOWED')\n"
                     "    except Exception as error:\n"
                     "        print('refused:', error)\n"
                     "sys.addaudithook(spy)  # refused silently: the spy is never called\n"
                     "open('/dev/null').close()\n"},
         failed=("gd_step",), passed=("mse", *AFTER_MSE)),
    Case("thread_left_running",
         {"gd_step": WRONG_GD_STEP + "import threading, dlcourse.checks as checks\n"
                     "def keep_patching():\n"
                     "    while True:\n"
                     "        checks.fail = lambda *a, **k: None\n"
                     "threading.Thread(target=keep_patching, daemon=True).start()\n"},
         status="tampering", failed=ALL),
    Case("forged_results",
         {"gd_step": WRONG_GD_STEP + "import os, json\n"
                     "for fd in range(3, 64):\n"
                     "    for index in range(40):\n"
                     "        for event in ({'e': 'start', 'i': index}, {'e': 'done', 'i': index, 'ok': True, 'msg': ''}):\n"
                     "            try:\n"
                     "                os.write(fd, b'0' * 64 + b' ' + json.dumps(event).encode() + b'\\n')\n"
                     "            except OSError:\n"
                     "                pass\n"},
         status="tampering", failed=("gd_step",), passed=("mse", *AFTER_MSE)),
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
