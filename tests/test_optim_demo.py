"""dlcourse.optim_demo against closed forms and hand-written references."""

import math

import numpy as np
import pytest
import torch

from dlcourse.optim_demo import (
    LECTURE_X,
    LECTURE_Y,
    RAVINE_CURVATURES,
    RegressionData,
    foggy_hill,
    grid,
    lecture_mse,
    make_regression,
    noisy_walkers,
    optimize,
    plot_paths,
    ravine,
    rosenbrock,
    saved_bytes,
    sweep_lr,
    train_linear,
    two_valleys,
)


def point(*xy):
    return torch.tensor(xy, dtype=torch.float64, requires_grad=True)


def test_lecture_mse_matches_the_formula_on_points_and_grids():
    for w, b in [(0.0, 0.0), (2.0, 1.0), (-1.5, 3.0)]:
        expected = np.mean((LECTURE_Y - (w * LECTURE_X + b)) ** 2)
        assert lecture_mse(point(w, b)).item() == pytest.approx(expected)
    X, Y, Z = grid(lecture_mse, (0, 4), (-1, 3), n=5)
    assert X.shape == Y.shape == Z.shape == (5, 5)
    assert (X[2, 2], Y[2, 2]) == (2.0, 1.0)
    assert Z[2, 2] == pytest.approx(0.0)  # the exact fit
    assert Z[0, 0] == pytest.approx(lecture_mse(point(0.0, -1.0)).item())  # rows run along b


def test_surface_minima_and_gradients():
    assert rosenbrock(point(1.0, 1.0)).item() == 0.0
    assert ravine(point(0.0, 0.0)).item() == 0.0
    for surface, minimum in [(rosenbrock, (1.0, 1.0)), (ravine, (0.0, 0.0)), (foggy_hill, (1.5, -1.0))]:
        p = point(*minimum)
        surface(p).backward()
        assert p.grad.abs().max() < 0.01, surface.__name__
    hessian = torch.autograd.functional.hessian(ravine, point(0.3, -0.2))
    assert torch.allclose(hessian, torch.diag(torch.tensor(RAVINE_CURVATURES, dtype=torch.float64)))


def test_two_valleys_has_a_shallow_and_a_deep_minimum():
    w = torch.linspace(-3, 3, 60001, dtype=torch.float64)
    L = two_valleys(w)
    inner = (L[1:-1] < L[:-2]) & (L[1:-1] < L[2:])
    minima = w[1:-1][inner]
    assert minima.tolist() == pytest.approx([-1.85, 1.59], abs=0.01)
    assert two_valleys(minima[0]) < two_valleys(minima[1]) - 1.0


def test_optimize_with_sgd_follows_the_closed_form_on_a_quadratic():
    lr, steps, start = 0.015, 25, np.array([2.0, 1.0])
    run = optimize(ravine, start.tolist(), lambda p: torch.optim.SGD(p, lr=lr), steps)
    factors = 1 - lr * np.array(RAVINE_CURVATURES)
    expected = start * factors ** np.arange(steps + 1)[:, None]
    np.testing.assert_allclose(run.path, expected, rtol=1e-12)
    np.testing.assert_allclose(run.loss, [ravine(torch.tensor(p)).item() for p in expected], rtol=1e-12)
    assert run.lr.tolist() == [lr] * steps
    assert not run.diverged


def test_optimize_keeps_a_stateful_optimizer_across_steps():
    # On a constant slope momentum's k-th step is η·g·(1 + μ + … + μ^(k-1)) = η·g·(1 − μ^k) / (1 − μ).
    lr, mu, g = 0.1, 0.9, 2.0
    run = optimize(lambda p: g * p.sum(-1), [0.0, 0.0], lambda p: torch.optim.SGD(p, lr=lr, momentum=mu), 30)
    k = np.arange(1, 31)
    np.testing.assert_allclose(-np.diff(run.path[:, 0]), lr * g * (1 - mu ** k) / (1 - mu), rtol=1e-12)


def test_optimize_stops_on_divergence_and_below_a_threshold():
    # The lecture's MSE diverges for lr > 2 / λ_max ≈ 0.0845.
    diverging = optimize(lecture_mse, [0.0, 0.0], lambda p: torch.optim.SGD(p, lr=0.2), 5000)
    assert diverging.diverged
    assert len(diverging.loss) < 5001
    assert len(diverging.path) == len(diverging.loss)
    stopped = optimize(lecture_mse, [0.0, 0.0], lambda p: torch.optim.SGD(p, lr=0.01), 5000, stop_below=1e-3)
    assert stopped.loss[-1] < 1e-3 <= stopped.loss[-2]
    assert len(stopped.path) == len(stopped.loss) == len(stopped.lr) + 1


def test_optimize_applies_a_scheduler_after_every_step():
    run = optimize(ravine, [1.0, 1.0], lambda p: torch.optim.SGD(p, lr=0.008), 6,
                   make_scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5))
    assert run.lr.tolist() == [0.008, 0.008, 0.004, 0.004, 0.002, 0.002]


@pytest.mark.parametrize("optimizer_class, options", [
    (torch.optim.Adam, {}), (torch.optim.RMSprop, {}), (torch.optim.SGD, {"momentum": 0.9})])
def test_sweep_lr_equals_separate_runs_even_when_one_diverges(optimizer_class, options):
    lrs = [1e-4, 1e-3, 5.0]
    sweep = sweep_lr(rosenbrock, [-1.5, 2.0], optimizer_class, lrs, 40, **options)
    assert list(sweep) == lrs
    assert sweep[5.0].diverged == (optimizer_class is torch.optim.SGD)  # Adam's steps stay near lr
    for lr in lrs[:2]:
        alone = optimize(rosenbrock, [-1.5, 2.0], lambda p, lr=lr: optimizer_class(p, lr=lr, **options), 40)
        np.testing.assert_allclose(sweep[lr].path, alone.path, rtol=1e-12)
        np.testing.assert_allclose(sweep[lr].loss, alone.loss, rtol=1e-12)
        assert sweep[lr].lr.tolist() == [lr] * 40


def test_plot_paths_draws_every_trajectory():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = {name: optimize(rosenbrock, [-1.0, 1.0], lambda p, lr=lr: torch.optim.SGD(p, lr=lr), 10)
            for name, lr in [("a", 1e-4), ("b", 1e-3)]}
    fig, ax = plt.subplots()
    plot_paths(ax, rosenbrock, runs, (-2, 2), (-1, 3), log_levels=True, minimum=(1, 1))
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[:2] == ["a", "b"]
    assert ax.get_xlim() == (-2, 2)
    plt.close(fig)


def test_noisy_walkers_without_noise_is_batch_gradient_descent():
    walk = noisy_walkers(start=2.5, noise=0.0, lr=0.1, steps=200, walkers=3)
    assert walk.shape == (201, 3)
    w = 2.5
    for _ in range(200):
        w -= 0.1 * (0.4 * w ** 3 - 1.2 * w + 0.3)  # two_valleys' derivative
    np.testing.assert_allclose(walk[-1], [w] * 3, rtol=1e-12)
    assert w == pytest.approx(1.59, abs=0.01)


def test_noisy_walkers_are_independent_and_reproducible():
    first = noisy_walkers(start=2.5, noise=3.0, lr=0.1, steps=300, walkers=50, seed=1)
    again = noisy_walkers(start=2.5, noise=3.0, lr=0.1, steps=300, walkers=50, seed=1)
    np.testing.assert_array_equal(first, again)
    assert len(np.unique(first[-1])) == 50
    assert (first[-1] < 0.26).mean() > 0.5  # most escape the shallow valley


def test_expected_loss_matches_fresh_samples():
    data = make_regression(10, d=4, noise=0.5, seed=3)
    w, b = torch.tensor([0.5, -1.0, 0.0, 2.0]), 0.3
    fresh = make_regression(400_000, d=4, noise=0.5, seed=3)  # same w_true, new examples
    assert torch.equal(fresh.w_true, data.w_true)
    monte_carlo = ((fresh.X @ w + b - fresh.y) ** 2).mean().item()
    assert data.expected_loss(w, b).item() == pytest.approx(monte_carlo, rel=0.01)
    assert data.expected_loss(data.w_true, data.b_true).item() == pytest.approx(0.25)


def test_train_linear_full_batch_follows_the_closed_form_of_gradient_descent():
    # On the MSE, a quadratic with Hessian H = 2 AᵀA / n (A = [X, 1]), gradient descent from
    # zero gives θ_k = θ* + (I − ηH)^k (0 − θ*), where θ* is the least-squares solution.
    data = make_regression(200, d=3, seed=0)
    lr, steps = 0.1, 15
    run = train_linear(data, batch_size=200, lr=lr, epochs=steps)
    A = torch.cat([data.X, torch.ones(200, 1)], 1).double()
    best = torch.linalg.lstsq(A, data.y.double()[:, None]).solution[:, 0]
    contraction = torch.eye(4, dtype=torch.float64) - lr * 2 * A.T @ A / 200
    expected = best - torch.linalg.matrix_power(contraction, steps) @ best
    np.testing.assert_allclose(np.append(run.w[-1], run.b[-1]), expected.numpy(), rtol=1e-4, atol=1e-5)
    assert run.updates_per_epoch == 1
    assert len(run.epoch_loss) == steps + 1 and np.all(np.diff(run.epoch_loss) < 0)
    assert np.all(np.diff(run.elapsed) > 0)


def test_train_linear_counts_updates_and_reaches_the_optimum():
    data = make_regression(100, d=3, noise=0.1, seed=2)
    run = train_linear(data, batch_size=32, lr=0.05, epochs=40)
    assert run.updates_per_epoch == 4  # 32 + 32 + 32 + 4
    assert len(run.batch_loss) == 160 and run.w.shape == (161, 3) and run.lr.tolist() == [0.05] * 160
    A = torch.cat([data.X, torch.ones(100, 1)], 1).double()
    best = torch.linalg.lstsq(A, data.y.double()[:, None]).solution[:, 0].numpy()
    np.testing.assert_allclose(np.append(run.w[-1], run.b[-1]), best, atol=0.02)
    again = train_linear(data, batch_size=32, lr=0.05, epochs=40)
    np.testing.assert_array_equal(run.w, again.w)


def test_train_linear_max_updates_divergence_and_scheduler():
    data = make_regression(50, d=2, seed=0)
    capped = train_linear(data, batch_size=1, lr=0.01, epochs=10, max_updates=70)
    assert len(capped.batch_loss) == 70 and len(capped.epoch_loss) == 3  # start, epoch 1, part of epoch 2
    diverged = train_linear(data, batch_size=1, lr=5.0, epochs=10)
    assert diverged.diverged and len(diverged.batch_loss) < 500
    assert math.isfinite(diverged.batch_loss[-2])
    scheduled = train_linear(data, batch_size=25, lr=0.1, epochs=3,
                             make_scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, 1, gamma=0.1))
    np.testing.assert_allclose(scheduled.lr, [0.1, 0.1, 0.01, 0.01, 0.001, 0.001])


def test_saved_bytes_grows_with_the_batch_and_ignores_weights():
    net = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
    # Autograd keeps the input (10 floats), the first layer's output before ReLU or the ReLU
    # result (32 floats) and the second layer's input (32 floats, may share the ReLU result).
    per_example = saved_bytes(net, torch.randn(1, 10))
    assert per_example in {4 * (10 + 32), 4 * (10 + 32 + 32)}
    assert saved_bytes(net, torch.randn(64, 10)) == 64 * per_example


def test_regression_data_is_a_plain_container():
    data = RegressionData(torch.zeros(2, 1), torch.zeros(2), torch.zeros(1), 0.0, 1.0)
    assert data.expected_loss(torch.ones(1), 1.0).item() == pytest.approx(3.0)
