"""The tests' end of the channel: the student's functions and objects as proxies over plain data.

A call sends its arguments by value (``autograder.protocol``) and gets back a plain result.
Arrays, tensors and generators that cross are *mirrored*: the student's process keeps one copy
per object for as long as the test keeps the original, and after every call the changes either
side made are copied to the other, so in-place updates (``p -= lr * g``), arrays the student
keeps between calls (a velocity that aliases a gradient buffer), a result that *is* an argument
or a view of one, and a generator's state behave as they would in one process. Lists and dicts
passed as arguments come back with the items the student left in them. A tensor that depends on
the arguments carries its graph: ``backward()`` here asks the student's process for the
gradients. Exceptions come back as their type (the nearest built-in one) and message.
Nothing the student's process sends is code or an object: only values are built from it.
"""

import builtins
import sys
import weakref

import numpy as np

from autograder import protocol, settings


class StudentGone(BaseException):
    """The student's process ended or broke the protocol: no more calls can be made."""

    def __init__(self, message, protocol_broken=False):
        super().__init__(message)
        self.protocol_broken = protocol_broken


class Mirrors:
    """Objects of this side that the student's process holds a copy of, by mirror id."""

    def __init__(self):
        self.objects = {}  # id -> weakref (or the object itself when it takes no weak reference)
        self.ids = {}  # id(object) -> mirror id
        self.synced = {}  # mirror id -> content as last seen by both sides
        self.next_id = 1

    def id_of(self, value):
        known = self.ids.get(id(value))
        if known is not None and self.get(known) is value:
            return known, False
        mirror, self.next_id = self.next_id, self.next_id + 1
        self.add(mirror, value)
        return mirror, True

    def add(self, mirror, value):
        try:
            self.objects[mirror] = weakref.ref(value)
        except TypeError:
            self.objects[mirror] = lambda value=value: value
        self.ids[id(value)] = mirror

    def get(self, mirror):
        ref = self.objects.get(mirror)
        return ref() if ref is not None else None

    def live(self):
        for mirror, ref in list(self.objects.items()):
            value = ref()
            if value is None:
                del self.objects[mirror]
                self.synced.pop(mirror, None)
            else:
                yield mirror, value


def content(value):
    """What is compared to see whether a mirrored object changed."""
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, protocol.torch_types()[0]):
        return protocol.tensor_fields(value)
    return repr(protocol.generator_state(value))


class TrustedWriter(protocol.Writer):
    def __init__(self, remote):
        super().__init__()
        self.remote = remote
        self.containers = []  # lists and dicts sent, in the order the student's side reads them
        self.grad_inputs = {}  # mirror id -> argument tensor that requires grad

    def special(self, value, depth):
        tensor_type, dtype_type = protocol.torch_types()
        mirrors = self.remote.mirrors
        if isinstance(value, np.ndarray):
            mirror, _ = mirrors.id_of(value)
            mirrors.synced[mirror] = content(value)
            dtype, shape, data, strides = protocol.array_fields(value)
            return ["A", dtype, shape, self.buffer(data), mirror, bool(value.flags.writeable), strides]
        if isinstance(value, np.generic):
            return ["a", value.dtype.str, self.buffer(np.asarray(value).tobytes())]
        if isinstance(value, tensor_type):
            mirror, _ = mirrors.id_of(value)
            mirrors.synced[mirror] = content(value)
            name, shape, data, strides = protocol.tensor_fields(value)
            if value.requires_grad:
                self.grad_inputs[mirror] = value
            return ["X", name, shape, self.buffer(data), mirror, bool(value.requires_grad), None, strides]
        if isinstance(value, np.random.Generator):
            mirror, _ = mirrors.id_of(value)
            mirrors.synced[mirror] = content(value)
            return ["G", protocol.Writer().write(protocol.generator_state(value)), mirror]
        if isinstance(value, np.dtype):
            return ["nd", value.str]
        if isinstance(value, dtype_type):
            return ["td", str(value).removeprefix("torch.")]
        if isinstance(value, RemoteObject):
            return ["H", object.__getattribute__(value, "_handle"), ""]
        if type(value) is list or type(value) is dict:
            self.containers.append(value)
        return None


class TrustedReader(protocol.Reader):
    def __init__(self, buffers, remote):
        super().__init__(buffers)
        self.remote = remote
        self.adopting = True

    def _known(self, mirror):
        value = self.remote.mirrors.get(mirror) if type(mirror) is int else None
        if value is None:
            raise protocol.ProtocolError("ссылка на неизвестный объект")
        return value

    def read_ref(self, depth, mirror):
        return self._known(mirror)

    def read_array(self, depth, dtype, shape, index, mirror, writeable, strides=None):
        array = super().read_array(depth, dtype, shape, index, mirror, writeable, strides)
        self._adopt(mirror, array)
        return array

    def read_tensor(self, depth, dtype, shape, index, mirror, requires_grad, graph, strides=None):
        tensor = protocol.new_tensor(dtype, shape, self.buffer(index), strides=strides)
        if requires_grad is True:
            tensor = self.remote.attach_graph(tensor, graph)
        self._adopt(mirror, tensor)
        return tensor

    def read_generator(self, depth, state, mirror):
        generator = super().read_generator(depth, state, mirror)
        self._adopt(mirror, generator)
        return generator

    def _adopt(self, mirror, value):
        """An object the student's side created and keeps a copy of: later changes come back."""
        if self.adopting and type(mirror) is int and mirror < 0:
            self.remote.mirrors.add(mirror, value)
            self.remote.mirrors.synced[mirror] = content(value)

    def read_view(self, depth, mirror, offset, shape, strides, dtype, index):
        """A result that shares memory with an argument: a view of the original where possible."""
        base = self._known(mirror)
        copy = protocol.new_array(dtype, shape, self.buffer(index))
        if (isinstance(base, np.ndarray) and base.flags.c_contiguous and base.dtype.str == dtype
                and type(offset) is int and type(strides) is list and len(strides) == len(copy.shape)
                and all(type(s) is int for s in strides)):
            flat = base.reshape(-1)
            itemsize = base.dtype.itemsize
            # The bytes the view would span, all axes together: they must lie inside the original.
            low = offset + sum((n - 1) * s for n, s in zip(copy.shape, strides) if s < 0)
            high = offset + sum((n - 1) * s for n, s in zip(copy.shape, strides) if s > 0) + itemsize
            if offset % itemsize == 0 and 0 <= low and high <= base.nbytes or not copy.size:
                start = flat[offset // itemsize:] if copy.size else flat[:0]
                view = np.lib.stride_tricks.as_strided(start, shape=copy.shape, strides=strides, writeable=True)
                if np.array_equal(view, copy, equal_nan=copy.dtype.kind in "fc"):
                    return view
        return copy

    def read_handle(self, depth, handle, type_name):
        if type(handle) is not int or type(type_name) is not str:
            raise protocol.ProtocolError("неверный объект")
        return RemoteObject(self.remote, handle, type_name[:100])


class Remote:
    """The channel to the student's process, seen from the tests."""

    def __init__(self, read_fd, write_fd):
        self.read_fd, self.write_fd = read_fd, write_fd
        self.mirrors = Mirrors()
        self.grad_inputs = {}  # of the call being answered: what a result's graph connects to
        self.broken = ""

    def request(self, op, **fields):
        if self.broken:
            raise StudentGone(self.broken, self.broken.startswith("нарушен"))
        writer = TrustedWriter(self)
        try:
            value = writer.write(fields)
            changed = self._changed(writer)
            protocol.send(self.write_fd, {"op": op, "v": value, "u": changed}, writer.buffers)
            self.grad_inputs = writer.grad_inputs
            header, buffers = protocol.receive(self.read_fd)
        except protocol.Unsupported:
            raise
        except (EOFError, OSError):
            self.broken = "процесс с кодом студента завершился"
            raise StudentGone(self.broken) from None
        except protocol.ProtocolError as error:
            self.broken = f"нарушен протокол обмена с кодом студента: {error}"
            raise StudentGone(self.broken, True) from None
        return self._reply(header, buffers, writer.containers[1:])  # [0] is the request's own fields

    def _changed(self, writer):
        """Mirrored objects this side changed since the last call, sent before the call."""
        updates = []
        for mirror, value in self.mirrors.live():
            if mirror not in self.mirrors.synced:
                continue
            now = content(value)
            if now != self.mirrors.synced[mirror]:
                self.mirrors.synced[mirror] = now
                updates.append([mirror, writer.write(value)])
        return updates

    def _reply(self, header, buffers, containers):
        try:
            if type(header) is not dict:
                raise protocol.ProtocolError("ответ не словарь")
            reader = TrustedReader(buffers, self)
            for mirror, node in _pairs(header.get("u", [])):
                reader.adopting = False  # an update's content is a copy, not an object to keep
                self._update(mirror, reader.read(node))
                reader.adopting = True
            copied = header.get("c")
            if copied is not None:  # None: the student's side could not send them back
                if type(copied) is not list or len(copied) != len(containers):
                    raise protocol.ProtocolError("неверные списки аргументов")
                for original, node in zip(containers, copied):
                    _refill(original, reader.read(node))
            if "e" in header:
                raise _student_exception(header["e"], header.get("m", ""))
            return reader.read(header.get("v"))
        except protocol.ProtocolError as error:
            self.broken = f"нарушен протокол обмена с кодом студента: {error}"
            raise StudentGone(self.broken, True) from None

    def _update(self, mirror, new):
        tensor_type = protocol.torch_types()[0]
        original = self.mirrors.get(mirror) if type(mirror) is int else None
        if original is None or original is new:
            return
        if isinstance(original, np.ndarray) and isinstance(new, np.ndarray):
            if new.dtype != original.dtype:  # in one process only a reinterpreting view could do this
                raise protocol.ProtocolError("массив теста сменил тип элементов")
            if original.shape == new.shape and original.flags.writeable:
                np.copyto(original, new)
        elif isinstance(original, tensor_type) and isinstance(new, tensor_type):
            if original.shape == new.shape:
                with sys.modules["torch"].no_grad():
                    original.copy_(new.to(original.dtype))
        elif isinstance(original, np.random.Generator) and isinstance(new, np.random.Generator):
            protocol.set_generator_state(original, protocol.generator_state(new))
        else:
            raise protocol.ProtocolError("обновление не того типа")
        self.mirrors.synced[mirror] = content(original)

    def attach_graph(self, tensor, graph):
        """The result tensor, connected to the tests' tensors it was computed from."""

        mirrors = list(self.grad_inputs)
        inputs = list(self.grad_inputs.values())
        if type(graph) is not int or not inputs:
            return tensor.requires_grad_(tensor.is_floating_point() or tensor.is_complex())
        return _RemoteGraph.apply(self, graph, mirrors, tensor, *inputs)

    def call(self, target, args, kwargs):
        return self.request("call", target=target, args=list(args), kwargs=dict(kwargs))


def _pairs(items):
    if type(items) is not list or not all(type(item) is list and len(item) == 2 for item in items):
        raise protocol.ProtocolError("неверный список обновлений")
    return items


def _refill(original, new):
    if type(original) is list and type(new) is list:
        original[:] = new
    elif type(original) is dict and type(new) is dict:
        original.clear()
        original.update(new)
    else:
        raise protocol.ProtocolError("список аргумента вернулся не списком")


def _graph_function():
    import torch

    class RemoteGraph(torch.autograd.Function):
        """A tensor computed by the student's code; its backward is computed there too."""

        @staticmethod
        def forward(ctx, remote, graph, mirrors, value, *inputs):
            ctx.remote, ctx.graph, ctx.mirrors = remote, graph, mirrors
            ctx.shapes = [(tuple(t.shape), t.dtype) for t in inputs]
            return value.clone()

        @staticmethod
        def backward(ctx, grad):
            grads = ctx.remote.request("backward", graph=ctx.graph, grad=grad.detach(), mirrors=ctx.mirrors)
            if type(grads) is not list or len(grads) != len(ctx.shapes):
                raise RuntimeError("градиенты из кода студента не пришли")
            checked = []
            for value, (shape, dtype) in zip(grads, ctx.shapes):
                if value is not None and (not isinstance(value, torch.Tensor) or tuple(value.shape) != shape):
                    raise RuntimeError("градиент из кода студента не той формы")
                checked.append(None if value is None else value.to(dtype))
            return (None, None, None, None, *checked)

    return RemoteGraph


class _LazyGraph:
    function = None

    def apply(self, *args):
        if self.function is None:
            self.function = _graph_function()
        return self.function.apply(*args)


_RemoteGraph = _LazyGraph()
_EXCEPTIONS = {}


def _student_exception(names, message):
    """An exception of the nearest built-in class the student's one derives from."""
    if type(names) is not list or not all(type(name) is str for name in names):
        names = []
    base = next((getattr(builtins, name) for name in names if isinstance(getattr(builtins, name, None), type)
                 and issubclass(getattr(builtins, name), BaseException)), Exception)
    if base in (KeyboardInterrupt, SystemExit, GeneratorExit):
        base = Exception  # a student's sys.exit() fails the test; it does not stop the tests' process
    shown = sanitized(names[0][:60]) if names else base.__name__
    key = (base, shown)
    if key not in _EXCEPTIONS:
        bases = (protocol.RemoteError,) if base is Exception else (base, protocol.RemoteError)
        _EXCEPTIONS[key] = type(shown if shown.isidentifier() else base.__name__, bases, {})
    error = _EXCEPTIONS[key](str(message)[: settings.MESSAGE_CHARS] if type(message) is str else "")
    error.student_type = shown
    return error


class RemoteObject:
    """An object of the student's (an optimizer, say): attributes and methods are reached by value."""

    __slots__ = ("_handle", "_remote", "_type")

    def __init__(self, remote, handle, type_name):
        object.__setattr__(self, "_remote", remote)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_type", type_name)

    def _ask(self, op, **fields):
        return object.__getattribute__(self, "_remote").request(op, handle=object.__getattribute__(self, "_handle"),
                                                                 **fields)

    def __getattr__(self, name):
        if name.startswith("_"):
            # Libraries probe objects for protocols by name (NumPy's __array_interface__ would let
            # the student's answer point an array at any memory of this process): none is offered.
            raise AttributeError(name)
        return self._ask("getattr", name=name)  # a method comes back as an object of its own

    def __setattr__(self, name, value):
        self._ask("setattr", name=name, value=value)

    def __call__(self, *args, **kwargs):
        return self._ask("call_handle", args=list(args), kwargs=dict(kwargs))

    def __bool__(self):
        return bool(self._ask("bool"))

    def __len__(self):
        return self._ask("len")

    def __getitem__(self, key):
        return self._ask("getitem", key=key)

    def __iter__(self):
        return iter(self._ask("items"))

    def __repr__(self):
        return sanitized(str(self._ask("repr"))[: settings.MESSAGE_CHARS])


class RemoteName:
    """A graded name (a function or class of the student's), looked up in their namespace at each call."""

    def __init__(self, remote, name):
        self.remote, self.name = remote, name
        self.__name__ = self.__qualname__ = name

    def __call__(self, *args, **kwargs):
        return self.remote.request("call", name=self.name, args=list(args), kwargs=dict(kwargs))

    def __repr__(self):
        return f"<{self.name} из решения студента>"


def sanitized(text):
    """Text of the student's choosing, fit for a terminal, a CSV and a page: no control characters."""
    return "".join(char if char.isprintable() else "?" for char in text)
