"""The only thing that crosses between the student's process and the tests' process: plain data.

A message is a JSON header (a tree of tagged lists) followed by raw byte buffers. A value is
``None``, a bool, an int, a float or a str as itself, or a list whose first item is a tag:

    ["L", items] list     ["T", items] tuple    ["D", [[k, v], ...]] dict
    ["S", items] set      ["F", items] frozenset ["B", buf] bytes   ["C", re, im] complex
    ["A", dtype, shape, buf, mirror, writeable, strides] NumPy array   ["a", dtype, buf] NumPy scalar
    ["X", dtype, shape, buf, mirror, requires_grad, graph, strides] torch tensor
    ["G", state, mirror] NumPy Generator   ["R", mirror] the same object as mirror
    ["V", mirror, offset, shape, strides, dtype, buf] a view into mirror's array
    ["H", handle, type name] an object that stays in the student's process
    ["nd", dtype] NumPy dtype   ["td", name] torch dtype   ["sl", start, stop, step] slice

No pickle, no code, no objects: the reader builds only these types, checks every dtype, shape
and size against the limits in ``autograder.settings``, and raises ``ProtocolError`` for
anything else. Both sides extend ``Writer`` and ``Reader`` with what their mirrors mean.
"""

import json
import math
import os
import re
import struct
import sys

from autograder import settings

_DTYPE = re.compile(r"^[<>|=][biufcUS][0-9]{1,3}$")
_TORCH_DTYPES = ("float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64",
                 "uint8", "bool", "complex64", "complex128")
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


class ProtocolError(Exception):
    """The other side sent something that is not a message of this protocol."""


class Unsupported(TypeError):
    """A value of a type that cannot cross (a function, a file, an arbitrary object)."""


# Framing ------------------------------------------------------------------------------------

def send(fd, header, buffers=()):
    body = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    sizes = [len(buffer) for buffer in buffers]
    head = json.dumps(sizes).encode("ascii")
    parts = [struct.pack(">II", len(body), len(head)), body, head, *buffers]
    _write_all(fd, b"".join(bytes(part) for part in parts))


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def receive(fd):
    """(header, buffers) of the next message; EOFError when the other side closed the pipe."""
    body_size, head_size = struct.unpack(">II", _read_exactly(fd, 8))
    if body_size > settings.MAX_HEADER_BYTES or head_size > 2**20:
        raise ProtocolError("слишком большой заголовок сообщения")
    try:
        header = json.loads(_read_exactly(fd, body_size).decode("utf-8"))
        sizes = json.loads(_read_exactly(fd, head_size).decode("ascii"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ProtocolError(f"сообщение не разбирается: {type(error).__name__}") from None
    if not isinstance(sizes, list) or not all(type(size) is int and size >= 0 for size in sizes):
        raise ProtocolError("неверный список буферов")
    if sum(sizes) > settings.MAX_MESSAGE_BYTES:
        raise ProtocolError(f"сообщение больше {settings.MAX_MESSAGE_BYTES // 2**20} МБ")
    return header, [_read_exactly(fd, size) for size in sizes]


def _read_exactly(fd, size):
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 2**20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# Values -------------------------------------------------------------------------------------

class Writer:
    """Turns a value into a tree and buffers. Subclasses decide what mirrors and handles are."""

    def __init__(self):
        self.buffers = []
        self.nodes = 0

    def buffer(self, data):
        self.buffers.append(bytes(data))
        return len(self.buffers) - 1

    def write(self, value, depth=0):
        self.nodes += 1
        if depth > settings.MAX_DEPTH or self.nodes > settings.MAX_NODES:
            raise Unsupported("значение слишком глубоко вложено или слишком велико")
        kind = type(value)
        if value is None or kind in (bool, int, str):
            return value
        if kind is float:
            return value if math.isfinite(value) else ["f", repr(value)]
        special = self.special(value, depth)
        if special is not None:
            return special
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return self.write(float(value), depth)
        if isinstance(value, str):
            return str(value)
        if isinstance(value, complex):
            return ["C", self.write(float(value.real)), self.write(float(value.imag))]
        if isinstance(value, (bytes, bytearray)):
            return ["B", self.buffer(value)]
        if isinstance(value, slice):
            return ["sl", *(self.write(part, depth + 1) for part in (value.start, value.stop, value.step))]
        for kind, tag in ((list, "L"), (tuple, "T"), (set, "S"), (frozenset, "F")):
            if isinstance(value, kind):
                return [tag, [self.write(item, depth + 1) for item in value]]
        if isinstance(value, dict):
            return ["D", [[self.write(k, depth + 1), self.write(v, depth + 1)] for k, v in value.items()]]
        return self.other(value)

    def special(self, value, depth):
        """Arrays, tensors, generators and dtypes: ``None`` when ``value`` is none of them."""
        return

    def other(self, value):
        raise Unsupported(f"значение типа {type(value).__name__} нельзя передать между процессами")


class Reader:
    """Builds plain values from a tree and buffers, checking everything it is given."""

    def __init__(self, buffers):
        self.buffers = buffers
        self.nodes = 0

    def buffer(self, index):
        if type(index) is not int or not 0 <= index < len(self.buffers):
            raise ProtocolError("ссылка на несуществующий буфер")
        return self.buffers[index]

    def read(self, tree, depth=0):
        self.nodes += 1
        if depth > settings.MAX_DEPTH or self.nodes > settings.MAX_NODES:
            raise ProtocolError("значение слишком глубоко вложено или слишком велико")
        if tree is None or type(tree) in (bool, int, float, str):
            return tree
        if type(tree) is not list or not tree or type(tree[0]) is not str:
            raise ProtocolError("неизвестный элемент сообщения")
        tag, args = tree[0], tree[1:]
        try:
            method = getattr(self, "read_" + _TAG_NAMES[tag])
        except KeyError:
            raise ProtocolError(f"неизвестный тег {tag[:20]!r}") from None
        try:
            return method(depth, *args)
        except TypeError as error:  # wrong number of fields
            raise ProtocolError(f"неверный элемент {tag[:20]!r}: {error}") from None

    def _items(self, items, depth):
        if type(items) is not list:
            raise ProtocolError("ожидался список элементов")
        return [self.read(item, depth + 1) for item in items]

    def read_float(self, depth, text):
        if text not in ("nan", "inf", "-inf"):
            raise ProtocolError("неверное особое число")
        return float(text)

    def read_list(self, depth, items):
        return self._items(items, depth)

    def read_tuple(self, depth, items):
        return tuple(self._items(items, depth))

    def read_set(self, depth, items):
        try:
            return set(self._items(items, depth))
        except TypeError:
            raise ProtocolError("элемент множества нехешируемый") from None

    def read_frozenset(self, depth, items):
        return frozenset(self.read_set(depth, items))

    def read_dict(self, depth, pairs):
        if type(pairs) is not list or not all(type(pair) is list and len(pair) == 2 for pair in pairs):
            raise ProtocolError("неверный словарь")
        try:
            return {self.read(k, depth + 1): self.read(v, depth + 1) for k, v in pairs}
        except TypeError:
            raise ProtocolError("ключ словаря нехешируемый") from None

    def read_bytes(self, depth, index):
        return self.buffer(index)

    def read_complex(self, depth, real, imag):
        if type(real) is not float and type(real) is not int or type(imag) is not float and type(imag) is not int:
            raise ProtocolError("неверное комплексное число")
        return complex(real, imag)

    def read_slice(self, depth, start, stop, step):
        return slice(*(self.read(part, depth + 1) for part in (start, stop, step)))

    def read_np_dtype(self, depth, text):
        import numpy as np

        return np.dtype(checked_dtype(text))

    def read_torch_dtype(self, depth, name):
        import torch

        if name not in _TORCH_DTYPES:
            raise ProtocolError("неизвестный тип тензора")
        return getattr(torch, name)

    def read_np_scalar(self, depth, dtype, index):
        import numpy as np

        data = self.buffer(index)
        dtype = np.dtype(checked_dtype(dtype))
        if len(data) != dtype.itemsize:
            raise ProtocolError("размер числа не совпадает с его типом")
        return np.frombuffer(data, dtype=dtype)[0]

    def read_array(self, depth, dtype, shape, index, mirror, writeable, strides=None):
        return new_array(dtype, shape, self.buffer(index), writeable, strides)

    def read_tensor(self, depth, dtype, shape, index, mirror, requires_grad, graph, strides=None):
        return new_tensor(dtype, shape, self.buffer(index), requires_grad, strides)

    def read_generator(self, depth, state, mirror):
        return new_generator(Reader([]).read(state))  # a plain dict: no list or dict of an argument

    def read_ref(self, depth, mirror):
        raise ProtocolError("ссылка на объект, которого нет")

    def read_view(self, depth, mirror, offset, shape, strides, dtype, index):
        return new_array(dtype, shape, self.buffer(index), True)

    def read_handle(self, depth, handle, type_name):
        raise ProtocolError("объект другого процесса здесь не ожидается")


_TAG_NAMES = {"f": "float", "L": "list", "T": "tuple", "S": "set", "F": "frozenset", "D": "dict", "B": "bytes",
              "C": "complex", "sl": "slice", "nd": "np_dtype", "td": "torch_dtype", "a": "np_scalar",
              "A": "array", "X": "tensor", "G": "generator", "R": "ref", "V": "view", "H": "handle"}


def torch_types():
    """(torch.Tensor, torch.dtype) once torch is imported, else nothing: isinstance then says no.

    Importing torch just to ask would cost seconds in every assignment that does not use it.
    """
    torch = sys.modules.get("torch")
    return (torch.Tensor, torch.dtype) if torch is not None else ((), ())


def checked_dtype(text):
    if type(text) is not str or not _DTYPE.match(text):
        raise ProtocolError(f"недопустимый тип элементов {str(text)[:20]!r}")
    return text


def checked_shape(shape, itemsize, size):
    if type(shape) is not list or len(shape) > 32 or not all(type(n) is int and n >= 0 for n in shape):
        raise ProtocolError("неверная форма массива")
    if math.prod(shape) * itemsize != size:
        raise ProtocolError("размер данных не совпадает с формой массива")
    return tuple(shape)


def _dense_order(shape, strides):
    """The axes from the slowest to the fastest when ``strides`` lay the elements out densely, else None.

    A transposed or permuted array is dense in another order: rebuilt so, ``.view()`` and
    ``.reshape()`` behave on the other side as on this one. A sliced one with gaps is sent
    contiguous (its copy would not share the gaps anyway).
    """
    if type(strides) is not list or len(strides) != len(shape) or not all(type(s) is int for s in strides):
        return None
    order = sorted(range(len(shape)), key=lambda axis: -strides[axis])
    expected = 1
    for axis in reversed(order):
        if shape[axis] > 1 and strides[axis] != expected:
            return None
        expected *= shape[axis]
    return order if order != sorted(order) else None


def _non_overlapping(shape, strides):
    """Whether ``strides`` (non-negative, element units) never reach one element twice, gaps allowed."""
    if type(strides) is not list or len(strides) != len(shape) or not all(type(s) is int and s >= 0 for s in strides):
        return False
    reach = 1
    for axis in sorted(range(len(shape)), key=lambda axis: strides[axis]):
        if shape[axis] > 1:
            if strides[axis] < reach:
                return False
            reach = strides[axis] * shape[axis]
    return True


def _inverse(order):
    return sorted(range(len(order)), key=lambda axis: order[axis])


def new_array(dtype, shape, data, writeable=True, strides=None):
    import numpy as np

    dtype = np.dtype(checked_dtype(dtype))
    shape = checked_shape(shape, dtype.itemsize, len(data))
    # An array that owns its memory: a view of it has it as its base, so views stay recognisable.
    array = np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    order = _dense_order(list(shape), strides)
    if order is not None:
        array = array.transpose(order).copy().transpose(_inverse(order))
    array.flags.writeable = bool(writeable)
    return array


def array_fields(array):
    """dtype, shape, bytes (C order) and element strides of an array, for ``["A", ...]``."""
    import numpy as np

    strides = [s // array.itemsize for s in array.strides] if array.itemsize else None
    array = np.ascontiguousarray(array)
    if array.dtype.kind not in "biufcUS" or array.dtype.fields is not None or array.dtype.subdtype is not None:
        raise Unsupported(f"массив с элементами типа {array.dtype} нельзя передать между процессами")
    return array.dtype.str, list(array.shape), array.tobytes(), strides


def tensor_fields(tensor):
    """dtype name, shape and bytes of a tensor's values (detached, on the CPU)."""
    import torch

    name = str(tensor.dtype).removeprefix("torch.")
    if name not in _TORCH_DTYPES:
        raise Unsupported(f"тензор типа {name} нельзя передать между процессами")
    values = tensor.detach().cpu().contiguous()
    if name == "bfloat16":
        values = values.view(torch.int16)
    return name, list(tensor.shape), values.numpy().tobytes(), list(tensor.stride())


def new_tensor(name, shape, data, requires_grad=False, strides=None):
    import numpy as np
    import torch

    if name not in _TORCH_DTYPES:
        raise ProtocolError("неизвестный тип тензора")
    numpy_name = {"bfloat16": "int16", "bool": "bool_"}.get(name, name)
    dtype = np.dtype(getattr(np, numpy_name))
    shape = checked_shape(shape, dtype.itemsize, len(data))
    values = torch.from_numpy(np.frombuffer(bytearray(data), dtype=dtype).reshape(shape).copy())
    if name == "bfloat16":
        values = values.view(torch.bfloat16)
    if strides is not None and list(strides) != list(values.stride()) and _non_overlapping(list(shape), strides):
        # The same layout as the original, gaps of a sliced view included: .view() fails where it failed there.
        laid_out = torch.empty_strided(tuple(shape), tuple(strides), dtype=values.dtype)
        laid_out.copy_(values)
        values = laid_out
    if requires_grad is True:
        if not values.is_floating_point() and not values.is_complex():
            raise ProtocolError("градиент у целочисленного тензора")
        values.requires_grad_(True)
    return values


def generator_state(generator):
    return generator.bit_generator.state


def new_generator(state):
    import numpy as np

    if not isinstance(state, dict) or state.get("bit_generator") not in _BIT_GENERATORS:
        raise ProtocolError("неизвестный генератор случайных чисел")
    bit_generator = getattr(np.random, state["bit_generator"])()
    try:
        bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError) as error:
        raise ProtocolError(f"неверное состояние генератора: {error}") from None
    return np.random.Generator(bit_generator)


def set_generator_state(generator, state):
    try:
        generator.bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError) as error:
        raise ProtocolError(f"неверное состояние генератора: {error}") from None


class RemoteError(Exception):
    """Base of the exceptions that the student's code raised, as the tests' process sees them."""
