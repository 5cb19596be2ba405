"""The boundary between the student's process and the tests': plain data, and calls that keep their contracts.

The student's side (``autograder.student_side.Server``) runs in a thread here, over the same
pipes the sandbox uses, so each contract is checked exactly as it crosses in grading.
"""

import os
import threading

import numpy as np
import pytest
import torch

from autograder import protocol, proxies, student_side


@pytest.fixture
def remote():
    request_r, request_w = os.pipe()
    reply_r, reply_w = os.pipe()
    namespace = {}
    server = student_side.Server(namespace, None, {}, {})
    thread = threading.Thread(target=server.serve, args=(request_r, reply_w), daemon=True)
    thread.start()
    channel = proxies.Remote(reply_r, request_w)
    channel.namespace = namespace
    yield channel
    os.close(request_w)
    thread.join(timeout=10)
    for fd in (request_r, reply_r, reply_w):
        os.close(fd)


def student(remote, source):
    """Define the student's code on their side; return proxies of its functions."""
    exec(source, remote.namespace)  # noqa: S102 - the fixture's own code, standing for a student's
    return {name: proxies.RemoteName(remote, name) for name, value in remote.namespace.items() if callable(value)}


def test_values_cross_by_value_and_keep_their_types(remote):
    echo = student(remote, "def echo(x):\n    return x\n")["echo"]
    values = [None, True, 3, -0.5, float("inf"), "строка", b"\x00\xff", 2 + 3j, [1, [2]], (1, 2), {"a": (1,)},
              {1, 2}, frozenset({3}), np.float32(1.5), np.int64(7), slice(1, None, 2), np.dtype("float32"),
              torch.float64]
    for value in values:
        back = echo(value)
        assert back == value and type(back) is type(value), value
    array = np.arange(12, dtype=np.int16).reshape(3, 4)
    assert echo(array) is array  # the same object comes back, not a copy
    copy = student(remote, "import numpy as np\ndef copy(x):\n    return np.array(x)\n")["copy"](array)
    assert copy is not array and copy.dtype == np.int16 and np.array_equal(copy, array)
    tensor = torch.arange(6, dtype=torch.bfloat16).reshape(2, 3)
    assert echo(tensor) is tensor


def test_in_place_changes_and_replaced_list_items_come_back(remote):
    fns = student(remote, "import numpy as np\n"
                          "def step(params, grads):\n    for p, g in zip(params, grads):\n        p -= 0.5 * g\n"
                          "def replace(params):\n    params[0] = params[0] * 2\n    params.append(1)\n")
    p, g = np.ones(3), np.full(3, 2.0)
    handed = [p]
    fns["step"](handed, [g])
    assert handed[0] is p and np.array_equal(p, np.zeros(3)) and np.array_equal(g, np.full(3, 2.0))
    fns["replace"](handed)
    assert handed[0] is not p and len(handed) == 2 and handed[1] == 1


def test_state_kept_between_calls_aliases_the_callers_buffer(remote):
    fns = student(remote, "class Momentum:\n"
                          "    def __init__(self):\n        self.velocity = None\n"
                          "    def step(self, params, grads):\n"
                          "        if self.velocity is None:\n            self.velocity = grads  # the bug: no copy\n"
                          "        else:\n"
                          "            for v, g in zip(self.velocity, grads):\n"
                          "                v *= 0.9\n                v += g\n"
                          "        for p, v in zip(params, self.velocity):\n            p -= v\n")
    optimizer = fns["Momentum"]()
    p, g = np.zeros(2), np.ones(2)
    optimizer.step([p], [g])
    g[...] = 10.0  # refilled as PyTorch refills .grad: the aliased velocity changes too
    optimizer.step([p], [g])
    in_one_process = np.zeros(2)
    alias = np.ones(2)
    in_one_process -= alias
    alias[...] = 10.0
    alias *= 0.9
    alias += alias
    in_one_process -= alias
    assert np.allclose(p, in_one_process)
    assert np.array_equal(g, alias) and np.allclose(optimizer.velocity[0], alias)


def test_views_of_arguments_share_memory_with_the_original(remote):
    fns = student(remote, "def window(image):\n    return image[1:3, 2:]\n"
                          "def whole(image):\n    return image\n")
    image = np.arange(30.0).reshape(5, 6)
    view = fns["window"](image)
    assert np.shares_memory(view, image) and np.array_equal(view, image[1:3, 2:])
    view[...] = -1
    assert (image[1:3, 2:] == -1).all()
    assert fns["whole"](image) is image


def test_generator_state_follows_the_students_use(remote):
    fns = student(remote, "def draw(rng):\n    return rng.permutation(5)\n")
    rng, reference = np.random.default_rng(3), np.random.default_rng(3)
    assert np.array_equal(fns["draw"](rng), reference.permutation(5))
    assert rng.random() == reference.random()


def test_exceptions_come_back_as_the_nearest_builtin_type(remote):
    fns = student(remote, "class Mine(ValueError):\n    pass\n"
                          "def bad(x):\n    raise Mine('окно выходит за край')\n"
                          "def leave():\n    raise SystemExit(3)\n")
    with pytest.raises(ValueError, match="окно выходит за край") as caught:
        fns["bad"](1)
    assert isinstance(caught.value, protocol.RemoteError) and caught.value.student_type == "Mine"
    with pytest.raises(Exception) as caught:  # a student's sys.exit() cannot stop the tests
        fns["leave"]()
    assert not isinstance(caught.value, SystemExit)


def test_gradients_flow_back_through_the_students_function(remote):
    fns = student(remote, "import torch\ndef loss(x, w):\n    return ((x * w) ** 2).sum()\n"
                          "def detached(x):\n    return (x * 2).detach()\n")
    x = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    w = torch.tensor([0.5, 3.0], dtype=torch.float64)
    value = fns["loss"](x * 1.0, w)  # a non-leaf argument: the graph goes on to x
    assert value.requires_grad
    value.backward()
    assert torch.allclose(x.grad, 2 * x.detach() * w ** 2)
    assert not fns["detached"](x).requires_grad


def test_objects_stay_in_the_students_process(remote):
    fns = student(remote, "class Box:\n    def __init__(self, lr):\n        self.lr = lr\n"
                          "    def scaled(self, x):\n        return self.lr * x\n")
    box = fns["Box"](0.1)
    assert isinstance(box, proxies.RemoteObject) and box.lr == 0.1
    box.lr = 2.0  # a hyperparameter changed between calls
    assert box.scaled(3) == 6.0


def test_a_students_object_offers_the_tests_no_protocols(remote):
    fns = student(remote, "class Pointer:\n"
                          "    __array_interface__ = {'shape': (4,), 'typestr': '<f8', 'data': (8, True),"
                          " 'version': 3}\n"
                          "    def __repr__(self):\n        return '\\x1b[2J\\u202eclear'\n")
    pointer = fns["Pointer"]()
    with pytest.raises(AttributeError):
        pointer.__array_interface__  # noqa: B018 - the lookup NumPy makes
    try:
        as_array = np.asarray(pointer)
    except Exception:  # noqa: BLE001 - refusing is as good: only an array over this process's memory is not
        as_array = None
    assert as_array is None or as_array.dtype == object
    assert repr(pointer).isprintable()


def test_an_argument_reinterpreted_in_place_breaks_the_protocol(remote):
    fns = student(remote, "def reinterpret(y):\n    y.dtype = 'S8'\n    y[0] = b'LEAKED'\n")
    with pytest.raises(proxies.StudentGone) as gone:
        fns["reinterpret"](np.zeros(3))
    assert gone.value.protocol_broken


def test_a_view_reaching_past_its_original_is_a_copy():
    remote = proxies.Remote(-1, -1)
    base = np.zeros(16)[:8]  # what lies past its end is known, so a view there would be taken
    mirror, _ = remote.mirrors.id_of(base)
    reader = proxies.TrustedReader([np.zeros((2, 2)).tobytes()], remote)
    # Each axis alone stays inside the 64 bytes of the original; both together end at byte 80.
    view = reader.read_view(0, mirror, 0, [2, 2], [40, 32], "<f8", 0)
    assert not np.shares_memory(view, base)
    inside = reader.read_view(0, mirror, 8, [2, 2], [32, 8], "<f8", 0)
    assert np.shares_memory(inside, base)


def test_the_reader_refuses_what_is_not_plain_data():
    reader = protocol.Reader([b"\x00" * 8])
    for tree in [["A", "|O8", [1], 0, None, True], ["A", "<f8", [2], 0, None, True], ["Z"], ["D", [[["L", []], 1]]],
                 ["A", "<f8", [-1], 0, None, True], ["R", 1], ["H", 1, "x"], {"not": "a list"}, ["B", 5],
                 ["G", ["D", [["bit_generator", "Evil"]]], None]]:
        with pytest.raises(protocol.ProtocolError):
            reader.read(tree)
    deep = 1
    for _ in range(200):
        deep = ["L", [deep]]
    with pytest.raises(protocol.ProtocolError):
        protocol.Reader([]).read(deep)
    with pytest.raises(protocol.Unsupported):
        protocol.Writer().write(lambda: 1)


def test_layouts_cross_as_they_are(remote):
    fns = student(remote, "def flat_view(x):\n    return x.view(-1)\n"
                          "def flags(a):\n    return (a.flags.c_contiguous, a.flags.f_contiguous)\n"
                          "def transposed(x):\n    return x.t()\n")
    permuted = torch.arange(6.0).reshape(2, 3).t()
    with pytest.raises(RuntimeError):  # .view() of a permuted tensor fails in one process too
        fns["flat_view"](permuted)
    assert fns["flat_view"](torch.arange(6.0)).shape == (6,)
    assert fns["flags"](np.arange(6.0).reshape(2, 3).T) == (False, True)
    assert not fns["transposed"](torch.zeros(2, 3)).is_contiguous()
    sliced = torch.arange(24.0).reshape(2, 3, 4)[:, :, :3]  # gaps between rows
    with pytest.raises(RuntimeError):
        fns["flat_view"](sliced)
