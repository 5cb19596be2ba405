"""dlcourse.autograd against torch.autograd on the same expressions."""

import math

import numpy as np
import pytest
import torch

from dlcourse.autograd import Value


def both(fn, *inputs):
    """Run fn on Values and on float64 tensors; return (our value, our grads, torch's)."""
    ours = [Value(x) for x in inputs]
    out = fn(*ours)
    out.backward()
    theirs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    reference = fn(*theirs)
    reference.backward()
    return out, ours, reference, theirs


def assert_matches(out, ours, reference, theirs):
    assert out.data == pytest.approx(reference.item(), rel=1e-12, abs=1e-12)
    for mine, torch_leaf in zip(ours, theirs):
        assert mine.grad == pytest.approx(torch_leaf.grad.item(), rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("fn", [
    lambda a, b: a * b + b,
    lambda a, b: a - b / a,
    lambda a, b: (a * b) ** 2 - 3 * a,
    lambda a, b: 2 / a + 1 - b,
    lambda a, b: (a * 2 + b).tanh() * a,
    lambda a, b: (a - b).relu() + (b - a).relu() * 0.5,
    lambda a, b: (a * b).sigmoid() + (a + b).exp(),
    lambda a, b: a * a * a - b,  # a used three times: gradients must accumulate
], ids=["mul-add", "div", "pow", "rdiv", "tanh", "relu", "sigmoid-exp", "reuse"])
def test_scalar_expressions_match_torch(fn):
    assert_matches(*both(fn, 1.3, -0.7))


def test_mse_of_a_line_matches_torch():
    rng = np.random.default_rng(0)
    xs, ys = rng.normal(size=20), rng.normal(size=20)

    def loss(w, b):
        total = 0
        for x, y in zip(xs, ys):
            total = total + (w * float(x) + b - float(y)) ** 2
        return total / len(xs)

    assert_matches(*both(loss, 0.4, -0.2))


def test_two_layer_network_matches_torch():
    rng = np.random.default_rng(1)
    x, W1, b1, W2, b2 = (rng.normal(size=s) for s in [(3,), (4, 3), (4,), (4,), ()])
    ours = {name: [Value(v) for v in np.ravel(a)] for name, a in
            [("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)]}
    hidden = [sum((ours["W1"][i * 3 + j] * float(x[j]) for j in range(3)), ours["b1"][i]).tanh()
              for i in range(4)]
    out = sum((ours["W2"][i] * hidden[i] for i in range(4)), ours["b2"][0])
    loss = (out - 0.5) ** 2
    loss.backward()

    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
               for k, v in [("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)]}
    h = torch.tanh(tensors["W1"] @ torch.tensor(x) + tensors["b1"])
    reference = (tensors["W2"] @ h + tensors["b2"] - 0.5) ** 2
    reference.backward()
    assert loss.data == pytest.approx(reference.item(), rel=1e-12)
    for name, values in ours.items():
        np.testing.assert_allclose([v.grad for v in values], tensors[name].grad.numpy().ravel(),
                                   rtol=1e-10, atol=1e-12)


def test_long_chain_does_not_hit_the_recursion_limit():
    w = Value(0.5)
    total = Value(0.0)
    for _ in range(5000):
        total = total + w
    total.backward()
    assert w.grad == 5000


def test_backward_twice_gives_the_same_gradients():
    a, b = Value(2.0), Value(-1.0)
    out = (a * b + a).tanh()
    out.backward()
    first = (a.grad, b.grad)
    out.backward()
    assert (a.grad, b.grad) == first
    assert first[0] == pytest.approx((1 - math.tanh(-2 + 2) ** 2) * (b.data + 1))


def test_graph_lists_children_before_parents():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    c = a * b
    d = c + a
    order = d.graph()
    assert order[-1] is d
    assert order.index(c) > order.index(a) and order.index(c) > order.index(b)
    assert {node.op for node in order} == {"", "*", "+"}


def test_power_must_be_a_plain_number():
    with pytest.raises(TypeError, match="степень"):
        Value(2.0) ** Value(3.0)
