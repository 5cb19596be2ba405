import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlcourse.training import seed_everything
from dlcourse.validation import fit_with_validation

CPU = torch.device("cpu")


def noisy_task(seed=0):
    """Labels that depend on one feature, with a fifth of them flipped: a wide net overfits the noise."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(120, 10, generator=g)
    y = (X[:, 0] > 0).long()
    flip = torch.rand(120, generator=g) < 0.2
    y[flip] = 1 - y[flip]
    return X[:60], y[:60], X[60:], y[60:]


def train(patience=None, epochs=60):
    seed_everything(0)
    X, y, X_val, y_val = noisy_task()
    model = nn.Sequential(nn.Linear(10, 256), nn.ReLU(), nn.Linear(256, 2))
    curves = fit_with_validation(model, F.cross_entropy, X, y, X_val, y_val, epochs=epochs, batch_size=20,
                                 optimizer=torch.optim.Adam(model.parameters(), lr=1e-2), device=CPU,
                                 patience=patience)
    return model, curves, (X, y, X_val, y_val)


def test_curves_are_measured_every_epoch_and_the_best_weights_are_restored():
    model, curves, (X, y, X_val, y_val) = train()
    assert curves.epochs == 60 and len(curves.train_loss) == len(curves.val_accuracy) == 60
    assert curves.best_epoch == int(np.argmin(curves.val_loss)) + 1
    model.eval()
    with torch.no_grad():
        val_loss = F.cross_entropy(model(X_val), y_val).item()
        train_accuracy = (model(X).argmax(1) == y).float().mean().item()
    assert val_loss == pytest.approx(min(curves.val_loss), rel=1e-6)
    assert train_accuracy == pytest.approx(curves.train_accuracy[curves.best_epoch - 1])
    # The noise is learnt by heart: training loss falls far below where validation loss ends.
    assert curves.train_loss[-1] < 0.5 * curves.train_loss[0]
    assert curves.val_loss[-1] > min(curves.val_loss)


def test_early_stopping_stops_patience_epochs_after_the_best():
    _, full, _ = train()
    _, stopped, _ = train(patience=3)
    assert stopped.epochs < full.epochs
    assert stopped.epochs == stopped.best_epoch + 3
    # Same seed, same steps: the stopped run is the start of the full one.
    np.testing.assert_allclose(stopped.val_loss, full.val_loss[:stopped.epochs], rtol=1e-6)


def test_patience_must_be_positive():
    with pytest.raises(ValueError, match="patience"):
        train(patience=0)


def test_small_cnn_dropout_is_a_setting():
    from dlcourse.vision import SmallCNN

    x = torch.rand(4, 1, 8, 8)
    seed_everything(0)
    plain, dropping = SmallCNN(10, width=8, dropout=0.0), SmallCNN(10, width=8, dropout=0.5)
    assert plain.classifier[1].p == 0.0 and dropping.classifier[1].p == 0.5
    dropping.train()
    assert not torch.equal(dropping(x), dropping(x))  # a fresh mask on every call
    dropping.eval()
    assert torch.equal(dropping(x), dropping(x))
