"""Tests of the image-generation building blocks on tiny inputs (CPU, a few seconds)."""

import numpy as np
import pytest
import torch

from dlcourse.generative import (
    Discriminator,
    Generator,
    RandomFeatures,
    brushstroke_painting,
    content_loss,
    gan_step,
    gram_matrix,
    photo_tensor,
    style_loss,
    stylize,
)
from dlcourse.training import seed_everything


def test_gram_matrix_by_hand():
    # Two channels on a 2×2 grid: F = [[1, 2, 3, 4], [0, 1, 0, 1]], G = F·Fᵀ / 4.
    features = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [0.0, 1.0]]]])
    expected = torch.tensor([[[30.0, 6.0], [6.0, 2.0]]]) / 4
    torch.testing.assert_close(gram_matrix(features), expected)


def test_gram_matrix_matches_einsum_and_is_symmetric():
    features = torch.randn(3, 5, 4, 6, generator=torch.Generator().manual_seed(0))
    gram = gram_matrix(features)
    reference = torch.einsum("nchw,ndhw->ncd", features, features) / (4 * 6)
    torch.testing.assert_close(gram, reference)
    torch.testing.assert_close(gram, gram.transpose(1, 2))
    assert (torch.linalg.eigvalsh(gram) > -1e-5).all()  # a Gram matrix is positive semi-definite


def test_random_features_are_fixed_by_the_seed():
    image = torch.rand(1, 3, 16, 16)
    a, b, c = RandomFeatures(seed=1), RandomFeatures(seed=1), RandomFeatures(seed=2)
    shapes = [tuple(f.shape) for f in a(image)]
    assert shapes == [(1, 32, 16, 16), (1, 64, 8, 8), (1, 128, 4, 4), (1, 128, 2, 2)]
    for fa, fb, fc in zip(a(image), b(image), c(image)):
        assert torch.equal(fa, fb)
        assert not torch.equal(fa, fc)
    assert not any(p.requires_grad for p in a.parameters())


def test_losses_vanish_on_the_target_itself():
    net = RandomFeatures(channels=(8, 16), seed=0)
    image = torch.rand(1, 3, 16, 16)
    features = net(image)
    grams = [gram_matrix(f) for f in features]
    assert style_loss(features, grams).item() == pytest.approx(0.0, abs=1e-12)
    assert content_loss(features[1], features[1]).item() == 0.0
    other = net(torch.rand(1, 3, 16, 16))
    assert style_loss(other, grams).item() > 1e-4


def test_gram_matrix_ignores_where_things_are():
    # Style is "what, not where": shuffling the positions keeps the Gram matrix, not the content.
    features = torch.randn(1, 4, 5, 5, generator=torch.Generator().manual_seed(0))
    order = torch.randperm(25, generator=torch.Generator().manual_seed(1))
    shuffled = features.reshape(1, 4, 25)[..., order].reshape(1, 4, 5, 5)
    torch.testing.assert_close(gram_matrix(shuffled), gram_matrix(features))
    assert content_loss(shuffled, features).item() > 0.5


def test_a_few_steps_of_stylize_lower_the_loss():
    torch.manual_seed(0)
    net = RandomFeatures(channels=(8, 16, 16), seed=0)
    content, style = torch.rand(3, 24, 24), torch.rand(3, 24, 24) ** 3
    image, history = stylize(content, style, net, steps=15, style_weight=10.0, lr=0.05)
    total = 10.0 * np.array(history["стиль"]) + np.array(history["содержание"])
    assert image.shape == content.shape
    assert 0.0 <= image.min() and image.max() <= 1.0
    assert len(total) == 15 and np.isfinite(total).all()
    assert total[-1] < 0.5 * total[0]


def test_photo_tensor_crops_the_centre_square():
    photo = np.zeros((40, 60, 3), dtype=np.uint8)
    photo[:, 10:50] = 255  # the centre 40×40 square is white, the side bands black
    tensor = photo_tensor(photo, 8)
    assert tensor.shape == (3, 8, 8) and tensor.dtype == torch.float32
    torch.testing.assert_close(tensor, torch.ones(3, 8, 8))


def test_brushstroke_painting_is_a_reproducible_rgb_image():
    a, b = brushstroke_painting(64, strokes=100, seed=3), brushstroke_painting(64, strokes=100, seed=3)
    assert a.shape == (64, 64, 3)
    assert 0.0 <= a.min() and a.max() <= 1.0
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, brushstroke_painting(64, strokes=100, seed=4))


def test_generator_and_discriminator_shapes():
    generator, discriminator = Generator(z_dim=8, width=4), Discriminator(width=4)
    images = generator(torch.randn(5, 8))
    assert images.shape == (5, 1, 16, 16)
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert discriminator(images).shape == (5,)


def _short_gan_run(seed, steps=5):
    seed_everything(seed)
    generator, discriminator = Generator(z_dim=8, width=4), Discriminator(width=4)
    opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = torch.rand(16, 1, 16, 16) * 2 - 1
    losses = [gan_step(generator, discriminator, real, opt_g, opt_d) for _ in range(steps)]
    return generator, torch.tensor([[d.item(), g.item()] for d, g in losses])


def test_gan_step_gives_finite_losses_and_moves_both_networks():
    seed_everything(0)
    generator, discriminator = Generator(z_dim=8, width=4), Discriminator(width=4)
    before_g = [p.clone() for p in generator.parameters()]
    before_d = [p.clone() for p in discriminator.parameters()]
    opt_g = torch.optim.Adam(generator.parameters(), lr=1e-3)
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=1e-3)
    d_loss, g_loss = gan_step(generator, discriminator, torch.rand(8, 1, 16, 16) * 2 - 1, opt_g, opt_d)
    assert torch.isfinite(d_loss) and torch.isfinite(g_loss)
    # At the start D is a coin toss: each BCE term is near log 2.
    assert d_loss.item() == pytest.approx(2 * np.log(2), abs=0.5)
    assert not any(torch.equal(a, b) for a, b in zip(before_g, generator.parameters()))
    assert not any(torch.equal(a, b) for a, b in zip(before_d, discriminator.parameters()))


def test_a_short_gan_run_repeats_with_the_same_seed():
    generator_a, losses_a = _short_gan_run(seed=7)
    generator_b, losses_b = _short_gan_run(seed=7)
    _, losses_c = _short_gan_run(seed=8)
    assert torch.isfinite(losses_a).all()
    assert torch.equal(losses_a, losses_b)
    for a, b in zip(generator_a.parameters(), generator_b.parameters()):
        assert torch.equal(a, b)
    assert not torch.equal(losses_a, losses_c)
