"""Runs one submission inside the sandbox and reports each cell's verdict to the grader.

Started by ``autograder.sandbox`` as ``python -I -c "import autograder.runner as r; r.main()" FD``.
The job (cells, seed, limits) comes in on stdin, so the hidden tests never lie in a readable
file; verdicts go out as signed JSON lines on file descriptor FD, the moment each cell ends.

Order of work: trusted imports, the instructor's setup cells in a namespace of their own,
an IPython shell for the student's cells (magics work; tests never pass through it), then a
snapshot of the interpreter (``autograder.integrity``) and the audit guard. Each test runs as
a function compiled from the instructor's source whose setup names are its parameters, so the
student can rebind neither them nor the checks; the graded names are looked up in the
student's namespace, as in the notebook.
"""

import ast
import builtins
import contextlib
import hashlib
import importlib
import io
import json
import os
import random
import resource
import signal
import sys
import time

from autograder import integrity

TEST_FUNCTION = "__autograder_test__"
MESSAGE_CHARS = 2000
THREAD_GRACE_S = 0.5


def _send_channel(fd, key):
    """Write HMAC-SHA256-signed lines to ``fd``; a line forged without the key is refused.

    Built from C functions captured here, before any student code runs: patching json, hmac,
    hashlib or builtins cannot change what is sent.
    """
    write, sha256, encode, hexlify, kind_of, text = os.write, hashlib.sha256, str.encode, bytes.hex, type, str
    padded = key.ljust(64, b"\0")
    inner, outer = bytes(b ^ 0x36 for b in padded), bytes(b ^ 0x5C for b in padded)

    def send(event, index=-1, ok=False, mem=False, tamper=False, msg=""):
        if kind_of(msg) is not text:
            msg = "?"
        payload = b"%s %d %d %d %d %s" % (encode(event, "ascii"), index, ok, mem, tamper,
                                          encode(hexlify(encode(msg, "utf-8", "replace")), "ascii"))
        mac = sha256(outer + sha256(inner + payload).digest()).hexdigest()
        line = encode(mac, "ascii") + b" " + payload + b"\n"
        while line:
            line = line[write(fd, line):]

    return send


def _drop_privileges(uid):
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    try:
        os.setuid(0)
    except PermissionError:
        return
    raise RuntimeError("не удалось сбросить права root")


def _limit_resources(memory_mb, cpu_s, nproc):
    """rlimits of this process; the address space on top of what the trusted imports took."""
    with open("/proc/self/statm") as statm:
        used = int(statm.read().split()[0]) * resource.getpagesize()
    address_space = used + memory_mb * 2**20
    for limit, value in [(resource.RLIMIT_AS, address_space), (resource.RLIMIT_CPU, cpu_s),
                         (resource.RLIMIT_CORE, 0), (resource.RLIMIT_FSIZE, 64 * 2**20),
                         (resource.RLIMIT_NPROC, nproc)]:
        try:
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):
            pass  # e.g. NPROC is not lowered for root outside a namespace; the grader warns


def _warm_up(shell, optimizers):
    """Let IPython and torch finish their lazy set-up before the snapshot.

    IPython imports its debugger at the first cell. The first step of a torch optimizer imports torch._dynamo (which wraps
    torch.manual_seed and patches some classes), and creating one wraps its class's ``step``
    in a profiling hook: after the snapshot that would be taken for tampering.
    """
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        shell.run_cell("1", store_history=False)
        shell.run_cell("raise ValueError('warm-up')", store_history=False)
        shell.run_cell("1 +", store_history=False)
    torch = sys.modules.get("torch")
    if torch is None or not optimizers:
        return
    import torch._dynamo  # imported for its side effects

    parameter = torch.zeros(1, requires_grad=True)
    for value in list(vars(torch.optim).values()):
        if isinstance(value, type) and issubclass(value, torch.optim.Optimizer):
            try:
                value([parameter])
            except Exception:  # noqa: BLE001, S110 - some need other parameters; not used in tests
                pass


def _trusted_prefixes():
    """Folders the sandbox mounts read-only: a module imported from there is the real one."""
    roots = {sys.base_prefix, sys.prefix, os.path.dirname(os.path.dirname(integrity.__file__))}
    return tuple(os.path.join(os.path.realpath(root), "") for root in roots)


def _seed(seed):
    random.seed(seed)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)


def _describe(error):
    """A failure message for the student: the checks' Russian text, or the exception."""
    try:
        return _text_of(error)
    except BaseException:  # noqa: BLE001 - builtins patched by the student may break the message
        return "тест не пройден"


def _text_of(error):
    if isinstance(error, MemoryError):
        return "превышен лимит памяти (MemoryError)"
    if type(error) is NotImplementedError:
        return "функция не реализована (NotImplementedError): замените заглушку своим кодом"
    if type(error) is NameError and getattr(error, "name", None):
        return f"имя {error.name} не определено: ячейка решения удалена, переименована или упала с ошибкой"
    try:
        text = str(error)
    except BaseException:  # noqa: BLE001 - a student's exception may fail to print itself
        text = ""
    if not isinstance(error, AssertionError):
        text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return text if len(text) <= MESSAGE_CHARS else text[:MESSAGE_CHARS] + "…"


def compile_test(source, grade_id, parameters, graded_names):
    """The test cell as a function of the setup names and the builtins it uses.

    Both arrive as parameters, so the student's namespace (the function's globals, where the
    graded names are found) cannot shadow them: a student's ``len = ...`` or ``assert_close =
    ...`` does not reach the test. Returns the code and the builtins' names it expects.
    """
    tree = ast.parse(source, filename=f"<{grade_id}>")
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    names = sorted(set(parameters) | (used & set(dir(builtins))) - set(graded_names))
    declared = sorted(set(graded_names) - set(names))
    body = ([ast.Global(names=declared)] if declared else []) + (tree.body or [ast.Pass()])
    arguments = ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[ast.arg(arg=name) for name in names],
                              kw_defaults=[None] * len(names), kwarg=None, defaults=[])
    function = ast.FunctionDef(name=TEST_FUNCTION, args=arguments, body=body, decorator_list=[], returns=None)
    module = ast.Module(body=[function], type_ignores=[])
    ast.fix_missing_locations(module)
    return compile(module, f"<{grade_id}>", "exec"), [name for name in names if name not in parameters]


def _make_shell(namespace):
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False  # no SQLite file and no saving thread
    shell = InteractiveShell.instance(config=config, user_ns=namespace)
    # The error reaches the feedback as a message; IPython's formatted traceback would only
    # cost imports (stack_data, pygments) in every submission.
    shell.showtraceback = shell.showsyntaxerror = _print_error
    return shell


def _print_error(*args, **kwargs):
    error = sys.exc_info()[1]
    print(f"{type(error).__name__}: {error}", file=sys.stderr)


def _sweep_processes():
    """Kill every other process of the sandbox's user: a background job must not outlive a cell."""
    try:
        os.kill(-1, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG) == (0, 0):
                break
        except ChildProcessError:
            break


def _reset_signals(handlers):
    for timer in (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF):
        signal.setitimer(timer, 0)
    for number, handler in handlers.items():
        if signal.getsignal(number) is not handler:
            signal.signal(number, handler)


def main():
    result_fd = int(sys.argv[1])
    job = json.loads(sys.stdin.buffer.read())
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    send = _send_channel(result_fd, bytes.fromhex(job.pop("key")))
    try:
        _run(job, send)
    except BaseException as error:  # noqa: BLE001 - a grader bug must reach the instructor
        send("crash", msg=f"{type(error).__name__}: {error}")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # no atexit handlers or finalizers of student objects


def _run(job, send):
    sys.path[:] = [entry for entry in sys.path if entry not in ("", os.getcwd())]
    for name in job["imports"]:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S110 - a missing module fails the cell that needs it
            pass
    setup = {"__name__": "__main__", "__builtins__": builtins}
    cells = job["cells"]
    for cell in cells:
        if cell["kind"] == "setup":
            try:
                exec(compile(cell["source"], "<setup>", "exec"), setup)  # noqa: S102 - the instructor's code
            except BaseException as error:  # noqa: BLE001
                send("setup_error", msg=_describe(error))
                return
    trusted = {name: value for name, value in setup.items() if not name.startswith("__")}
    builtin_values = dict(vars(builtins))
    tests = {index: compile_test(cell["source"], cell["grade_id"], sorted(trusted), job["graded_names"])
             for index, cell in enumerate(cells) if cell["kind"] == "test"}
    for cell in cells:  # the hidden tests' text is not left lying around for student code to print
        if cell["kind"] != "solution":
            cell["source"] = ""
    shell = _make_shell(dict(trusted))
    namespace = shell.user_ns
    _limit_resources(job["memory_mb"], job["cpu_s"], job["nproc"])
    _seed(job["seed"])
    handlers = {number: signal.getsignal(number) for number in signal.valid_signals()
                if signal.getsignal(number) is not None}
    _warm_up(shell, job.get("warm_up_optimizers", False))
    threads = set(sys._current_frames())
    restore = integrity.snapshot(exclude=[shell.user_module], trusted_prefixes=_trusted_prefixes())
    integrity.install_guard()
    if job.get("uid") is not None:
        _drop_privileges(job["uid"])  # after the trusted imports: outside bwrap, /root is closed to it
    sweep, skip, allowed = job["sweep"], set(job.get("skip", ())), set(job.get("allowed_changes", ()))
    send("ready")
    dirty = True  # student code ran since the last restore
    for index, cell in enumerate(cells):
        if index in skip:
            continue
        if cell["kind"] == "solution":
            send("start", index)
            try:
                result = shell.run_cell(cell["source"], store_history=False)
                error = result.error_before_exec or result.error_in_exec
            except BaseException as failure:  # noqa: BLE001 - e.g. an earlier cell broke IPython
                error = failure
            if error is None:
                send("done", index, True)
            else:
                restore()  # the message is made by trusted code, not by what the cell patched
                send("done", index, False, issubclass(type(error), MemoryError), msg=_describe(error))
            dirty = True
        elif cell["kind"] == "test":
            if dirty:
                restore()
            problem = _prepare_test(sweep, threads, handlers, namespace, job["seed"])
            send("start", index)
            code, used_builtins = tests[index]
            arguments = {**trusted, **{name: builtin_values[name] for name in used_builtins}}
            error = _run_test(code, namespace, arguments, job["graded_names"]) if not problem else None
            message = problem or (_describe(error) if error is not None else "")
            changes = restore()  # from here on nothing the student patched is in effect
            dirty = False
            if changes:
                send("changes", index, msg="\n".join(changes))
                changes = [change for change in changes if change not in allowed]
            ok = error is None and not problem and not changes
            memory = error is not None and issubclass(type(error), MemoryError)
            if changes:
                message = "во время теста подменён проверяющий код: " + ", ".join(changes[:5])
            send("done", index, ok, memory, bool(changes) or bool(problem), message)
    sys.stdout.flush()  # the grader stops reading soon after "end"
    sys.stderr.flush()
    send("end")


def _prepare_test(sweep, threads, handlers, namespace, seed):
    """Stop what the student left running; a thread cannot be stopped, so it fails the test."""
    if sweep:
        _sweep_processes()
    _reset_signals(handlers)
    deadline = time.monotonic() + THREAD_GRACE_S
    while set(sys._current_frames()) - threads:
        if time.monotonic() > deadline:
            return "решение оставило работающий поток (threading): тесты не запускаются рядом с ним"
        time.sleep(0.02)
    namespace["__builtins__"] = builtins
    _seed(seed)
    return ""


def _run_test(code, namespace, arguments, graded_names):
    """The exception that failed the test, or None; the verdict is judged after the restore."""
    saved = {name: namespace[name] for name in graded_names if name in namespace}
    try:
        exec(code, namespace)  # noqa: S102 - defines the test function from the instructor's source
        test = namespace.pop(TEST_FUNCTION)
        test(**arguments)
    except BaseException as error:  # noqa: BLE001 - any exception, even SystemExit, fails the test
        return error
    finally:
        # A test may wrap a graded function to count calls; the next test gets the student's own.
        namespace.update(saved)
    return None
