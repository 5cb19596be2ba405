"""Wrong solutions of assignment 00 that a student could plausibly write; each must lose points."""

MUTANTS = [
    ("relu", "returns the boolean mask", '''
def relu(x):
    return x > 0
'''),
    ("relu", "zeroes negatives in place", '''
def relu(x):
    x[x < 0] = 0
    return x
'''),
    ("relu", "np.max instead of np.maximum (reduces an axis)", '''
def relu(x):
    return np.max(x, 0)
'''),
    ("relu", "leaky relu", '''
def relu(x):
    return np.where(x > 0, x, 0.01 * x)
'''),
    ("relu", "casts to int", '''
def relu(x):
    return np.maximum(x, 0).astype(int)
'''),
    ("dense_forward", "forgets the bias", '''
def dense_forward(x, W, b):
    return x @ W
'''),
    ("dense_forward", "transposes W", '''
def dense_forward(x, W, b):
    return x @ W.T + b
'''),
    ("dense_forward", "adds the bias along the batch axis", '''
def dense_forward(x, W, b):
    return x @ W + b[:, None]
'''),
    ("dense_forward", "applies relu inside the layer", '''
def dense_forward(x, W, b):
    return np.maximum(x @ W + b, 0)
'''),
    ("dense_forward", "multiplies by the bias instead of adding it", '''
def dense_forward(x, W, b):
    return x @ W * b
'''),
    ("rnn_cell", "swaps the matrices", '''
def rnn_cell(x, h, W_xh, W_hh, b):
    return np.tanh(x @ W_hh + h @ W_xh + b)
'''),
    ("rnn_cell", "no tanh", '''
def rnn_cell(x, h, W_xh, W_hh, b):
    return x @ W_xh + h @ W_hh + b
'''),
    ("rnn_cell", "no bias", '''
def rnn_cell(x, h, W_xh, W_hh, b):
    return np.tanh(x @ W_xh + h @ W_hh)
'''),
    ("rnn_cell", "bias added after tanh", '''
def rnn_cell(x, h, W_xh, W_hh, b):
    return np.tanh(x @ W_xh + h @ W_hh) + b
'''),
    ("rnn_cell", "sigmoid instead of tanh", '''
def rnn_cell(x, h, W_xh, W_hh, b):
    return 1 / (1 + np.exp(-(x @ W_xh + h @ W_hh + b)))
'''),
    ("rnn_cell", "transposed recurrent matrix", '''
def rnn_cell(x, h, W_xh, W_hh, b):
    return np.tanh(x @ W_xh + h @ W_hh.T + b)
'''),
    ("rnn_forward", "includes h0 in the output", '''
def rnn_forward(xs, h0, W_xh, W_hh, b):
    states = [h0]
    for x in xs:
        states.append(rnn_cell(x, states[-1], W_xh, W_hh, b))
    return np.stack(states)
'''),
    ("rnn_forward", "does not carry the state (h0 at every step)", '''
def rnn_forward(xs, h0, W_xh, W_hh, b):
    return np.stack([rnn_cell(x, h0, W_xh, W_hh, b) for x in xs])
'''),
    ("rnn_forward", "returns only the last state", '''
def rnn_forward(xs, h0, W_xh, W_hh, b):
    h = h0
    for x in xs:
        h = rnn_cell(x, h, W_xh, W_hh, b)
    return h
'''),
    ("rnn_forward", "stacks along the batch axis", '''
def rnn_forward(xs, h0, W_xh, W_hh, b):
    states, h = [], h0
    for x in xs:
        h = rnn_cell(x, h, W_xh, W_hh, b)
        states.append(h)
    return np.stack(states, axis=1)
'''),
    ("rnn_forward", "drops the last step", '''
def rnn_forward(xs, h0, W_xh, W_hh, b):
    states, h = [h0], h0
    for x in xs[:-1]:
        h = rnn_cell(x, h, W_xh, W_hh, b)
        states.append(h)
    return np.stack(states)
'''),
    ("rnn_forward", "updates h0 in place and stores the same buffer", '''
def rnn_forward(xs, h0, W_xh, W_hh, b):
    out = np.empty((len(xs),) + h0.shape)
    h = h0
    for t, x in enumerate(xs):
        h[...] = rnn_cell(x, h, W_xh, W_hh, b)
        out[t] = h
    return out
'''),
]
