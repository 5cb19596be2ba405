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
    ("relu", "float64 whatever the input (float32 comes back float64)", '''
def relu(x):
    return np.maximum(np.asarray(x, dtype=np.float64), 0.0)
'''),
    ("relu", "returns x itself when nothing is negative", '''
def relu(x):
    if (x >= 0).all():
        return x
    return np.maximum(x, 0.0)
'''),
    ("relu", "element by element through Python floats", '''
def relu(x):
    return np.array([max(v, 0.0) for v in x.ravel()]).reshape(x.shape)
'''),
    ("dense_forward", "bias added to the first row only (a loop over K)", '''
def dense_forward(x, W, b):
    out = x @ W
    out[0] += b
    return out
'''),
]

# Correct answers written differently: each must keep full marks.
ALTERNATIVES = [
    ("relu", "multiplies by the mask", '''
def relu(x):
    return x * (x > 0)
'''),
    ("relu", "np.where with an integer zero", '''
def relu(x):
    return np.where(x > 0, x, 0)
'''),
    ("relu", "np.clip on a copy", '''
def relu(x):
    out = x.copy()
    np.clip(out, 0, None, out=out)
    return out
'''),
    ("dense_forward", "np.dot and a broadcast bias row", '''
def dense_forward(x, W, b):
    return np.dot(x, W) + b.reshape(1, -1)
'''),
    ("rnn_cell", "np.dot in another order", '''
def rnn_cell(x, h, W_xh, W_hh, b):
    return np.tanh(b + np.dot(h, W_hh) + np.dot(x, W_xh))
'''),
    ("rnn_forward", "preallocated output", '''
def rnn_forward(xs, h0, W_xh, W_hh, b):
    out = np.empty((xs.shape[0], h0.shape[0], W_hh.shape[0]))
    h = h0
    for t in range(xs.shape[0]):
        h = rnn_cell(xs[t], h, W_xh, W_hh, b)
        out[t] = h
    return out
'''),
]
