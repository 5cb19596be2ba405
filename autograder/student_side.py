"""The student's process: runs the answer cells and answers the tests' calls with plain values.

Started in its own sandbox by ``autograder.sandbox`` as
``python -s -P -c "...; autograder.student_side.main()" REQUEST_FD REPLY_FD``. Its job (the
instructor's setup cells and the student's answer cells, nothing of the tests) comes on stdin.
Everything here may be changed by the student's code, and that is fine: this process decides
nothing. It only sends values, and the tests' process builds nothing but values from them.
"""

import builtins
import contextlib
import io
import json
import os
import sys
import types

from autograder import protocol, sandboxed, settings


class Mirrors:
    """Copies of the tests' objects, and the student's objects the tests have seen, by mirror id."""

    def __init__(self):
        self.objects = {}
        self.ids = {}  # id(object) -> mirror id
        self.synced = {}
        self.next_id = -1
        self.handles = {}
        self.graphs = {}

    def add(self, mirror, value):
        self.objects[mirror] = value
        self.ids[id(value)] = mirror
        self.synced[mirror] = content(value)

    def new(self, value):
        mirror, self.next_id = self.next_id, self.next_id - 1
        self.add(mirror, value)
        return mirror

    def find(self, value):
        mirror = self.ids.get(id(value))
        return mirror if mirror is not None and self.objects.get(mirror) is value else None

    def keep(self, table, value):
        key = len(table) + 1
        table[key] = value
        return key


def content(value):
    import numpy as np

    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, np.random.Generator):
        return repr(protocol.generator_state(value))
    return protocol.tensor_fields(value)


class StudentReader(protocol.Reader):
    def __init__(self, buffers, mirrors):
        super().__init__(buffers)
        self.mirrors = mirrors
        self.containers = []

    # Lists and dicts are numbered in the order the tests' side wrote them (outer first), so
    # that their contents after the call go back to the right originals.
    def read_list(self, depth, items):
        slot = len(self.containers)
        self.containers.append(None)
        self.containers[slot] = super().read_list(depth, items)
        return self.containers[slot]

    def read_dict(self, depth, pairs):
        slot = len(self.containers)
        self.containers.append(None)
        self.containers[slot] = super().read_dict(depth, pairs)
        return self.containers[slot]

    def read_array(self, depth, dtype, shape, index, mirror, writeable, strides=None):
        new = protocol.new_array(dtype, shape, self.buffer(index), strides=strides)
        known = self.mirrors.objects.get(mirror)
        same = getattr(known, "shape", None) == new.shape and getattr(known, "dtype", None) == new.dtype
        if known is not None and same:
            try:
                known.flags.writeable = True
                known[...] = new  # the same object as before: an alias the student kept sees the change
                new = known
            except ValueError:  # a read-only view the student made of it: a new copy then
                pass
        new.flags.writeable = bool(writeable)
        self.mirrors.add(mirror, new)
        return new

    def read_tensor(self, depth, dtype, shape, index, mirror, requires_grad, graph, strides=None):
        import torch

        new = protocol.new_tensor(dtype, shape, self.buffer(index), requires_grad, strides)
        known = self.mirrors.objects.get(mirror)
        if isinstance(known, torch.Tensor) and known.shape == new.shape and known.dtype == new.dtype:
            with torch.no_grad():
                known.copy_(new)
            new = known
        self.mirrors.add(mirror, new)
        return new

    def read_generator(self, depth, state, mirror):
        new = protocol.new_generator(protocol.Reader([]).read(state))
        known = self.mirrors.objects.get(mirror)
        if known is not None and hasattr(known, "bit_generator"):
            protocol.set_generator_state(known, protocol.generator_state(new))
            new = known
        self.mirrors.add(mirror, new)
        return new

    def read_ref(self, depth, mirror):
        if mirror not in self.mirrors.objects:
            raise protocol.ProtocolError("unknown mirror")
        return self.mirrors.objects[mirror]

    def read_handle(self, depth, handle, type_name):
        if handle not in self.mirrors.handles:
            raise protocol.ProtocolError("unknown handle")
        return self.mirrors.handles[handle]


class StudentWriter(protocol.Writer):
    def __init__(self, mirrors):
        super().__init__()
        self.mirrors = mirrors

    def special(self, value, depth):
        import numpy as np

        tensor_type, dtype_type = protocol.torch_types()
        mirrors = self.mirrors
        if isinstance(value, (np.ndarray, np.random.Generator, tensor_type)):
            mirror = mirrors.find(value)
            if mirror is not None:
                return ["R", mirror]
            if isinstance(value, np.ndarray):
                view = self._view(value)
                if view is not None:
                    return view
            return self.content(value, mirrors.new(value), graph=True)
        if isinstance(value, np.generic):
            return ["a", value.dtype.str, self.buffer(np.asarray(value).tobytes())]
        if isinstance(value, np.dtype):
            return ["nd", value.str]
        if isinstance(value, dtype_type):
            return ["td", str(value).removeprefix("torch.")]
        return None

    def content(self, value, mirror, graph=False):
        import numpy as np

        if isinstance(value, np.ndarray):
            dtype, shape, data, strides = protocol.array_fields(value)
            return ["A", dtype, shape, self.buffer(data), mirror, bool(value.flags.writeable), strides]
        if isinstance(value, np.random.Generator):
            return ["G", protocol.Writer().write(protocol.generator_state(value)), mirror]
        name, shape, data, strides = protocol.tensor_fields(value)
        requires_grad = bool(value.requires_grad)
        key = self.mirrors.keep(self.mirrors.graphs, value) if graph and requires_grad else None
        return ["X", name, shape, self.buffer(data), mirror, requires_grad, key, strides]

    def _view(self, array):
        """A result that shares memory with a mirrored array: where it lies inside it."""
        import numpy as np

        base = array
        while isinstance(base.base, np.ndarray):
            base = base.base
        mirror = self.mirrors.find(base)
        if mirror is None or base is array:
            return None
        offset = array.__array_interface__["data"][0] - base.__array_interface__["data"][0]
        dtype, shape, data, _ = protocol.array_fields(array)
        return ["V", mirror, offset, shape, list(array.strides), dtype, self.buffer(data)]

    def other(self, value):
        return ["H", self.mirrors.keep(self.mirrors.handles, value), type(value).__name__]


def _error_reply(error):
    try:
        names = [klass.__name__ for klass in type(error).__mro__][:20]
        text = str(error)[: settings.MESSAGE_CHARS]
    except BaseException:  # noqa: BLE001 - a student's exception may refuse to print
        names, text = ["Exception"], ""
    return {"e": names, "m": text}


class Server:
    def __init__(self, namespace, shell, solutions, helpers):
        self.namespace, self.shell, self.solutions, self.helpers = namespace, shell, solutions, helpers
        self.mirrors = Mirrors()

    def serve(self, request_fd, reply_fd):
        while True:
            try:
                header, buffers = protocol.receive(request_fd)
            except EOFError:
                return
            reader = StudentReader(buffers, self.mirrors)
            writer = StudentWriter(self.mirrors)
            try:
                fields = reader.read(header["v"])
                for _, node in header.get("u", []):
                    reader.read(node)
                containers = list(reader.containers[1:])  # the first is the request's own fields
                reply = self.answer(header["op"], fields)
            except BaseException as error:  # noqa: BLE001 - the student's code failed: say how
                containers = list(reader.containers[1:])
                reply = _error_reply(error)
            reply = self.finish(reply, writer, containers)
            sys.stdout.flush()  # what the call printed reaches the log even if the process is killed later
            protocol.send(reply_fd, reply, writer.buffers)

    def finish(self, reply, writer, containers):
        try:
            if "v" in reply:
                reply["v"] = writer.write(reply["v"])
        except BaseException as error:  # noqa: BLE001 - e.g. a result that cannot be sent
            reply = _error_reply(error)
        try:
            reply["c"] = [writer.write(container) for container in containers]
            reply["u"] = self.updates(writer)
        except BaseException as error:  # noqa: BLE001
            reply = {**_error_reply(error), "c": None, "u": []}
        return reply

    def updates(self, writer):
        changed = []
        for mirror, value in list(self.mirrors.objects.items()):
            now = content(value)
            if now != self.mirrors.synced.get(mirror):
                self.mirrors.synced[mirror] = now
                changed.append([mirror, writer.content(value, mirror)])
        return changed

    def answer(self, op, fields):
        handles = self.mirrors.handles
        if op == "run":
            return self.run(fields["cell"])
        if op == "seed":
            sandboxed.seed(fields["seed"])
            return {"v": None}
        if op == "describe":
            return {"v": {name: self.describe(name) for name in fields["names"]}}
        if op == "call":
            target = self.helpers.get(fields["name"]) or self.namespace.get(fields["name"])
            if target is None:
                raise NameError(f"name {fields['name']!r} is not defined", name=fields["name"])
            return {"v": target(*fields["args"], **fields["kwargs"])}
        if op == "backward":
            return {"v": self.backward(fields)}
        target = handles[fields["handle"]]
        simple = {"call_handle": lambda: target(*fields["args"], **fields["kwargs"]),
                  "getattr": lambda: getattr(target, fields["name"]),
                  "setattr": lambda: setattr(target, fields["name"], fields["value"]),
                  "getitem": lambda: target[fields["key"]], "len": lambda: len(target),
                  "bool": lambda: bool(target), "items": lambda: list(target),
                  "repr": lambda: repr(target)[: settings.MESSAGE_CHARS]}
        return {"v": simple[op]()}

    def describe(self, name):
        if name not in self.namespace:
            return ["missing"]
        value = self.namespace[name]
        return ["callable"] if callable(value) else ["value", value]

    def run(self, index):
        error = None
        try:
            result = self.shell.run_cell(self.solutions[str(index)], store_history=False)
            error = result.error_before_exec or result.error_in_exec
        except BaseException as failure:  # noqa: BLE001 - e.g. an earlier cell broke IPython
            error = failure
        if error is not None:
            return _error_reply(error)
        return {"v": None}

    def backward(self, fields):
        import torch

        output = self.mirrors.graphs[fields["graph"]]
        inputs = [self.mirrors.objects.get(mirror) for mirror in fields["mirrors"]]
        usable = [t for t in inputs if isinstance(t, torch.Tensor) and t.requires_grad]
        grads = torch.autograd.grad([output], usable, [fields["grad"].to(output.dtype)], allow_unused=True,
                                    retain_graph=True) if usable else []
        found = dict(zip(map(id, usable), grads))
        return [found.get(id(t)) if t is not None else None for t in inputs]


def instructor_helpers(namespace):
    """The setup's helpers marked ``on_student_side``, as they are before any student code runs.

    The student's cells run in the namespace the setup ran in, and may rebind or rewrite any
    of its names (a helper, ``graded``, another setup function, ``dlcourse.checks.graded``).
    The tests call copies instead: every function the setup defined is copied, with a
    snapshot of the setup's names for globals, where ``graded`` (a copy too) finds the
    student's objects in the live namespace. This only raises the bar: nothing in this
    process is out of the student's reach (shared modules such as NumPy can be patched), so
    a helper returns observations that the tests judge, never a verdict.
    """
    from dlcourse import checks

    lookup = _copy(checks.graded, checks.graded.__globals__)

    def graded(name):
        return lookup(name, namespace)

    snapshot = _Snapshot(namespace)
    snapshot.update({name: graded if value is checks.graded else value for name, value in namespace.items()})
    for name, value in namespace.items():
        if isinstance(value, types.FunctionType) and value.__globals__ is namespace:
            snapshot[name] = _copy(value, snapshot)
    return {name: value for name, value in snapshot.items()
            if isinstance(value, types.FunctionType) and getattr(value, "__student_side__", False) is True}


class _Snapshot(dict):
    """The setup's names; a name the setup did not define is looked up in the live namespace,
    as in one process (IPython's ``get_ipython``, say); neither: a builtin."""

    def __init__(self, live):
        super().__init__()
        self.live = live

    def __missing__(self, name):
        return self.live[name]  # KeyError: Python goes on to the builtins


def _copy(function, globals_):
    copy = types.FunctionType(function.__code__, globals_, function.__name__, function.__defaults__,
                              function.__closure__)
    copy.__kwdefaults__ = function.__kwdefaults__ and dict(function.__kwdefaults__)
    copy.__dict__.update(function.__dict__)
    return copy


def make_shell(namespace):
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False  # no SQLite file and no saving thread
    shell = InteractiveShell.instance(config=config, user_ns=namespace)
    # The error reaches the grader as its type; IPython's formatted traceback would only cost imports.
    shell.showtraceback = shell.showsyntaxerror = _print_error
    return shell


def _print_error(*args, **kwargs):
    error = sys.exc_info()[1]
    print(f"{type(error).__name__}: {error}", file=sys.stderr)


def main():
    request_fd, reply_fd = int(sys.argv[1]), int(sys.argv[2])
    job = json.loads(sys.stdin.buffer.read())
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    sys.path[:] = [entry for entry in sys.path if entry not in ("", os.getcwd())]
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    for source in job["setup"]:
        exec(compile(source, "<setup>", "exec"), namespace)  # noqa: S102 - the instructor's setup cells
    helpers = instructor_helpers(namespace)
    shell = make_shell(namespace)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for warm_up in ("1", "raise ValueError('warm-up')", "1 +", "def _warm_up():\n    pass"):
            # IPython's lazy imports (results, errors, syntax errors, definitions), while the venv
            # can still be read: outside bubblewrap it may be closed to the sandbox's user.
            shell.run_cell(warm_up, store_history=False)
    namespace.pop("_warm_up", None)
    # Only now, before any student code: outside bubblewrap the interpreter's own files may be
    # closed to the sandbox's user.
    sandboxed.drop_privileges(job.get("uid"))
    sandboxed.limit_resources(job)
    sandboxed.seed(job["seed"])
    Server(shell.user_ns, shell, job["solutions"], helpers).serve(request_fd, reply_fd)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # no atexit handlers or finalizers of student objects
