"""The tests' process: the instructor's setup and test cells, where no student code ever runs.

Started in a sandbox of its own (its own user id, no memory shared with the student's process)
by ``autograder.sandbox`` as ``python -s -P -c "...; autograder.trusted_side.main()" REQUEST_FD
REPLY_FD EVENTS_FD``. Its job (the cells in notebook order, the graded names) comes on stdin.
It walks the cells in order: an answer cell is run by the student's process on request; a test
cell runs here, unchanged, in one namespace with the setup, where the graded names are proxies
(``autograder.proxies``). Every expected value, comparison and verdict stays in this process;
each cell's verdict goes to the grader as a JSON line on EVENTS_FD, a pipe the student's
process has never had.
"""

import builtins
import json
import os
import sys
import traceback

from autograder import protocol, proxies, sandboxed, settings
from dlcourse.checks import CheckFailed

HIDDEN_TEXT = "текст исключения не показывается: он мог бы раскрыть входные данные скрытых тестов"
HIDDEN_VALUES = "скрытый тест: ожидаемое значение и полученный ответ не показываются"
HIDDEN = "скрытый тест"


class Events:
    def __init__(self, fd):
        self.fd = fd

    def send(self, event, index=-1, **fields):
        line = json.dumps({"e": event, "i": index, **fields}, ensure_ascii=False).encode("utf-8") + b"\n"
        view = memoryview(line)
        while view:
            view = view[os.write(self.fd, view):]


def describe(error, show_student_text, where="test", source=""):
    """The feedback's message for an exception: the instructor's words, or what the student's code raised.

    ``where`` is "solution" (an answer cell, whose ``source`` is given), "test" or "hidden" (a
    line of a test between the hidden markers): there a failed check says what was checked,
    never what was expected. Text the student's process chose (an exception's message or its
    class name) is shown only with --show-errors: by the time an answer cell or a test runs,
    that process may have seen hidden inputs. A syntax error is described from this process's
    own compilation of the cell.
    """
    try:
        return _text(error, show_student_text, where, source)[: settings.MESSAGE_CHARS]
    except Exception:  # noqa: BLE001 - a message must never break the verdict
        return "тест не пройден"


def _text(error, show_student_text, where, source):
    if isinstance(error, protocol.RemoteError):
        kind = error.student_type
        if kind == "NotImplementedError":
            return "функция не реализована (NotImplementedError): замените заглушку своим кодом"
        if kind == "MemoryError":
            return "превышен лимит памяти (MemoryError)"
        if kind == "Unsupported":
            # The result cannot be sent. The message names its type, but a student's exception
            # may carry that name too, with hidden inputs for a text: shown only with the others.
            text = f": {proxies.sanitized(str(error))[: settings.STUDENT_TEXT_CHARS]}" if show_student_text else ""
            return f"результат нельзя передать на проверку: такие значения не передаются между процессами{text}"
        shown = proxies.sanitized(kind) if show_student_text else _builtin_name(error)
        head = ("ячейка решения упала с исключением" if where == "solution"
                else "тест вызвал ваш код, и он упал с исключением") + f" {shown}"
        if show_student_text:
            text = proxies.sanitized(str(error))[: settings.STUDENT_TEXT_CHARS]
            return f"{head}: {text}" if text else head
        syntax = _syntax_error(source) if where == "solution" and issubclass(type(error), SyntaxError) else ""
        return f"{head}: {syntax}" if syntax else f"{head} ({HIDDEN_TEXT})"
    if where == "hidden" and isinstance(error, AssertionError):
        if isinstance(error, CheckFailed):  # check(): the message is all the test says; else values held back
            return f"{error.what} ({HIDDEN_VALUES if error.details else HIDDEN})"
        return f"проверка не пройдена ({HIDDEN_VALUES})"
    if where == "hidden" and not isinstance(error, (NameError, protocol.Unsupported)):
        # e.g. NumPy converting the student's answer: its message quotes that answer.
        return f"{type(error).__name__} ({HIDDEN_VALUES})"
    if type(error) is NameError and getattr(error, "name", None):
        return f"имя {error.name} не определено: ячейка решения удалена, переименована или упала с ошибкой"
    if isinstance(error, protocol.Unsupported):
        return f"ошибка теста: {error}"
    text = str(error)
    if not isinstance(error, AssertionError):
        text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return text


def bind_graded_names(remote, namespace, names):
    """Each graded name as the student's notebook has it now: a proxy, a value, or absent."""
    found = remote.request("describe", names=list(names)) if names else {}
    for name in names:
        kind = found.get(name) if isinstance(found, dict) else None
        if kind == ["callable"]:
            namespace[name] = proxies.RemoteName(remote, name)
        elif isinstance(kind, list) and len(kind) == 2 and kind[0] == "value":
            namespace[name] = kind[1]
        else:
            namespace.pop(name, None)


def run(job, events, remote):
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    for source in job["setup"]:
        try:
            exec(compile(source, "<setup>", "exec"), namespace)  # noqa: S102 - the instructor's setup
        except BaseException as error:  # noqa: BLE001 - the instructor's problem, reported as such
            events.send("setup_error", msg=describe(error, True))
            return
    # Only now: outside bubblewrap the interpreter's own files may be closed to the sandbox's user.
    sandboxed.drop_privileges(job.get("uid"))
    for name, value in list(namespace.items()):
        if getattr(value, "__student_side__", False) is True:
            namespace[name] = proxies.RemoteName(remote, name)
    skip = set(job["skip"])
    events.send("ready")
    for index, cell in enumerate(job["cells"]):
        if index in skip or cell["kind"] == "setup":
            continue
        events.send("start", index)
        try:
            if cell["kind"] == "solution":
                events.send("done", index, **_answer(remote, index, job["show_student_text"],
                                                     job["solutions"][str(index)]))
            else:
                sandboxed.seed(job["seed"])
                remote.request("seed", seed=job["seed"])
                bind_graded_names(remote, namespace, job["graded_names"])
                events.send("done", index, **_test(cell, namespace, job["show_student_text"]))
        except proxies.StudentGone as gone:
            events.send("gone", index, msg=str(gone), protocol=gone.protocol_broken)
            return
    events.send("end")


def _builtin_name(error):
    """The built-in class a student's exception was mapped to: its own class name is theirs to choose."""
    return next(klass.__name__ for klass in type(error).__mro__ if klass.__module__ == "builtins")


def _syntax_error(source):
    """What compiling the student's cell here says, after IPython's transforms (magics), or ''."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - IPython unreadable here, or the transform failed: the cell as it is
        pass
    try:
        compile(source, "<cell>", "exec")
    except SyntaxError as error:
        where = f" (строка {error.lineno})" if error.lineno else ""
        return proxies.sanitized(f"{error.msg}{where}")[: settings.STUDENT_TEXT_CHARS]
    except (ValueError, RecursionError, MemoryError):
        return ""
    return ""


def _answer(remote, index, show_student_text, source):
    try:
        remote.request("run", cell=index)
    except protocol.RemoteError as error:
        return {"ok": False, "msg": describe(error, show_student_text, "solution", source),
                "error_type": error.student_type if show_student_text else _builtin_name(error)}
    return {"ok": True, "msg": ""}


def _test(cell, namespace, show_student_text):
    filename = f"<{cell['grade_id']}>"
    try:
        exec(compile(cell["source"], filename, "exec"), namespace)  # noqa: S102 - the instructor's test
    except proxies.StudentGone:
        raise
    except BaseException as error:  # noqa: BLE001 - any exception, even SystemExit, fails the test
        where = "hidden" if _failed_at(error, filename) & set(cell["hidden"]) else "test"
        return {"ok": False, "msg": describe(error, show_student_text, where),
                "memory": isinstance(error, MemoryError) or getattr(error, "student_type", "") == "MemoryError"}
    return {"ok": True, "msg": ""}


def _failed_at(error, filename):
    """The lines of the test cell the failure came through: the top-level one, and those of any
    function the cell defined (a hidden line may call a helper defined on a visible one)."""
    lines, frame = set(), error.__traceback__
    while frame is not None:
        if frame.tb_frame.f_code.co_filename == filename:
            lines.add(frame.tb_lineno)
        frame = frame.tb_next
    return lines


def main():
    request_fd, reply_fd, events_fd = (int(arg) for arg in sys.argv[1:4])
    job = json.loads(sys.stdin.buffer.read())
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    sandboxed.limit_resources(job)
    events = Events(events_fd)
    try:
        run(job, events, proxies.Remote(reply_fd, request_fd))
    except BaseException as error:  # noqa: BLE001 - a grader bug must reach the instructor
        where = "".join(traceback.format_tb(error.__traceback__)[-3:])
        events.send("crash", msg=f"{type(error).__name__}: {error}\n{where}")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
