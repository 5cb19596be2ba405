"""A scalar reverse-mode autodiff engine, small enough to read in one sitting.

Each `Value` remembers the values it was computed from and how to pass a gradient back to
them; `backward()` walks the graph in reverse topological order and applies the chain rule.
Chapter 05 uses it to show what `loss.backward()` in torch does; tests check it against
`torch.autograd`.
"""

import math


class Value:
    """A number in a computational graph, with the gradient of the output with respect to it."""

    def __init__(self, data, children=(), op="", label=""):
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None  # passes self.grad on to the children
        self._children = tuple(children)
        self.op = op  # the operation that produced this node, for drawing the graph
        self.label = label

    def __repr__(self):
        name = f"{self.label}=" if self.label else ""
        return f"Value({name}{self.data:.6g}, grad={self.grad:.6g})"

    @staticmethod
    def _lift(other):
        return other if isinstance(other, Value) else Value(other)

    def __add__(self, other):
        other = self._lift(other)
        out = Value(self.data + other.data, (self, other), "+")

        def backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = backward
        return out

    def __mul__(self, other):
        other = self._lift(other)
        out = Value(self.data * other.data, (self, other), "*")

        def backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = backward
        return out

    def __pow__(self, exponent):
        if not isinstance(exponent, (int, float)):
            raise TypeError("степень должна быть обычным числом (int или float)")
        out = Value(self.data**exponent, (self,), f"^{exponent}")

        def backward():
            self.grad += exponent * self.data ** (exponent - 1) * out.grad

        out._backward = backward
        return out

    def _unary(self, data, local_derivative, op):
        out = Value(data, (self,), op)

        def backward():
            self.grad += local_derivative * out.grad

        out._backward = backward
        return out

    def relu(self):
        return self._unary(max(self.data, 0.0), float(self.data > 0), "relu")

    def tanh(self):
        t = math.tanh(self.data)
        return self._unary(t, 1 - t * t, "tanh")

    def sigmoid(self):
        s = 1 / (1 + math.exp(-self.data))
        return self._unary(s, s * (1 - s), "sigmoid")

    def exp(self):
        e = math.exp(self.data)
        return self._unary(e, e, "exp")

    def __sub__(self, other):
        # Its own node rather than a + (-1 · b): the graph stays as the formula is written.
        other = self._lift(other)
        out = Value(self.data - other.data, (self, other), "−")

        def backward():
            self.grad += out.grad
            other.grad -= out.grad

        out._backward = backward
        return out

    def __neg__(self):
        return self * -1

    def __truediv__(self, other):
        return self * self._lift(other) ** -1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return self._lift(other) - self

    def __rtruediv__(self, other):
        return self._lift(other) / self

    def graph(self):
        """Every node this value depends on, each after its children (topological order)."""
        # Iterative depth-first search: a long sum is a deep chain that recursion would not survive.
        order, seen, stack = [], {id(self)}, [(self, iter(self._children))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                order.append(node)
            elif id(child) not in seen:
                seen.add(id(child))
                stack.append((child, iter(child._children)))
        return order

    def backward(self):
        """Fill `grad` of every node in the graph with d(self)/d(node)."""
        order = self.graph()
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            node._backward()
