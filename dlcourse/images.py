"""Images for the chapters on pixels and convolution: loading, crops, grayscale, convolution.

Photos come from the packages' bundled samples, so nothing is downloaded; ``load_photo``
also takes a path, which is how a course points the chapters at its own pictures.
``conv2d`` is the NumPy convolution of the book: a cross-correlation, like the one that
``torch.nn.functional.conv2d`` computes.
"""

from pathlib import Path

import numpy as np
import skimage.data
import skimage.io
from skimage.util import img_as_ubyte
from sklearn.datasets import load_sample_image

# scikit-image samples stored inside the package (others would be downloaded on first use).
SKIMAGE_PHOTOS = (
    "astronaut", "brick", "camera", "chelsea", "coffee", "coins", "grass", "gravel",
    "horse", "hubble_deep_field", "moon", "page", "retina", "rocket", "text",
)
SKLEARN_PHOTOS = ("china", "flower")

# Where the book's 32×32 "table of numbers" is cut from ``camera``: the eye and the brow.
LECTURE_WINDOW = (140, 220)

# Weights of R, G and B in the luma of ITU-R BT.601, the formula 0.299 R + 0.587 G + 0.114 B.
BT601 = (0.299, 0.587, 0.114)

SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float)
SOBEL_Y = SOBEL_X.T.copy()

# Kernels for the chapter's "pick a kernel" figure, by the names it shows.
KERNELS = {
    "тождественное": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=float),
    "размытие 3×3": np.full((3, 3), 1 / 9),
    "гауссово размытие": np.outer([1, 2, 1], [1, 2, 1]) / 16,
    "резкость": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float),
    "Собель X": SOBEL_X,
    "Собель Y": SOBEL_Y,
    "Лаплас": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=float),
}


def load_photo(name="camera"):
    """A photo as a ``uint8`` array, H×W (grayscale) or H×W×3 (RGB).

    ``name`` is a bundled scikit-image sample (``SKIMAGE_PHOTOS``), a scikit-learn sample
    (``"china"`` or ``"flower"``) or the path of an image file.
    """
    if name in SKIMAGE_PHOTOS:
        return getattr(skimage.data, name)()
    if name in SKLEARN_PHOTOS:
        return load_sample_image(f"{name}.jpg")
    if Path(name).is_file():
        image = skimage.io.imread(name)
        if image.ndim == 3 and image.shape[2] == 4:
            image = image[..., :3]  # the chapters work with RGB; transparency is dropped
        return img_as_ubyte(image)
    known = ", ".join(SKIMAGE_PHOTOS + SKLEARN_PHOTOS)
    raise ValueError(f"Нет фото {name!r}: укажите путь к файлу или одно из имён: {known}")


def to_grayscale(image, weights=BT601):
    """Brightness of an RGB image: the weighted sum of its channels, in ``float64``.

    The scale is kept: a ``uint8`` photo gives values 0–255, a float one in 0–1 stays in
    0–1. A 2-D image is already gray and comes back as ``float64``.
    """
    image = np.asarray(image, dtype=float)
    if image.ndim == 2:
        return image
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"Ожидалось изображение H×W или H×W×3, получена форма {image.shape}")
    return image @ np.asarray(weights, dtype=float)


def crop(image, top, left, size=32):
    """The ``size``×``size`` window of ``image`` whose top-left pixel is (``top``, ``left``)."""
    height, width = image.shape[:2]
    if not (0 <= top <= height - size and 0 <= left <= width - size):
        raise ValueError(
            f"Окно {size}×{size} с углом ({top}, {left}) не помещается в изображение {height}×{width}"
        )
    return image[top:top + size, left:left + size]


def lecture_crop(name="camera", top=LECTURE_WINDOW[0], left=LECTURE_WINDOW[1], size=32):
    """A grayscale ``uint8`` crop of a photo, like the lecture's 32×32 table of pixel values."""
    gray = np.rint(to_grayscale(load_photo(name))).astype(np.uint8)
    return crop(gray, top, left, size)


def conv_output_size(size, kernel_size, stride=1, padding=0):
    """Length of a convolution's output along one axis: ⌊(n + 2p − k) / s⌋ + 1."""
    return (size + 2 * padding - kernel_size) // stride + 1


def conv2d(image, kernel, stride=1, padding=0):
    """2-D cross-correlation of ``image`` with ``kernel``, the "convolution" of deep learning.

    Each output pixel is the sum of a window of the image times the kernel, element by
    element; the window moves by ``stride`` pixels, and the image is first framed with
    ``padding`` rows and columns of zeros. The kernel is not flipped, as in
    ``torch.nn.functional.conv2d``. Returns ``float64``.
    """
    image = np.asarray(image, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError(f"Ожидались двумерные изображение и ядро, получены формы {image.shape} и {kernel.shape}")
    if stride < 1 or padding < 0:
        raise ValueError(f"Нужны stride ≥ 1 и padding ≥ 0, получены {stride} и {padding}")
    padded = np.pad(image, padding)
    if any(k > n for k, n in zip(kernel.shape, padded.shape)):
        raise ValueError(f"Ядро {kernel.shape} больше изображения с рамкой {padded.shape}")
    windows = np.lib.stride_tricks.sliding_window_view(padded, kernel.shape)[::stride, ::stride]
    return np.einsum("ijkl,kl->ij", windows, kernel)


def sobel(image):
    """Sobel filter of a grayscale image: ``(gx, gy, magnitude)``, each of the image's size.

    ``gx`` grows where the image gets brighter to the right, ``gy`` where it gets brighter
    downwards; the magnitude √(gx² + gy²) is the strength of an edge in any direction.
    """
    gx = conv2d(image, SOBEL_X, padding=1)
    gy = conv2d(image, SOBEL_Y, padding=1)
    return gx, gy, np.hypot(gx, gy)


def edge_similarity(kernel):
    """How much a 3×3 kernel looks like a Sobel edge detector of some direction, from 0 to 1.

    Sobel kernels of every direction are cos(θ)·SOBEL_X + sin(θ)·SOBEL_Y; since SOBEL_X and
    SOBEL_Y are orthogonal and of equal length, the cosine similarity with the best of them
    is the length of the kernel's projection onto their plane. The kernel's mean is removed
    first: a constant part only changes brightness, and Sobel kernels sum to zero.
    """
    kernel = np.asarray(kernel, dtype=float)
    kernel = kernel - kernel.mean()
    norm = np.linalg.norm(kernel)
    if norm == 0:
        return 0.0
    unit = np.linalg.norm(SOBEL_X)
    return float(np.hypot((kernel * SOBEL_X).sum(), (kernel * SOBEL_Y).sum()) / (norm * unit))
