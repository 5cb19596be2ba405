"""A multilayer perceptron written out in NumPy, and a drawing of its neurons and weights.

Chapter 00 computes a small network by hand with :func:`mlp_forward` and checks it against
``torch.nn``; :func:`softmax` and :func:`cross_entropy` are the output layer and the loss
that the chapters' classifiers use; :func:`draw_network` draws layers as columns of circles.
"""

import numpy as np
from matplotlib.patches import Circle

ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "linear": lambda z: z,
}


def mlp_forward(x, weights, biases, activation="relu"):
    """The outputs of every layer of a perceptron on inputs ``x`` (one row per object).

    ``weights[i]`` has shape (outputs, inputs), as ``torch.nn.Linear.weight``; hidden layers
    apply ``activation`` (a name from ``ACTIVATIONS``), the last layer stays linear (logits).
    Returns the list ``[x, h1, ..., logits]``.
    """
    if len(weights) != len(biases):
        raise ValueError(f"{len(weights)} weight matrices but {len(biases)} bias vectors")
    f = ACTIVATIONS[activation]
    outputs = [np.asarray(x, dtype=float)]
    for i, (W, b) in enumerate(zip(weights, biases)):
        z = outputs[-1] @ np.asarray(W).T + np.asarray(b)
        outputs.append(z if i == len(weights) - 1 else f(z))
    return outputs


def softmax(logits):
    """Probabilities from logits along the last axis; the maximum is subtracted so exp never overflows."""
    z = np.asarray(logits, dtype=float)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def cross_entropy(logits, labels):
    """Mean of ``-log p(true class)`` over the rows, computed from logits via log-sum-exp."""
    z = np.asarray(logits, dtype=float)
    z = z - z.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return float(-log_p[np.arange(len(z)), np.asarray(labels)].mean())


def draw_network(ax, sizes, names=None, weights=None):
    """Draw a perceptron with layer ``sizes`` on ``ax``: a column of neurons per layer, a line per weight.

    With ``weights`` (as for :func:`mlp_forward`) a line's width and colour show the weight's
    size and sign. ``names`` label the columns. Returns the number of neurons and of lines drawn.
    """
    if weights is not None and [np.shape(W) for W in weights] != list(zip(sizes[1:], sizes[:-1])):
        raise ValueError(f"weights of shapes {[np.shape(W) for W in weights]} do not fit layers {sizes}")
    top, gap = max(sizes), 2.0  # columns two neuron-steps apart leave room for their names
    centres = [[(gap * layer, (n - 1) / 2 - k) for k in range(n)]
               for layer, n in enumerate(sizes)]
    lines = 0
    for layer in range(len(sizes) - 1):
        scale = 1.0 if weights is None else np.abs(weights[layer]).max() or 1.0
        for j, (x1, y1) in enumerate(centres[layer + 1]):
            for i, (x0, y0) in enumerate(centres[layer]):
                w = 0.5 if weights is None else weights[layer][j][i]
                ax.plot([x0, x1], [y0, y1], color="tab:red" if w < 0 else "tab:blue",
                        linewidth=0.3 + 2.5 * abs(w) / scale, alpha=0.6, zorder=1)
                lines += 1
    for layer, column in enumerate(centres):
        for x, y in column:
            ax.add_patch(Circle((x, y), 0.18, facecolor="white", edgecolor="black", zorder=2))
        if names is not None:
            ax.text(gap * layer, (top - 1) / 2 + 0.5, names[layer], ha="center", va="bottom")
    ax.set_xlim(-0.5, gap * (len(sizes) - 1) + 0.5)
    ax.set_ylim(-(top - 1) / 2 - 0.5, (top - 1) / 2 + 1.0)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return sum(sizes), lines
