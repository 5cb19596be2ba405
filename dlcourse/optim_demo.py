"""Loss surfaces, optimizer trajectories and gradient-descent experiments (chapters 05 and 06).

Every optimizer here is one of ``torch.optim``: the chapters give the update rules as
formulas, and the graded assignments ask students to write those rules in NumPy, so this
module must not hand them a ready answer.

Surfaces take a tensor whose last dimension holds the two coordinates, so one function
evaluates a single point (for autograd) and a whole grid (for contour plots).
"""

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from dlcourse.training import batches

# The lecture's example: five points on the line y = 2x + 1.
LECTURE_X = np.array([1, 2, 3, 4, 5], dtype=float)
LECTURE_Y = 2 * LECTURE_X + 1

RAVINE_CURVATURES = (1.0, 100.0)  # second derivatives along x and y: a narrow valley


def lecture_mse(p):
    """MSE of the line ``w·x + b`` on the lecture's data; ``p[..., 0]`` is w, ``p[..., 1]`` is b."""
    x = torch.as_tensor(LECTURE_X, dtype=p.dtype)
    y = torch.as_tensor(LECTURE_Y, dtype=p.dtype)
    return ((y - (p[..., 0:1] * x + p[..., 1:2])) ** 2).mean(-1)


def foggy_hill(p):
    """A hillside with a valley and a bump on the way down; the lowest point is near (1.5, -1.0)."""
    x, y = p[..., 0], p[..., 1]
    bowl = 0.12 * ((x - 1.5) ** 2 + 1.5 * (y + 1) ** 2)
    bump = 1.2 * torch.exp(-((x + 0.3) ** 2 + (y - 0.6) ** 2) / 0.6)
    return bowl + bump


def ravine(p):
    """The ill-conditioned quadratic ``(a·x² + c·y²) / 2`` with curvatures ``RAVINE_CURVATURES``."""
    a, c = RAVINE_CURVATURES
    return 0.5 * (a * p[..., 0] ** 2 + c * p[..., 1] ** 2)


def rosenbrock(p):
    """Rosenbrock's banana-shaped valley; its minimum 0 is at (1, 1)."""
    x, y = p[..., 0], p[..., 1]
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def two_valleys(w):
    """A 1-D loss with a shallow minimum near w = 1.59 and a deeper one near w = -1.85."""
    return 0.1 * w ** 4 - 0.6 * w ** 2 + 0.3 * w


def grid(loss_fn, xlim, ylim, n=201):
    """``loss_fn`` on an ``n``×``n`` grid: the arrays ``X, Y, Z`` that ``contour`` takes."""
    xs = torch.linspace(*xlim, n, dtype=torch.float64)
    ys = torch.linspace(*ylim, n, dtype=torch.float64)
    X, Y = torch.meshgrid(xs, ys, indexing="xy")
    with torch.no_grad():
        Z = loss_fn(torch.stack([X, Y], dim=-1))
    return X.numpy(), Y.numpy(), Z.numpy()


@dataclass
class Trajectory:
    """The points an optimizer visited and the loss at each; ``lr[k]`` was used for step k."""

    path: np.ndarray  # (steps + 1, dims)
    loss: np.ndarray  # (steps + 1,)
    lr: np.ndarray  # (steps,)

    @property
    def diverged(self):
        return not np.isfinite(self.loss[-1])


def optimize(loss_fn, start, make_optimizer, steps, make_scheduler=None, stop_below=None):
    """Run a ``torch.optim`` optimizer on ``loss_fn`` from ``start`` for ``steps`` steps.

    ``make_optimizer(params)`` builds the optimizer, e.g. ``lambda p: torch.optim.Adam(p, lr=0.1)``;
    ``make_scheduler(optimizer)``, if given, builds a scheduler that steps after every step.
    The run stops early once the loss stops being finite (the last loss is then inf or nan)
    or, with ``stop_below``, once it falls below that value.
    """
    point = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer([point])
    scheduler = None if make_scheduler is None else make_scheduler(optimizer)
    return _descend(loss_fn, [point], optimizer, steps, scheduler, stop_below)[0]


def sweep_lr(loss_fn, start, optimizer_class, lrs, steps, **options):
    """One run of ``optimizer_class(..., lr=lr, **options)`` from ``start`` for every ``lr``.

    All runs share one optimizer, with a parameter group per learning rate, so that a sweep
    costs about as much as a single run; they do not interact, because each point only
    affects its own term of the summed loss. Returns ``{lr: Trajectory}``.
    """
    points = [torch.tensor(start, dtype=torch.float64, requires_grad=True) for _ in lrs]
    optimizer = optimizer_class([{"params": [p], "lr": lr} for p, lr in zip(points, lrs)], **options)
    return dict(zip(lrs, _descend(loss_fn, points, optimizer, steps, None, None)))


def _descend(loss_fn, points, optimizer, steps, scheduler, stop_below):
    """The loop of ``optimize`` and ``sweep_lr``: it stops once no point's loss is finite
    or every one is below ``stop_below``. Returns a ``Trajectory`` per point."""
    path, losses, lrs = [torch.stack(points).detach().clone()], [], []
    for _ in range(steps):
        loss = loss_fn(torch.stack(points))
        losses.append(loss.detach().clone())
        if not loss.isfinite().any() or (stop_below is not None and bool((loss < stop_below).all())):
            break
        optimizer.zero_grad()
        loss.sum().backward()
        lrs.append([group["lr"] for group in optimizer.param_groups])
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        path.append(torch.stack(points).detach().clone())
    else:
        with torch.no_grad():
            losses.append(loss_fn(torch.stack(points)))
    path, losses = torch.stack(path).numpy(), torch.stack(losses).numpy()
    lrs = np.array(lrs).reshape(-1, len(points))
    return [Trajectory(path[:, k], losses[:, k], lrs[:, k]) for k in range(len(points))]


def plot_paths(ax, loss_fn, paths, xlim, ylim, log_levels=False, minimum=None):
    """Contours of ``loss_fn`` with each trajectory of ``paths`` (label → ``Trajectory``).

    ``log_levels`` spaces the contour levels logarithmically (for Rosenbrock's valley);
    ``minimum`` marks the lowest point with a star. Points far outside the frame are clipped.
    """
    X, Y, Z = grid(loss_fn, xlim, ylim)
    if log_levels:
        Z = np.log10(np.maximum(Z, 1e-3))
    ax.contour(X, Y, Z, levels=20, cmap="Greys", linewidths=0.7)
    for label, trajectory in paths.items():
        path = np.clip(trajectory.path, [xlim[0] - 1, ylim[0] - 1], [xlim[1] + 1, ylim[1] + 1])
        ax.plot(path[:, 0], path[:, 1], ".-", ms=3, lw=1.2, label=label)
    ax.plot(*paths[next(iter(paths))].path[0], "ko", ms=6)
    if minimum is not None:
        ax.plot(*minimum, "k*", ms=12)
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    return ax


def noisy_walkers(start, noise, lr, steps, walkers, seed=0):
    """Stochastic gradient descent on ``two_valleys`` with a gradient that jitters.

    Each step of each walker uses one random example i, whose loss is
    ``two_valleys(w) + ξ_i·w``; the ``ξ_i`` (standard deviation ``noise``) average to zero
    over the data, so the full-batch loss is exactly ``two_valleys``. The walkers are
    independent; they share one tensor only to run fast. Returns positions, (steps + 1, walkers).
    """
    generator = torch.Generator().manual_seed(seed)
    n_examples = 100
    xi = noise * torch.randn(n_examples, generator=generator, dtype=torch.float64)
    xi -= xi.mean()
    w = torch.full((walkers,), float(start), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=lr)
    path = [w.detach().clone()]
    for _ in range(steps):
        i = torch.randint(n_examples, (walkers,), generator=generator)
        # The sum over walkers gives each walker the gradient of its own loss.
        loss = (two_valleys(w) + xi[i] * w).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        path.append(w.detach().clone())
    return torch.stack(path).numpy()


@dataclass
class RegressionData:
    """``y = X·w_true + b_true + noise`` with standard normal features ``X``."""

    X: torch.Tensor  # (n, d), float32
    y: torch.Tensor  # (n,)
    w_true: torch.Tensor  # (d,)
    b_true: float
    noise: float

    def expected_loss(self, w, b):
        """The MSE of the line (w, b) on fresh data from the same source.

        Features are independent with unit variance, so it is ``noise² + |w - w_true|² + (b - b_true)²``;
        ``w`` may hold many weight vectors, (..., d), with ``b`` of shape (...).
        """
        w = torch.as_tensor(w, dtype=torch.float64)
        b = torch.as_tensor(b, dtype=torch.float64)
        return (self.noise ** 2 + ((w - self.w_true.double()) ** 2).sum(-1)
                + (b - self.b_true) ** 2)


def make_regression(n, d=10, noise=0.5, seed=0):
    """A linear regression problem with ``n`` examples and ``d`` features."""
    generator = torch.Generator().manual_seed(seed)
    w_true = torch.randn(d, generator=generator)
    b_true = 1.0
    X = torch.randn(n, d, generator=generator)
    y = X @ w_true + b_true + noise * torch.randn(n, generator=generator)
    return RegressionData(X, y, w_true, b_true, noise)


@dataclass
class GDRun:
    """What ``train_linear`` saw: one entry per update, plus the training MSE per epoch."""

    updates_per_epoch: int
    w: np.ndarray  # (updates + 1, d): weights before the first and after each update
    b: np.ndarray  # (updates + 1,)
    batch_loss: np.ndarray  # (updates,): loss of the batch an update was computed on
    elapsed: np.ndarray  # (updates,): seconds from the start of training to the end of each update
    epoch_loss: np.ndarray  # (epochs + 1,): MSE on the whole training set, before training and after each epoch
    lr: np.ndarray  # (updates,)

    @property
    def seconds_per_update(self):
        return self.elapsed[-1] / len(self.elapsed)

    @property
    def diverged(self):
        return not np.isfinite(self.batch_loss[-1])


def train_linear(data, batch_size, lr, epochs, seed=0, max_updates=None, make_scheduler=None):
    """Fit ``nn.Linear`` to ``data`` with ``torch.optim.SGD`` on batches of ``batch_size``.

    ``batch_size=1`` is stochastic, ``len(data.X)`` full-batch, anything between mini-batch
    gradient descent. The weights start at zero; examples are shuffled every epoch.
    Training stops after ``epochs`` passes or ``max_updates`` updates, whichever comes first,
    or as soon as a batch loss is no longer finite (the run diverged; its arrays end there).
    ``make_scheduler(optimizer)``, if given, builds a scheduler stepped once per epoch.
    The clock runs only while the model trains, not while the epoch losses are measured.
    """
    n, d = data.X.shape
    generator = torch.Generator().manual_seed(seed)
    model = torch.nn.Linear(d, 1)
    torch.nn.init.zeros_(model.weight)
    torch.nn.init.zeros_(model.bias)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    scheduler = None if make_scheduler is None else make_scheduler(optimizer)
    updates_per_epoch = -(-n // batch_size)
    total = updates_per_epoch * epochs if max_updates is None else min(max_updates, updates_per_epoch * epochs)
    params = torch.zeros(total + 1, d + 1)
    batch_loss, elapsed, lrs = torch.zeros(total), np.zeros(total), np.zeros(total)
    epoch_loss = [_mse(model, data)]
    k, clock = 0, 0.0
    while k < total:
        start = time.perf_counter()
        for x, y in batches(data.X, data.y, batch_size=batch_size, shuffle=True, generator=generator):
            loss = torch.nn.functional.mse_loss(model(x).squeeze(-1), y)
            optimizer.zero_grad()
            loss.backward()
            lrs[k] = optimizer.param_groups[0]["lr"]
            optimizer.step()
            with torch.no_grad():
                params[k + 1, :d] = model.weight[0]
                params[k + 1, d] = model.bias[0]
                batch_loss[k] = loss
            k += 1
            elapsed[k - 1] = clock + time.perf_counter() - start
            if k == total or not math.isfinite(batch_loss[k - 1]):
                break
        if not math.isfinite(batch_loss[k - 1]):
            total = k
        clock = elapsed[k - 1]
        if scheduler is not None:
            scheduler.step()
        epoch_loss.append(_mse(model, data))
    params = params[:total + 1].numpy()
    return GDRun(updates_per_epoch, params[:, :d], params[:, d], batch_loss[:total].numpy(),
                 elapsed[:total], np.array(epoch_loss), lrs[:total])


def _mse(model, data):
    with torch.no_grad():
        return torch.nn.functional.mse_loss(model(data.X).squeeze(-1), data.y).item()


def saved_bytes(model, x):
    """Bytes of what autograd keeps from the forward pass of ``model(x)`` for the backward pass.

    The weights, which stay in memory anyway, are left out; tensors that share one storage
    count once. What remains (the input batch and the activations) grows with the batch.
    """
    weights = {p.untyped_storage().data_ptr() for p in model.parameters()}
    storages = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in weights:
            storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        model(x).sum()
    return sum(storages.values())

