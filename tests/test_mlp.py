import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import nn

from dlcourse.mlp import cross_entropy, draw_network, mlp_forward, softmax


@pytest.mark.parametrize("activation, module", [("relu", nn.ReLU), ("sigmoid", nn.Sigmoid), ("tanh", nn.Tanh)])
def test_mlp_forward_matches_torch(activation, module):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 5), module(), nn.Linear(5, 3), module(), nn.Linear(3, 2)).double()
    x = torch.randn(7, 4, dtype=torch.float64)
    linears = [m for m in net if isinstance(m, nn.Linear)]
    outputs = mlp_forward(x.numpy(), [m.weight.detach().numpy() for m in linears],
                          [m.bias.detach().numpy() for m in linears], activation)
    assert [o.shape for o in outputs] == [(7, 4), (7, 5), (7, 3), (7, 2)]
    np.testing.assert_allclose(outputs[1], net[:2](x).detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(outputs[-1], net(x).detach().numpy(), rtol=1e-12)


def test_mlp_forward_rejects_mismatched_layers():
    with pytest.raises(ValueError, match="2 weight matrices but 1 bias"):
        mlp_forward(np.zeros((1, 2)), [np.zeros((2, 2)), np.zeros((1, 2))], [np.zeros(2)])


def test_softmax_and_cross_entropy_match_torch_even_for_huge_logits():
    logits = torch.tensor([[1.0, 2.0, 3.0], [1000.0, -1000.0, 0.0], [0.5, 0.5, 0.5]], dtype=torch.float64)
    labels = torch.tensor([2, 1, 0])
    np.testing.assert_allclose(softmax(logits.numpy()), logits.softmax(dim=1).numpy(), rtol=1e-12)
    assert cross_entropy(logits.numpy(), labels.numpy()) == pytest.approx(
        nn.functional.cross_entropy(logits, labels).item(), rel=1e-12)
    np.testing.assert_allclose(softmax(logits.numpy()).sum(axis=1), 1.0)


def test_draw_network_draws_every_neuron_and_weight():
    fig, ax = plt.subplots()
    neurons, lines = draw_network(ax, [3, 4, 2], names=["вход", "скрытый", "выход"])
    assert (neurons, lines) == (9, 3 * 4 + 4 * 2)
    assert len(ax.patches) == 9 and len(ax.lines) == 20
    with pytest.raises(ValueError, match="do not fit"):
        draw_network(ax, [3, 4, 2], weights=[np.zeros((4, 3)), np.zeros((3, 4))])
    plt.close(fig)
