"""Building blocks of the image-generation chapter: style transfer and a small DCGAN.

Style transfer here uses a convolutional network with *random*, untrained weights: ImageNet
weights cannot be downloaded offline, and random filters are known to carry enough texture
statistics for style transfer (He, Wang, Hopcroft, NeurIPS 2016; Ustyuzhaninov et al., 2016/2017).
"""

import numpy as np
import torch
import torch.nn.functional as F
from skimage import color, draw, transform
from torch import nn


def gram_matrix(features):
    """Channel correlations of ``features`` (N, C, H, W): F·Fᵀ / (H·W), shape (N, C, C)."""
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (h * w)


class RandomFeatures(nn.Module):
    """A VGG-like stack of 3×3 convolutions with frozen random weights.

    Returns the feature maps after every block: early blocks see small patches (colour,
    strokes), later ones, after pooling, see larger structures.
    """

    def __init__(self, channels=(32, 64, 128, 128), seed=0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        blocks, c_in = [], 3
        for c_out in channels:
            conv = nn.Conv2d(c_in, c_out, 3, padding=1, padding_mode="reflect")
            # Kaiming scaling keeps the activations' size roughly constant across the blocks.
            with torch.no_grad():
                conv.weight.normal_(0, (2 / (9 * c_in)) ** 0.5, generator=generator)
                conv.bias.zero_()
            blocks.append(nn.Sequential(conv, nn.ReLU()))
            c_in = c_out
        self.blocks = nn.ModuleList(blocks)
        self.requires_grad_(False)

    def forward(self, image):
        features, x = [], image - 0.5
        for i, block in enumerate(self.blocks):
            if i:
                x = F.avg_pool2d(x, 2)
            x = block(x)
            features.append(x)
        return features


def style_loss(features, target_grams):
    """Sum over layers of the squared Gram difference, each relative to its target's size."""
    return sum(
        (gram_matrix(f) - g).pow(2).sum() / g.pow(2).sum() for f, g in zip(features, target_grams)
    )


def content_loss(features, target_features):
    """Squared difference of one layer's feature maps, relative to the target's size."""
    return (features - target_features).pow(2).sum() / target_features.pow(2).sum()


def stylize(content, style, net, *, steps=200, style_weight=1.0, content_weight=1.0, content_layer=2,
            lr=0.02, start=None):
    """Optimise the pixels of an image: content of ``content`` (3, H, W), style of ``style``.

    Images are float tensors in [0, 1] on the network's device. ``style_weight`` and
    ``content_weight`` trade style against content; ``start`` is the initial image (the
    content image by default). Returns the image and the two losses at every step,
    ``{"стиль": [...], "содержание": [...]}``.
    """
    with torch.no_grad():
        target_grams = [gram_matrix(f) for f in net(style[None])]
        target_content = net(content[None])[content_layer]
    image = (content if start is None else start).clone()[None].requires_grad_(True)
    optimizer = torch.optim.Adam([image], lr=lr)
    style_history, content_history = [], []
    for _ in range(steps):
        features = net(image)
        s_loss = style_loss(features, target_grams)
        c_loss = content_loss(features[content_layer], target_content)
        optimizer.zero_grad()
        (style_weight * s_loss + content_weight * c_loss).backward()
        optimizer.step()
        with torch.no_grad():
            image.clamp_(0, 1)  # a pixel outside [0, 1] is no colour
        # Kept on the device: an .item() per step would make the GPU wait for the CPU.
        style_history.append(s_loss.detach())
        content_history.append(c_loss.detach())
    history = {"стиль": torch.stack(style_history).tolist(), "содержание": torch.stack(content_history).tolist()}
    return image.detach()[0], history


def match_colour_statistics(image, reference):
    """Recolour ``image`` so that each Lab channel has the mean and spread of ``reference``'s.

    The classic colour transfer of Reinhard et al. (2001): no network, only two numbers per
    channel. Both are RGB arrays (H, W, 3) in [0, 1]; returns the same.
    """
    source, target = color.rgb2lab(image), color.rgb2lab(reference)
    mean_s, std_s = source.mean((0, 1)), source.std((0, 1)) + 1e-6
    mean_t, std_t = target.mean((0, 1)), target.std((0, 1))
    return np.clip(color.lab2rgb((source - mean_s) / std_s * std_t + mean_t), 0, 1)


def photo_tensor(photo, size):
    """The centre square of an RGB ``uint8`` or float photo, resized to ``size``, as (3, size, size)."""
    h, w = photo.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = transform.resize(photo[top:top + side, left:left + side, :3], (size, size), anti_aliasing=True)
    return torch.tensor(square, dtype=torch.float32).permute(2, 0, 1).contiguous()


def brushstroke_painting(size=256, strokes=1800, seed=0):
    """A generated "painting": short strokes of a blue-yellow palette swirling around a few vortices.

    Returns an RGB float array (size, size, 3) in [0, 1]; it serves as the style image, since
    no artwork ships with the installed packages.
    """
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0.15, 0.85, (4, 2)) * size
    spins = rng.choice([-1.0, 1.0], 4)
    palette = np.array([[0.05, 0.1, 0.3], [0.1, 0.25, 0.55], [0.3, 0.5, 0.8], [0.95, 0.85, 0.3], [0.98, 0.97, 0.85]])
    background = np.array([1, 2, 3, 1, 0.5]) / 7.5
    canvas = np.tile(palette[1], (size, size, 1))
    step = 2.0 * size / 256

    def flow(point):
        offset = point - centres
        # Each vortex turns the strokes around its centre; the softening keeps the centre finite.
        pull = spins[:, None] * np.stack([-offset[:, 1], offset[:, 0]], 1)
        pull /= ((offset ** 2).sum(1) + (0.08 * size) ** 2)[:, None]
        return pull.sum(0) / np.linalg.norm(pull.sum(0))

    for _ in range(strokes):
        point = rng.uniform(0, size, 2)
        near_vortex = np.min(np.hypot(*(point - centres).T)) < 0.12 * size
        shade = rng.choice([3, 4]) if near_vortex else rng.choice(5, p=background)
        colour = np.clip(palette[shade] + rng.normal(0, 0.04, 3), 0, 1)
        radius = rng.uniform(1.0, 2.5) * size / 256
        for _ in range(int(rng.integers(6, 14))):
            rows, cols = draw.disk(point, radius, shape=(size, size))
            canvas[rows, cols] = colour
            point = point + step * flow(point)
    return canvas


class Generator(nn.Module):
    """DCGAN generator: a noise vector ``z`` → a 1×16×16 image in [-1, 1].

    A linear layer makes a 4×4 map, two transposed convolutions double its size twice, and
    a 3×3 convolution at full size mixes the channels into one.
    """

    def __init__(self, z_dim=32, width=32):
        super().__init__()
        self.z_dim = z_dim
        self.project = nn.Sequential(
            nn.Linear(z_dim, 2 * width * 4 * 4, bias=False), nn.BatchNorm1d(2 * width * 4 * 4), nn.ReLU(),
            nn.Unflatten(1, (2 * width, 4, 4)),
        )
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width // 2), nn.ReLU(),
            nn.Conv2d(width // 2, 1, 3, padding=1), nn.Tanh(),
        )

    def forward(self, z):
        return self.upsample(self.project(z))


class Discriminator(nn.Module):
    """DCGAN discriminator: a 1×16×16 image → one logit, "real" when positive.

    Spectral normalisation (Miyato et al., 2018) caps how sharply each layer can change its
    output; without it the discriminator wins this small data set outright and the
    generator's gradient fades.
    """

    def __init__(self, width=32):
        super().__init__()
        sn = nn.utils.parametrizations.spectral_norm
        self.net = nn.Sequential(
            sn(nn.Conv2d(1, width, 4, 2, 1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(width, 2 * width, 4, 2, 1)), nn.LeakyReLU(0.2),
            nn.Flatten(), sn(nn.Linear(2 * width * 4 * 4, 1)),
        )

    def forward(self, image):
        return self.net(image).squeeze(1)


def gan_step(generator, discriminator, real, opt_g, opt_d):
    """One round of the game on a batch ``real`` in [-1, 1]: a discriminator step, then a generator step.

    Returns the two losses (tensors, detached). Both use ``binary_cross_entropy_with_logits``,
    which works on logits directly and stays finite where ``log(sigmoid(x))`` would not.
    """
    z = torch.randn(len(real), generator.z_dim, device=real.device)
    fake = generator(z)
    real_logits = discriminator(real)
    fake_logits = discriminator(fake.detach())  # the discriminator's step must not move the generator
    d_loss = (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
              + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
    opt_d.zero_grad(set_to_none=True)
    d_loss.backward()
    opt_d.step()

    # Non-saturating loss: the generator maximises log D(G(z)) instead of minimising log(1 − D(G(z))).
    fake_logits = discriminator(fake)
    g_loss = F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    opt_g.step()
    return d_loss.detach(), g_loss.detach()
