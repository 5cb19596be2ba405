"""The training loop and the bookkeeping that every training section of the book shares.

Data stay on the device as whole tensors and :func:`batches` slices them, instead of a
loader that copies every batch. :func:`report` prints one line per trained model, in a
format that ``scripts/benchmark_training.py`` reads back with :func:`parse_report`.
"""

import random
import re
import time

import numpy as np
import torch

from dlcourse.device import autocast, grad_scaler

REPORT_TAG = "[обучение]"
_REPORT = re.compile(
    re.escape(REPORT_TAG)
    + r" (?P<name>[^|]+?) \| устройство: (?P<device>[^|]+?) \| время: (?P<seconds>[0-9.]+) с"
    r" \| (?P<metric>[^|:]+?): (?P<value>[-+0-9.eE]+|nan)$"
)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and every GPU), so that a run repeats exactly."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def batches(*tensors, batch_size: int, shuffle: bool = False, generator=None):
    """Yield tuples of aligned slices of ``tensors`` (same first dimension), on their device.

    With ``shuffle`` the order is a fresh permutation drawn on the tensors' device from
    ``generator`` (torch's global one when ``None``).
    """
    n = tensors[0].shape[0]
    if any(t.shape[0] != n for t in tensors):
        raise ValueError(f"tensors differ in length: {[t.shape[0] for t in tensors]}")
    if shuffle:
        order = torch.randperm(n, device=tensors[0].device, generator=generator)
        for start in range(0, n, batch_size):
            index = order[start:start + batch_size]
            yield tuple(t[index] for t in tensors)
    else:
        for start in range(0, n, batch_size):
            yield tuple(t[start:start + batch_size] for t in tensors)


def fit(model, loss_fn, X, *targets, epochs: int, batch_size: int, optimizer,
        device: torch.device, scheduler=None, generator=None) -> list[float]:
    """Train ``model`` on ``X`` for ``epochs`` passes; return the mean loss of each epoch.

    ``loss_fn(model(x), *target_batches)`` gives the loss of a batch. ``scheduler``, if
    given, steps after every batch (as ``OneCycleLR`` expects). The forward pass runs under
    :func:`dlcourse.device.autocast`, so it is mixed precision on CUDA.
    """
    scaler = grad_scaler(device)
    history = []
    model.train()
    for _ in range(epochs):
        total, count = torch.zeros((), device=device), 0
        for x, *ys in batches(X, *targets, batch_size=batch_size, shuffle=True, generator=generator):
            with autocast(device):
                loss = loss_fn(model(x), *ys)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            if scheduler is not None:
                scheduler.step()
            # Summed on the device: a .item() per batch would wait for the GPU every step.
            total += loss.detach().float() * x.shape[0]
            count += x.shape[0]
        history.append(total.item() / count)
    model.eval()
    return history


@torch.no_grad()
def predict(model, X, *, batch_size: int = 1024, device: torch.device):
    """``model``'s outputs on ``X`` in eval mode, batch by batch, as fp32 tensors.

    A model that returns a tuple gives a tuple of concatenated outputs.
    """
    model.eval()
    outputs = []
    for (x,) in batches(X, batch_size=batch_size):
        with autocast(device):
            out = model(x)
        outputs.append(tuple(o.float() for o in out) if isinstance(out, tuple) else out.float())
    if isinstance(outputs[0], tuple):
        return tuple(torch.cat(parts) for parts in zip(*outputs))
    return torch.cat(outputs)


class Stopwatch:
    """Wall time of a ``with`` block; on CUDA it waits for the queued GPU work to finish."""

    def __init__(self, device: torch.device):
        self.device = device
        self.seconds = 0.0

    def _sync(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def __enter__(self):
        self._sync()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self._sync()
        self.seconds = time.perf_counter() - self._start
        return False


def report(name: str, device: torch.device, seconds: float, metric_name: str, value: float) -> str:
    """Print and return the one line that sums up a training section.

    The line reads as Russian text and parses back with :func:`parse_report`, e.g.
    ``[обучение] цифры | устройство: cpu | время: 4.2 с | доля верных ответов на тесте: 0.9867``.
    """
    for text in (name, metric_name):
        if "|" in text or ":" in text or text != text.strip() or not text:
            raise ValueError(f"name and metric must be non-empty, without '|' or ':': {text!r}")
    line = (f"{REPORT_TAG} {name} | устройство: {torch.device(device)} | время: {seconds:.1f} с"
            f" | {metric_name}: {value:.4f}")
    print(line)
    return line


def parse_report(line: str) -> dict | None:
    """The fields of a :func:`report` line, or ``None`` for any other line."""
    match = _REPORT.match(line.strip())
    if match is None:
        return None
    fields = match.groupdict()
    fields["seconds"] = float(fields["seconds"])
    fields["value"] = float(fields["value"])
    return fields

