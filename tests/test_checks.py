"""The graded notebooks' assertion helpers: they fail when they should, and say why in Russian."""

import subprocess
import sys
import types

import numpy as np
import pytest
import torch

from dlcourse.checks import assert_close, assert_equal, assert_raises, assert_type, check, fail, graded


def message(function, *args, **kwargs):
    with pytest.raises(AssertionError) as error:
        function(*args, **kwargs)
    return str(error.value)


def test_fail_and_check():
    assert message(fail, "что-то не так") == "что-то не так"
    check(True, "не должно упасть")
    assert message(check, 0, "ноль — ложь") == "ноль — ложь"


def test_assert_close_accepts_exactly_what_isclose_accepts():
    rng = np.random.default_rng(0)
    want = rng.normal(size=2000)
    got = want * (1 + rng.choice([-1, 1], size=2000) * 10 ** rng.uniform(-9, -4, size=2000))
    for g, w in zip(got, want):
        expected_pass = np.isclose(g, w, rtol=1e-6, atol=1e-9)
        try:
            assert_close(g, w, "число")
            passed = True
        except AssertionError:
            passed = False
        assert passed == expected_pass, (g, w)


def test_assert_close_message_names_values_difference_and_element():
    text = message(assert_close, np.array([[1.0, 2.0], [3.0, 4.5]]), [[1.0, 2.0], [3.0, 4.0]], "шаг 3: параметр 1")
    assert text.startswith("шаг 3: параметр 1: ")
    assert "ожидалось [1, 2, 3, 4]" in text and "получено [1, 2, 3, 4.5]" in text
    assert "наибольшая разница 0.5" in text and "(элемент (1, 1))" in text


def test_assert_close_reports_the_worst_failing_element_not_a_tolerated_one():
    # 1e9 vs 1e9 + 100 is within rtol; the failing element is the last one.
    text = message(assert_close, [1e9, 1.0], [1e9 + 100, 2.0], "x")
    assert "наибольшая разница 1 (элемент (1,))" in text


def test_assert_close_shapes_must_match_without_broadcasting():
    assert "форма (3,), ожидалась (1, 3)" in message(assert_close, np.zeros(3), np.zeros((1, 3)), "w")
    assert "форма (), ожидалась (1,)" in message(assert_close, 0.0, [0.0], "b")


def test_assert_close_nan_and_inf():
    assert "есть nan или inf" in message(assert_close, [np.nan, 1.0], [0.0, 1.0], "p")
    assert "есть nan или inf" in message(assert_close, [np.inf], [1.0], "p")
    assert "наибольшая разница inf" in message(assert_close, [1.0], [np.nan], "p")
    assert_close([np.nan, np.inf], [np.nan, np.inf], "совпадающие nan и inf")


def test_assert_close_takes_tensors_of_any_dtype():
    weight = torch.tensor([1.0, 2.0], requires_grad=True)
    assert_close(weight * 1, [1.0, 2.0], "тензор с градиентом")
    assert_close(torch.tensor([0.5, 1.5], dtype=torch.bfloat16), [0.5, 1.5], "bfloat16")
    assert "получено [1, 2]" in message(assert_close, torch.tensor([1, 2]), [1.0, 3.0], "целые")


def test_assert_close_rejects_what_is_not_a_number():
    assert "ожидалось число или массив чисел" in message(assert_close, None, 1.0, "ответ")
    assert "ожидалось число или массив чисел" in message(assert_close, [1.0, None], [1.0, 2.0], "ответ")
    assert "ожидалось число или массив чисел" in message(assert_close, "1.0x", 1.0, "ответ")
    assert "ожидалось число или массив чисел" in message(assert_close, [[1.0], [1.0, 2.0]], [1.0], "ответ")


def test_assert_close_tolerances_are_keywords():
    assert_close(1.05, 1.0, "грубо", rtol=0.1)
    assert_close(1e-12, 0.0, "около нуля")
    message(assert_close, 1e-6, 0.0, "около нуля")
    with pytest.raises(TypeError):
        assert_close(1.0, 1.0, "x", 1e-3)


def test_long_arrays_are_shortened():
    text = message(assert_close, np.arange(100.0), np.arange(100.0) + 1, "длинный")
    assert "[1, 2, 3, 4, 5, 6, …]" in text and "99" not in text


def test_assert_equal():
    assert_equal([1, 2, 3], np.array([1, 2, 3]), "список")
    assert "ожидалось [4, 4, 2], получено [4, 3, 3]" in message(assert_equal, [4, 3, 3], [4, 4, 2], "размеры")
    assert "форма (2,), ожидалась (3,)" in message(assert_equal, [4, 4], [4, 4, 2], "размеры")
    assert "(тип list)" in message(assert_equal, [np.zeros(2), np.zeros(3)], [0, 0], "куски")


def test_assert_type():
    assert_type(1.5, float, "число")
    assert_type(np.float64(1.5), (float, np.floating), "число NumPy")
    text = message(assert_type, np.array([1.0]), (float, np.floating), "db")
    assert "ожидался тип float или floating" in text and "(тип ndarray)" in text
    assert "(тип bool)" in message(assert_type, True, int, "флаг: bool не считается числом")


def test_assert_raises():
    def raise_value_error():
        raise ValueError("окно вне картинки")

    assert_raises(ValueError, raise_value_error, what="crop")
    assert_raises(ValueError, int, "x", what="int")
    text = message(assert_raises, ValueError, lambda: {}["x"], what="crop")
    assert "ожидалось исключение ValueError, возникло KeyError" in text
    assert "завершилась без ошибки" in message(assert_raises, ValueError, abs, -1, what="abs")


def test_failures_survive_python_optimize_mode():
    code = ("from dlcourse.checks import assert_close\n"
            "try:\n    assert_close(1.0, 2.0, 'x')\nexcept AssertionError:\n    print('caught')\n")
    result = subprocess.run([sys.executable, "-O", "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.stdout.strip() == "caught", result.stderr


def test_graded_finds_the_students_names_in_main(monkeypatch):
    main = types.ModuleType("__main__")
    main.Momentum = type("Momentum", (), {})
    monkeypatch.setitem(sys.modules, "__main__", main)
    assert graded("Momentum") is main.Momentum
    with pytest.raises(AssertionError, match="имя Adam не определено"):
        graded("Adam")


def test_graded_works_from_a_namespace_of_its_own_in_an_ipython_shell():
    # As in the course's grader: the helper is defined apart from the student's cells.
    code = ("from IPython.core.interactiveshell import InteractiveShell\n"
            "setup = {}\n"
            "exec('from dlcourse.checks import graded\\n'\n"
            "     'def make():\\n    return graded(\"SGD\")(0.1)', setup)\n"
            "shell = InteractiveShell.instance(user_ns={})\n"
            "shell.run_cell('class SGD:\\n    def __init__(self, lr):\\n        self.lr = lr')\n"
            "print(setup['make']().lr)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.stdout.strip() == "0.1", result.stderr


def test_a_students_exception_under_the_grader_is_named_by_its_builtin_type():
    class Remote(ValueError):  # how the grader's tests' process sees a student's exception
        student_type = "LEAKED_1234"

    def raises():
        raise Remote("LEAKED 0.123")

    text = message(assert_raises, TypeError, raises, what="f(...)")
    assert "ValueError" in text and "LEAKED" not in text
