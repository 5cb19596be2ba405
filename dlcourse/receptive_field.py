"""How many input pixels each layer of a convolutional network sees: its receptive field.

:func:`receptive_fields` uses the closed form: a layer with kernel k and stride s widens the
field by (k − 1)·j, where j is the product of the strides before it, and multiplies j by s.
:func:`receptive_field_by_gradient` measures the same thing with autograd, which the chapter
and the tests use as an independent check.
"""

import copy

import torch
from torch import nn

WINDOWED = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)


def _pair(value):
    return value if isinstance(value, tuple) else (value, value)


def receptive_fields(layers):
    """``[(layer, size, jump)]`` after each convolution or pooling layer of ``layers``.

    ``size`` is the side of the input square that one output pixel depends on, ``jump`` the
    distance in input pixels between neighbouring output pixels. Other layers (ReLU,
    normalisation) do not change either and are skipped. Square kernels and strides only.
    """
    size, jump, fields = 1, 1, []
    for layer in layers:
        if not isinstance(layer, WINDOWED):
            continue
        (k, _), (s, _) = _pair(layer.kernel_size), _pair(layer.stride)
        if isinstance(layer, nn.Conv2d):
            k = (k - 1) * _pair(layer.dilation)[0] + 1
        size += (k - 1) * jump
        jump *= s
        fields.append((layer, size, jump))
    return fields


def field_map(layers, input_size=64):
    """Which input pixels the centre output pixel of ``layers`` depends on, found by backpropagation.

    A copy of the network gets all-ones convolution weights, zero biases and average pooling
    in place of max pooling (max pooling would pass the gradient to one pixel of a window),
    without the other layers; the input pixels with a non-zero gradient of the centre output
    form the field. Returns a boolean ``input_size``×``input_size`` array.
    """
    kept = []
    for layer in layers:
        if isinstance(layer, nn.Conv2d):
            conv = copy.deepcopy(layer).double()
            nn.init.ones_(conv.weight)
            if conv.bias is not None:
                nn.init.zeros_(conv.bias)
            kept.append(conv)
        elif isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
            kept.append(nn.AvgPool2d(layer.kernel_size, layer.stride, layer.padding))
    in_channels = next(m.in_channels for m in kept if isinstance(m, nn.Conv2d))
    x = torch.ones(1, in_channels, input_size, input_size, dtype=torch.float64, requires_grad=True)
    out = nn.Sequential(*kept)(x)
    out[0, :, out.shape[2] // 2, out.shape[3] // 2].sum().backward()
    return (x.grad[0].abs().sum(0) > 0).numpy()


def receptive_field_by_gradient(layers, input_size=64):
    """The rows and columns spanned by :func:`field_map`: the measured receptive field."""
    rows, cols = field_map(layers, input_size).nonzero()
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)
