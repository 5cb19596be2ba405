"""The shared training code on tiny inputs: batching, a loss that drops, reproducibility."""

import pytest
import torch
from torch import nn

from dlcourse import device as dev
from dlcourse import training

CPU = torch.device("cpu")


def _toy_problem(seed=0):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(96, 1, 6, 6, generator=generator)
    y = (X.mean(dim=(1, 2, 3)) > 0).long()  # a rule a tiny CNN can learn
    return X, y


def _tiny_cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 36, 2))


def _train(seed, epochs=5):
    training.seed_everything(seed)
    X, y = _toy_problem()
    model = _tiny_cnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    return training.fit(model, nn.functional.cross_entropy, X, y, epochs=epochs, batch_size=16,
                        optimizer=optimizer, device=CPU), model


def test_batches_cover_every_row_once_and_keep_pairs_aligned():
    X = torch.arange(10.0)
    y = torch.arange(10) * 2
    seen = []
    for xb, yb in training.batches(X, y, batch_size=3, shuffle=True, generator=torch.Generator().manual_seed(1)):
        assert len(xb) <= 3
        assert torch.equal(yb, xb.long() * 2)
        seen += xb.tolist()
    assert sorted(seen) == list(map(float, range(10)))
    assert seen != sorted(seen)  # shuffled


def test_batches_in_order_without_shuffle_and_reject_unequal_lengths():
    parts = [b.tolist() for (b,) in training.batches(torch.arange(7), batch_size=3)]
    assert parts == [[0, 1, 2], [3, 4, 5], [6]]
    with pytest.raises(ValueError):
        next(training.batches(torch.zeros(3), torch.zeros(4), batch_size=2))


def test_fit_makes_the_loss_drop_and_leaves_the_model_in_eval_mode():
    history, model = _train(seed=0, epochs=8)
    assert len(history) == 8
    assert history[-1] < 0.6 * history[0]
    assert not model.training


def test_same_seed_gives_identical_losses_and_another_seed_does_not():
    first, _ = _train(seed=3)
    second, _ = _train(seed=3)
    other, _ = _train(seed=4)
    assert first == second
    assert first != other


def test_fit_steps_the_scheduler_once_per_batch():
    training.seed_everything(0)
    X, y = _toy_problem()
    model = _tiny_cnn()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=2 * 6)
    training.fit(model, nn.functional.cross_entropy, X, y, epochs=2, batch_size=16, optimizer=optimizer,
                 device=CPU, scheduler=scheduler)
    assert scheduler.last_epoch == 12


def test_predict_matches_a_single_forward_pass_and_handles_tuples():
    training.seed_everything(0)
    X, _ = _toy_problem()
    model = _tiny_cnn().eval()
    with torch.no_grad():
        expected = model(X)
    torch.testing.assert_close(training.predict(model, X, batch_size=10, device=CPU), expected)

    class TwoHeads(nn.Module):
        def forward(self, x):
            return x.sum(dim=(1, 2, 3)), x.amax(dim=(1, 2, 3))

    sums, maxima = training.predict(TwoHeads(), X, batch_size=7, device=CPU)
    torch.testing.assert_close(sums, X.sum(dim=(1, 2, 3)))
    torch.testing.assert_close(maxima, X.amax(dim=(1, 2, 3)))


def test_report_line_reads_back(capsys):
    line = training.report("детектор фигур", CPU, 12.345, "mAP@0.5", 0.91234)
    assert capsys.readouterr().out.strip() == line
    assert line == "[обучение] детектор фигур | устройство: cpu | время: 12.3 с | mAP@0.5: 0.9123"
    assert training.parse_report(line) == {
        "name": "детектор фигур", "device": "cpu", "seconds": 12.3, "metric": "mAP@0.5", "value": 0.9123}
    assert training.parse_report("эпоха 3: потеря 0.1") is None


def test_report_refuses_names_that_would_break_the_format():
    with pytest.raises(ValueError):
        training.report("a | b", CPU, 1.0, "точность", 0.5)
    with pytest.raises(ValueError):
        training.report("цифры", CPU, 1.0, "точность: тест", 0.5)


def test_stopwatch_measures_a_block():
    with training.Stopwatch(CPU) as watch:
        sum(range(100_000))
    assert 0 < watch.seconds < 5


def test_device_helpers_change_nothing_on_the_cpu():
    assert dev.amp_dtype(CPU) is None
    assert not dev.grad_scaler(CPU).is_enabled()
    with dev.autocast(CPU):
        out = torch.ones(2, 2) @ torch.ones(2, 2)
    assert out.dtype == torch.float32
    x = torch.randn(2, 3, 4, 4)
    assert dev.to_device(x, CPU).is_contiguous()


def test_get_device_honours_the_override(monkeypatch):
    monkeypatch.setenv("DLCOURSE_DEVICE", "cpu")
    assert dev.get_device() == CPU
    monkeypatch.delenv("DLCOURSE_DEVICE")
    assert dev.get_device().type == ("cuda" if torch.cuda.is_available() else "cpu")
