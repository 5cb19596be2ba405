import pytest
from torch import nn

from dlcourse.receptive_field import receptive_field_by_gradient, receptive_fields

NETWORKS = {
    "three 3x3 convolutions": [nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Conv2d(2, 2, 3), nn.ReLU(), nn.Conv2d(2, 1, 3)],
    "conv and pool": [nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)],
    "strided 7x7 then 3x3": [nn.Conv2d(3, 4, 7, stride=2, padding=3), nn.BatchNorm2d(4),
                             nn.MaxPool2d(3, stride=2, padding=1), nn.Conv2d(4, 4, 3, padding=1)],
    "dilated": [nn.Conv2d(1, 1, 3, dilation=2), nn.Conv2d(1, 1, 3)],
}


def test_closed_form_on_known_networks():
    sizes = [size for _, size, _ in receptive_fields(NETWORKS["three 3x3 convolutions"])]
    assert sizes == [3, 5, 7]
    fields = receptive_fields(NETWORKS["conv and pool"])
    assert [(size, jump) for _, size, jump in fields] == [(3, 1), (4, 2), (8, 2), (10, 4)]
    assert isinstance(fields[1][0], nn.MaxPool2d)


@pytest.mark.parametrize("name", NETWORKS)
def test_closed_form_matches_backpropagation(name):
    layers = NETWORKS[name]
    size = receptive_fields(layers)[-1][1]
    assert receptive_field_by_gradient(layers, input_size=65) == (size, size)


def test_every_prefix_matches_backpropagation():
    layers = NETWORKS["conv and pool"]
    for layer, size, _jump in receptive_fields(layers):
        prefix = layers[:layers.index(layer) + 1]
        assert receptive_field_by_gradient(prefix, input_size=64) == (size, size)
