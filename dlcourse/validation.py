"""Training with a validation set: learning curves, early stopping and the best epoch's weights.

:func:`fit_with_validation` trains epoch by epoch with :func:`dlcourse.training.fit`, and
after every epoch measures the loss and the share of right answers on the training and the
validation set (in eval mode, so dropout is off). It keeps the weights of the epoch with
the lowest validation loss and, with ``patience``, stops once that many epochs in a row
have not improved on it.
"""

import copy
from dataclasses import dataclass, field

from dlcourse.training import fit, predict


@dataclass
class Curves:
    """Per-epoch measurements; ``best_epoch`` counts from 1, as the figures do."""

    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    train_accuracy: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    best_epoch: int = 0

    @property
    def epochs(self):
        return len(self.val_loss)


def evaluate(model, loss_fn, X, y, device):
    """``(loss, share of right answers)`` of a classifier on ``X``, ``y`` in eval mode."""
    logits = predict(model, X, device=device)
    return loss_fn(logits, y).item(), (logits.argmax(1) == y).float().mean().item()


def fit_with_validation(model, loss_fn, X, y, X_val, y_val, *, epochs, batch_size, optimizer, device,
                        patience=None, generator=None):
    """Train a classifier for at most ``epochs`` epochs; return its :class:`Curves`.

    On return ``model`` holds the weights of ``Curves.best_epoch``, the epoch with the
    lowest validation loss. With ``patience`` the training stops after ``patience`` epochs
    in a row without a new lowest validation loss (early stopping).
    """
    if patience is not None and patience < 1:
        raise ValueError(f"patience должно быть не меньше 1, получено {patience}")
    curves, best_state, best_loss = Curves(), None, float("inf")
    for epoch in range(1, epochs + 1):
        fit(model, loss_fn, X, y, epochs=1, batch_size=batch_size, optimizer=optimizer, device=device,
            generator=generator)
        for (loss, accuracy), losses, accuracies in (
                (evaluate(model, loss_fn, X, y, device), curves.train_loss, curves.train_accuracy),
                (evaluate(model, loss_fn, X_val, y_val, device), curves.val_loss, curves.val_accuracy)):
            losses.append(loss)
            accuracies.append(accuracy)
        if curves.val_loss[-1] < best_loss:
            best_loss, curves.best_epoch = curves.val_loss[-1], epoch
            best_state = copy.deepcopy(model.state_dict())
        elif patience is not None and epoch - curves.best_epoch >= patience:
            break
    model.load_state_dict(best_state)
    return curves
