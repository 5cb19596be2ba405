"""Typical wrong answers for 05_gradient_descent; see tests/mutants/__init__.py."""

MUTANTS = [
    ("gd_step", "steps along the gradient (plus sign)", """
def gd_step(w, grad, lr):
    return w + lr * grad
"""),
    ("gd_step", "updates w in place", """
def gd_step(w, grad, lr):
    w -= lr * grad
    return w
"""),
    ("gd_step", "forgets the learning rate", """
def gd_step(w, grad, lr):
    return w - grad
"""),
    ("gd_step", "scales grad in place", """
def gd_step(w, grad, lr):
    grad *= lr
    return w - grad
"""),
    ("gd_step", "computes the step but returns nothing", """
def gd_step(w, grad, lr):
    w = w - lr * grad
"""),
    ("mse", "sum instead of mean", """
def mse(y_true, y_pred):
    return float(np.sum((y_true - y_pred) ** 2))
"""),
    ("mse", "root of the mean square (RMSE)", """
def mse(y_true, y_pred):
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))
"""),
    ("mse", "mean absolute error", """
def mse(y_true, y_pred):
    return float(np.mean(np.abs(y_true - y_pred)))
"""),
    ("mse", "square of the mean error", """
def mse(y_true, y_pred):
    return float(np.mean(y_true - y_pred) ** 2)
"""),
    ("mse", "half of the MSE", """
def mse(y_true, y_pred):
    return float(np.mean((y_true - y_pred) ** 2) / 2)
"""),
    ("mse", "divides by n - 1", """
def mse(y_true, y_pred):
    return float(np.sum((y_true - y_pred) ** 2) / (len(y_true) - 1))
"""),
    ("mse", "returns the squared errors, not their mean", """
def mse(y_true, y_pred):
    return (y_true - y_pred) ** 2
"""),
    ("linear_regression_gradients", "sign flipped", """
def linear_regression_gradients(X, y, w, b):
    error = y - (X @ w + b)
    n = len(y)
    return 2.0 / n * (X.T @ error), 2.0 / n * float(np.sum(error))
"""),
    ("linear_regression_gradients", "factor 2 missing", """
def linear_regression_gradients(X, y, w, b):
    error = y - (X @ w + b)
    n = len(y)
    return -1.0 / n * (X.T @ error), -1.0 / n * float(np.sum(error))
"""),
    ("linear_regression_gradients", "sum instead of mean", """
def linear_regression_gradients(X, y, w, b):
    error = y - (X @ w + b)
    return -2.0 * (X.T @ error), -2.0 * float(np.sum(error))
"""),
    ("linear_regression_gradients", "bias left out of the prediction", """
def linear_regression_gradients(X, y, w, b):
    error = y - X @ w
    n = len(y)
    return -2.0 / n * (X.T @ error), -2.0 / n * float(np.sum(error))
"""),
    ("linear_regression_gradients", "divides by the number of features", """
def linear_regression_gradients(X, y, w, b):
    error = y - (X @ w + b)
    n = X.shape[1]
    return -2.0 / n * (X.T @ error), -2.0 / n * float(np.sum(error))
"""),
    ("linear_regression_gradients", "one scalar dw for all features", """
def linear_regression_gradients(X, y, w, b):
    error = y - (X @ w + b)
    return -2 * np.mean(X * error[:, None]), -2 * np.mean(error)
"""),
    ("linear_regression_gradients", "db as an array of shape (1,)", """
def linear_regression_gradients(X, y, w, b):
    error = y - (X @ w + b)
    n = len(y)
    return -2.0 / n * (X.T @ error), -2.0 / n * np.sum(error, keepdims=True)
"""),
    ("linear_regression_gradients", "overwrites y with the residuals", """
def linear_regression_gradients(X, y, w, b):
    y -= X @ w + b
    n = len(y)
    return -2.0 / n * (X.T @ y), -2.0 / n * float(np.sum(y))
"""),
    ("minibatch_indices", "no shuffling", """
def minibatch_indices(n, batch_size, rng):
    order = np.arange(n)
    return [order[start:start + batch_size] for start in range(0, n, batch_size)]
"""),
    ("minibatch_indices", "drops the short last chunk", """
def minibatch_indices(n, batch_size, rng):
    order = rng.permutation(n)
    return [order[start:start + batch_size] for start in range(0, n - batch_size + 1, batch_size)]
"""),
    ("minibatch_indices", "np.array_split into equal-ish chunks", """
def minibatch_indices(n, batch_size, rng):
    return list(np.array_split(rng.permutation(n), int(np.ceil(n / batch_size))))
"""),
    ("minibatch_indices", "global NumPy generator instead of rng", """
def minibatch_indices(n, batch_size, rng):
    order = np.random.permutation(n)
    return [order[start:start + batch_size] for start in range(0, n, batch_size)]
"""),
    ("minibatch_indices", "samples with replacement", """
def minibatch_indices(n, batch_size, rng):
    order = rng.integers(0, n, size=n)
    return [order[start:start + batch_size] for start in range(0, n, batch_size)]
"""),
    ("minibatch_indices", "an empty extra chunk when batch_size divides n", """
def minibatch_indices(n, batch_size, rng):
    order = rng.permutation(n)
    return [order[i * batch_size:(i + 1) * batch_size] for i in range(n // batch_size + 1)]
"""),
    ("minibatch_indices", "a new permutation for every chunk", """
def minibatch_indices(n, batch_size, rng):
    return [rng.permutation(n)[start:start + batch_size] for start in range(0, n, batch_size)]
"""),
    ("minibatch_indices", "returns a generator", """
def minibatch_indices(n, batch_size, rng):
    order = rng.permutation(n)
    return (order[start:start + batch_size] for start in range(0, n, batch_size))
"""),
    ("fit_linear_regression", "batch_size=None runs SGD", """
def fit_linear_regression(X, y, lr, epochs, batch_size=None, seed=0):
    n, d = X.shape
    w, b, losses = np.zeros(d), 0.0, []
    rng = np.random.default_rng(seed)
    size = 1 if batch_size is None else batch_size
    for _ in range(epochs):
        for batch in minibatch_indices(n, size, rng):
            dw, db = linear_regression_gradients(X[batch], y[batch], w, b)
            w, b = gd_step(w, dw, lr), gd_step(b, db, lr)
        losses.append(mse(y, X @ w + b))
    return w, b, losses
"""),
    ("fit_linear_regression", "a new generator every epoch", """
def fit_linear_regression(X, y, lr, epochs, batch_size=None, seed=0):
    n, d = X.shape
    w, b, losses = np.zeros(d), 0.0, []
    size = n if batch_size is None else batch_size
    for _ in range(epochs):
        rng = np.random.default_rng(seed)
        for batch in minibatch_indices(n, size, rng):
            dw, db = linear_regression_gradients(X[batch], y[batch], w, b)
            w, b = gd_step(w, dw, lr), gd_step(b, db, lr)
        losses.append(mse(y, X @ w + b))
    return w, b, losses
"""),
    ("fit_linear_regression", "loss of the last batch instead of the whole data", """
def fit_linear_regression(X, y, lr, epochs, batch_size=None, seed=0):
    n, d = X.shape
    w, b, losses = np.zeros(d), 0.0, []
    rng = np.random.default_rng(seed)
    size = n if batch_size is None else batch_size
    for _ in range(epochs):
        for batch in minibatch_indices(n, size, rng):
            dw, db = linear_regression_gradients(X[batch], y[batch], w, b)
            w, b = gd_step(w, dw, lr), gd_step(b, db, lr)
        losses.append(mse(y[batch], X[batch] @ w + b))
    return w, b, losses
"""),
    ("fit_linear_regression", "db computed after w has moved", """
def fit_linear_regression(X, y, lr, epochs, batch_size=None, seed=0):
    n, d = X.shape
    w, b, losses = np.zeros(d), 0.0, []
    rng = np.random.default_rng(seed)
    size = n if batch_size is None else batch_size
    for _ in range(epochs):
        for batch in minibatch_indices(n, size, rng):
            dw, _ = linear_regression_gradients(X[batch], y[batch], w, b)
            w = gd_step(w, dw, lr)
            _, db = linear_regression_gradients(X[batch], y[batch], w, b)
            b = gd_step(b, db, lr)
        losses.append(mse(y, X @ w + b))
    return w, b, losses
"""),
    ("fit_linear_regression", "loss recorded before the epoch's updates", """
def fit_linear_regression(X, y, lr, epochs, batch_size=None, seed=0):
    n, d = X.shape
    w, b, losses = np.zeros(d), 0.0, []
    rng = np.random.default_rng(seed)
    size = n if batch_size is None else batch_size
    for _ in range(epochs):
        losses.append(mse(y, X @ w + b))
        for batch in minibatch_indices(n, size, rng):
            dw, db = linear_regression_gradients(X[batch], y[batch], w, b)
            w, b = gd_step(w, dw, lr), gd_step(b, db, lr)
    return w, b, losses
"""),
    ("fit_linear_regression", "wrong default seed", """
def fit_linear_regression(X, y, lr, epochs, batch_size=None, seed=42):
    n, d = X.shape
    w, b, losses = np.zeros(d), 0.0, []
    rng = np.random.default_rng(seed)
    size = n if batch_size is None else batch_size
    for _ in range(epochs):
        for batch in minibatch_indices(n, size, rng):
            dw, db = linear_regression_gradients(X[batch], y[batch], w, b)
            w, b = gd_step(w, dw, lr), gd_step(b, db, lr)
        losses.append(mse(y, X @ w + b))
    return w, b, losses
"""),
    ("fit_linear_regression", "only the first chunk of every epoch", """
def fit_linear_regression(X, y, lr, epochs, batch_size=None, seed=0):
    n, d = X.shape
    w, b, losses = np.zeros(d), 0.0, []
    rng = np.random.default_rng(seed)
    size = n if batch_size is None else batch_size
    for _ in range(epochs):
        batch = minibatch_indices(n, size, rng)[0]
        dw, db = linear_regression_gradients(X[batch], y[batch], w, b)
        w, b = gd_step(w, dw, lr), gd_step(b, db, lr)
        losses.append(mse(y, X @ w + b))
    return w, b, losses
"""),
    ("fit_linear_regression", "full-data gradient at every chunk", """
def fit_linear_regression(X, y, lr, epochs, batch_size=None, seed=0):
    n, d = X.shape
    w, b, losses = np.zeros(d), 0.0, []
    rng = np.random.default_rng(seed)
    size = n if batch_size is None else batch_size
    for _ in range(epochs):
        for batch in minibatch_indices(n, size, rng):
            dw, db = linear_regression_gradients(X, y, w, b)
            w, b = gd_step(w, dw, lr), gd_step(b, db, lr)
        losses.append(mse(y, X @ w + b))
    return w, b, losses
"""),
    ("fit_linear_regression", "random initial weights", """
def fit_linear_regression(X, y, lr, epochs, batch_size=None, seed=0):
    n, d = X.shape
    rng = np.random.default_rng(seed)
    w, b, losses = rng.normal(size=d), 0.0, []
    size = n if batch_size is None else batch_size
    for _ in range(epochs):
        for batch in minibatch_indices(n, size, rng):
            dw, db = linear_regression_gradients(X[batch], y[batch], w, b)
            w, b = gd_step(w, dw, lr), gd_step(b, db, lr)
        losses.append(mse(y, X @ w + b))
    return w, b, losses
"""),
    ("two_layer_backward", "forgets the sigmoid's derivative", """
def two_layer_backward(X, W1, b1, W2, b2, y):
    n = len(y)
    Z1 = X @ W1 + b1
    H = 1.0 / (1.0 + np.exp(-Z1))
    y_hat = H @ W2 + b2
    d_y_hat = 2.0 / n * (y_hat - y)
    d_Z1 = np.outer(d_y_hat, W2)
    return {"loss": float(np.mean((y_hat - y) ** 2)), "W1": X.T @ d_Z1, "b1": d_Z1.sum(axis=0),
            "W2": H.T @ d_y_hat, "b2": float(d_y_hat.sum())}
"""),
    ("two_layer_backward", "sigmoid derivative taken at the pre-activation", """
def two_layer_backward(X, W1, b1, W2, b2, y):
    n = len(y)
    Z1 = X @ W1 + b1
    H = 1.0 / (1.0 + np.exp(-Z1))
    y_hat = H @ W2 + b2
    d_y_hat = 2.0 / n * (y_hat - y)
    d_Z1 = np.outer(d_y_hat, W2) * Z1 * (1.0 - Z1)
    return {"loss": float(np.mean((y_hat - y) ** 2)), "W1": X.T @ d_Z1, "b1": d_Z1.sum(axis=0),
            "W2": H.T @ d_y_hat, "b2": float(d_y_hat.sum())}
"""),
    ("two_layer_backward", "sum of squares instead of the mean", """
def two_layer_backward(X, W1, b1, W2, b2, y):
    n = len(y)
    Z1 = X @ W1 + b1
    H = 1.0 / (1.0 + np.exp(-Z1))
    y_hat = H @ W2 + b2
    d_y_hat = 2.0 * (y_hat - y)
    d_Z1 = np.outer(d_y_hat, W2) * H * (1.0 - H)
    return {"loss": float(np.sum((y_hat - y) ** 2)), "W1": X.T @ d_Z1, "b1": d_Z1.sum(axis=0),
            "W2": H.T @ d_y_hat, "b2": float(d_y_hat.sum())}
"""),
    ("two_layer_backward", "factor 2 of the square missing", """
def two_layer_backward(X, W1, b1, W2, b2, y):
    n = len(y)
    Z1 = X @ W1 + b1
    H = 1.0 / (1.0 + np.exp(-Z1))
    y_hat = H @ W2 + b2
    d_y_hat = 1.0 / n * (y_hat - y)
    d_Z1 = np.outer(d_y_hat, W2) * H * (1.0 - H)
    return {"loss": float(np.mean((y_hat - y) ** 2)), "W1": X.T @ d_Z1, "b1": d_Z1.sum(axis=0),
            "W2": H.T @ d_y_hat, "b2": float(d_y_hat.sum())}
"""),
    ("two_layer_backward", "residual the wrong way round (y - y_hat)", """
def two_layer_backward(X, W1, b1, W2, b2, y):
    n = len(y)
    Z1 = X @ W1 + b1
    H = 1.0 / (1.0 + np.exp(-Z1))
    y_hat = H @ W2 + b2
    d_y_hat = 2.0 / n * (y - y_hat)
    d_Z1 = np.outer(d_y_hat, W2) * H * (1.0 - H)
    return {"loss": float(np.mean((y_hat - y) ** 2)), "W1": X.T @ d_Z1, "b1": d_Z1.sum(axis=0),
            "W2": H.T @ d_y_hat, "b2": float(d_y_hat.sum())}
"""),
    ("two_layer_backward", "dL/dW2 through the pre-activation Z1", """
def two_layer_backward(X, W1, b1, W2, b2, y):
    n = len(y)
    Z1 = X @ W1 + b1
    H = 1.0 / (1.0 + np.exp(-Z1))
    y_hat = H @ W2 + b2
    d_y_hat = 2.0 / n * (y_hat - y)
    d_Z1 = np.outer(d_y_hat, W2) * H * (1.0 - H)
    return {"loss": float(np.mean((y_hat - y) ** 2)), "W1": X.T @ d_Z1, "b1": d_Z1.sum(axis=0),
            "W2": Z1.T @ d_y_hat, "b2": float(d_y_hat.sum())}
"""),
    ("two_layer_backward", "db1 averaged over the batch instead of summed", """
def two_layer_backward(X, W1, b1, W2, b2, y):
    n = len(y)
    Z1 = X @ W1 + b1
    H = 1.0 / (1.0 + np.exp(-Z1))
    y_hat = H @ W2 + b2
    d_y_hat = 2.0 / n * (y_hat - y)
    d_Z1 = np.outer(d_y_hat, W2) * H * (1.0 - H)
    return {"loss": float(np.mean((y_hat - y) ** 2)), "W1": X.T @ d_Z1, "b1": d_Z1.mean(axis=0),
            "W2": H.T @ d_y_hat, "b2": float(d_y_hat.sum())}
"""),
    ("two_layer_backward", "dL/dW1 transposed, shape (k, d)", """
def two_layer_backward(X, W1, b1, W2, b2, y):
    n = len(y)
    Z1 = X @ W1 + b1
    H = 1.0 / (1.0 + np.exp(-Z1))
    y_hat = H @ W2 + b2
    d_y_hat = 2.0 / n * (y_hat - y)
    d_Z1 = np.outer(d_y_hat, W2) * H * (1.0 - H)
    return {"loss": float(np.mean((y_hat - y) ** 2)), "W1": d_Z1.T @ X, "b1": d_Z1.sum(axis=0),
            "W2": H.T @ d_y_hat, "b2": float(d_y_hat.sum())}
"""),
    ("two_layer_backward", "db1 of the first example only", """
def two_layer_backward(X, W1, b1, W2, b2, y):
    n = len(y)
    Z1 = X @ W1 + b1
    H = 1.0 / (1.0 + np.exp(-Z1))
    y_hat = H @ W2 + b2
    d_y_hat = 2.0 / n * (y_hat - y)
    d_Z1 = np.outer(d_y_hat, W2) * H * (1.0 - H)
    return {"loss": float(np.mean((y_hat - y) ** 2)), "W1": X.T @ d_Z1, "b1": d_Z1[0],
            "W2": H.T @ d_y_hat, "b2": float(d_y_hat.sum())}
"""),
    ("two_layer_backward", "tanh's derivative for a sigmoid layer", """
def two_layer_backward(X, W1, b1, W2, b2, y):
    n = len(y)
    Z1 = X @ W1 + b1
    H = 1.0 / (1.0 + np.exp(-Z1))
    y_hat = H @ W2 + b2
    d_y_hat = 2.0 / n * (y_hat - y)
    d_Z1 = np.outer(d_y_hat, W2) * (1.0 - H ** 2)
    return {"loss": float(np.mean((y_hat - y) ** 2)), "W1": X.T @ d_Z1, "b1": d_Z1.sum(axis=0),
            "W2": H.T @ d_y_hat, "b2": float(d_y_hat.sum())}
"""),
    ("two_layer_backward", "dL/db2 as a one-element array", """
def two_layer_backward(X, W1, b1, W2, b2, y):
    H = 1.0 / (1.0 + np.exp(-(X @ W1 + b1)))
    y_hat = H @ W2 + b2
    d_y_hat = 2.0 / len(y) * (y_hat - y)
    d_Z1 = np.outer(d_y_hat, W2) * H * (1.0 - H)
    return {"loss": float(np.mean((y_hat - y) ** 2)), "W1": X.T @ d_Z1, "b1": d_Z1.sum(axis=0),
            "W2": H.T @ d_y_hat, "b2": d_y_hat.sum(keepdims=True)}
"""),
]

ALTERNATIVES = [
    ("gd_step", "NumPy ufuncs", """
def gd_step(w, grad, lr):
    return np.subtract(w, np.multiply(lr, grad))
"""),
    ("gd_step", "a copy updated in place", """
def gd_step(w, grad, lr):
    w = np.array(w, dtype=float)
    w -= lr * np.asarray(grad)
    return w if w.ndim else float(w)
"""),
    ("mse", "dot product of the residuals", """
def mse(y_true, y_pred):
    d = y_true - y_pred
    return d @ d / len(d)
"""),
    ("mse", "array method, residual the other way", """
def mse(y_true, y_pred):
    return ((y_pred - y_true) ** 2).mean()
"""),
    ("linear_regression_gradients", "a loop over the examples", """
def linear_regression_gradients(X, y, w, b):
    n, d = X.shape
    dw, db = np.zeros(d), 0.0
    for i in range(n):
        residual = y[i] - (X[i] @ w + b)
        dw += X[i] * residual
        db += residual
    return -2 * dw / n, float(-2 * db / n)
"""),
    ("linear_regression_gradients", "prediction minus target", """
def linear_regression_gradients(X, y, w, b):
    error = X @ w + b - y
    return 2 * X.T @ error / len(y), 2 * error.mean()
"""),
    ("minibatch_indices", "np.split at multiples of batch_size", """
def minibatch_indices(n, batch_size, rng):
    return np.split(rng.permutation(n), range(batch_size, n, batch_size))
"""),
    ("minibatch_indices", "rng.shuffle of arange and a while loop", """
def minibatch_indices(n, batch_size, rng):
    order = np.arange(n)
    rng.shuffle(order)
    chunks, start = [], 0
    while start < n:
        chunks.append(order[start:start + batch_size])
        start += batch_size
    return chunks
"""),
    ("fit_linear_regression", "preallocated losses, batch_size or n", """
def fit_linear_regression(X, y, lr, epochs, batch_size=None, seed=0):
    rng = np.random.default_rng(seed)
    w, b = np.zeros(X.shape[1]), 0
    losses = np.empty(epochs)
    for epoch in range(epochs):
        for rows in minibatch_indices(len(y), batch_size or len(y), rng):
            grads = linear_regression_gradients(X[rows], y[rows], w, b)
            w, b = gd_step(w, grads[0], lr), gd_step(b, grads[1], lr)
        losses[epoch] = mse(y, X @ w + b)
    return w, float(b), losses
"""),
    ("two_layer_backward", "a loop over the examples, chain rule written out", """
def two_layer_backward(X, W1, b1, W2, b2, y):
    n, d = X.shape
    grads = {"W1": np.zeros_like(W1, dtype=float), "b1": np.zeros(len(b1)),
             "W2": np.zeros(len(W2)), "b2": 0.0}
    loss = 0.0
    for i in range(n):
        z = X[i] @ W1 + b1
        h = 1 / (1 + np.exp(-z))
        residual = h @ W2 + b2 - y[i]
        loss += residual ** 2 / n
        g = 2 * residual / n
        grads["W2"] += g * h
        grads["b2"] += g
        dz = g * W2 * h * (1 - h)
        grads["b1"] += dz
        grads["W1"] += np.outer(X[i], dz)
    return {"loss": float(loss), **grads}
"""),
    ("two_layer_backward", "sigmoid through tanh, einsum and keepdims", """
def two_layer_backward(X, W1, b1, W2, b2, y):
    H = 0.5 * (1 + np.tanh(0.5 * (X @ W1 + b1)))
    error = (H @ W2 + b2 - y)[:, None]
    g = 2 * error / len(y)
    dZ = g * W2[None, :] * (H - H * H)
    return dict(loss=np.mean(error ** 2), W1=np.einsum("nd,nk->dk", X, dZ),
                b1=dZ.sum(0, keepdims=True)[0], W2=(g * H).sum(0), b2=g.sum().item())
"""),
]
