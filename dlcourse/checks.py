"""Assertions for the graded notebooks' tests, with messages in Russian.

Each failure says what was checked, what was expected, what came and, for numbers, the
largest difference, so that a student learns where and by how much the answer is off.
The helpers raise ``AssertionError`` themselves instead of using ``assert``, which
``python -O`` would strip.

A failure is a ``CheckFailed``: its ``what`` (the test's own words) and its ``details`` (the
values) are kept apart, because the course's grader shows only ``what`` when a hidden test
fails: the expected value of a hidden test never reaches a student. So ``what`` names the case
and never holds an expected value.
"""

import sys

import numpy as np

_SHOWN = 6  # array elements shown in a message


def _as_array(value, what):
    # NumPy would quietly turn None (a forgotten return) into nan.
    if value is None or (isinstance(value, (list, tuple)) and any(v is None for v in value)):
        _mismatch(what, f"ожидалось число или массив чисел, получено {_describe(value)}")
    try:
        if hasattr(value, "detach"):  # a torch tensor; double() first, NumPy has no bfloat16
            value = value.detach().cpu().double().numpy()
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError, RuntimeError):
        _mismatch(what, f"ожидалось число или массив чисел, получено {_describe(value)}")
    return array


def _describe(value):
    text = repr(value)
    if len(text) > 200:
        text = text[:200] + "…"
    return f"{text} (тип {type(value).__name__})"


def _short(array):
    flat = np.asarray(array).ravel()
    body = ", ".join(f"{x:.6g}" for x in flat[:_SHOWN])
    if flat.size > _SHOWN:
        body += ", …"
    return f"[{body}]" if np.ndim(array) else body


class CheckFailed(AssertionError):
    """A failed check: ``what`` was checked (shown even for hidden tests), ``details`` how it differed."""

    def __init__(self, what, details=""):
        super().__init__(f"{what}: {details}" if details else what)
        self.what, self.details = what, details


def fail(message):
    """Fail a test with ``message`` (the test's own words, shown even for a hidden test)."""
    raise CheckFailed(message)


def _mismatch(what, details):
    raise CheckFailed(what, details)


def check(condition, message):
    """Fail with ``message`` unless ``condition`` holds."""
    if not condition:
        fail(message)


def assert_close(actual, expected, what, *, rtol=1e-6, atol=1e-9):
    """Numbers or arrays equal up to ``rtol``/``atol``, with the same shape."""
    got = _as_array(actual, what)
    want = _as_array(expected, what)
    if got.shape != want.shape:
        _mismatch(what, f"форма {got.shape}, ожидалась {want.shape}")
    if not np.all(np.isfinite(got) | ~np.isfinite(want)):
        _mismatch(what, f"получено {_short(got)} — есть nan или inf, ожидалось {_short(want)}")
    close = np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    if not close.all():
        # Only the elements that fail count; a number where nan was expected is infinitely off.
        with np.errstate(invalid="ignore"):
            diff = np.where(close, 0.0, np.abs(got - want))
        diff[np.isnan(diff)] = np.inf
        worst = np.unravel_index(np.argmax(diff), diff.shape)
        where = f" (элемент {tuple(int(i) for i in worst)})" if diff.ndim else ""
        _mismatch(what, f"ожидалось {_short(want)}, получено {_short(got)}, "
                        f"наибольшая разница {diff[worst]:.3g}{where}")


def assert_equal(actual, expected, what):
    """Exact equality of values (numbers, arrays, lists), with the same shape."""
    try:
        got = np.asarray(actual)
    except ValueError:  # a ragged list, e.g. chunks of different lengths
        _mismatch(what, f"ожидалось {_short(np.asarray(expected))}, получено {_describe(actual)}")
    want = np.asarray(expected)
    if got.shape != want.shape:
        _mismatch(what, f"форма {got.shape}, ожидалась {want.shape}")
    if not np.array_equal(got, want):
        _mismatch(what, f"ожидалось {_short(want)}, получено {_short(got)}")


def assert_type(value, types, what):
    """``value`` is an instance of ``types`` (a type or a tuple of types), bool excluded."""
    types = types if isinstance(types, tuple) else (types,)
    if isinstance(value, bool) or not isinstance(value, types):
        names = " или ".join(t.__name__ for t in types)
        _mismatch(what, f"ожидался тип {names}, получено {_describe(value)}")


def assert_raises(exception, function, *args, what, **kwargs):
    """``function(*args, **kwargs)`` raises ``exception``."""
    try:
        function(*args, **kwargs)
    except exception:
        return
    except Exception as error:  # noqa: BLE001 - any other error is the student's answer
        # Under the course's grader a student's exception carries student_type: its class name and
        # text are the student's to choose, and may carry hidden inputs; only its built-in type is named.
        remote = getattr(error, "student_type", None) is not None
        raised = next(k.__name__ for k in type(error).__mro__ if k.__module__ == "builtins") if remote else \
            f"{type(error).__name__}: {error}"
        _mismatch(what, f"ожидалось исключение {exception.__name__}, возникло {raised}")
    _mismatch(what, f"ожидалось исключение {exception.__name__}, но функция завершилась без ошибки")


def on_student_side(function):
    """Mark a setup helper that exercises the student's objects where they live.

    In a plain notebook, and under stock nbgrader, this is the function itself. The course's
    grader keeps tests and the student's code in separate processes; it runs a function
    marked so in the student's process and hands the test only its plain result (numbers,
    strings, arrays, tensors, lists, dicts). Use it for contracts that a call across the
    boundary cannot carry, such as a ``torch.optim.Optimizer`` subclass stepping tensors
    whose gradients come from ``backward()``. Compute every expected value outside it.
    """
    function.__student_side__ = True
    return function


def graded(name, namespace=None):
    """The student's graded function or class called ``name``, for a helper marked ``on_student_side``.

    Setup helpers are defined in the setup cell; the course's grader runs that cell in a namespace
    of its own, so a helper cannot name the student's class directly. The student's cells run in
    the notebook's ``__main__`` (Jupyter, stock nbgrader and the grader alike), and so does the
    marked helper under the grader of separate processes, which names that ``namespace`` itself.
    """
    namespace = vars(sys.modules.get("__main__")) if namespace is None else namespace
    if name not in namespace:
        fail(f"имя {name} не определено: ячейка решения удалена, переименована или упала с ошибкой")
    return namespace[name]
