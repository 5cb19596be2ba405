"""Image data sets that ship with the installed packages, as torch tensors.

Nothing is downloaded: the digits come with scikit-learn, the faces with scikit-image.
Images are ``float32`` tensors of shape ``(N, 1, H, W)`` with values in ``[0, 1]``,
labels are ``int64`` tensors of shape ``(N,)``; both stay on the CPU until the caller
moves them.
"""

import numpy as np
import torch
from skimage.data import lfw_subset
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

DIGIT_CLASSES = [str(d) for d in range(10)]
FACE_CLASSES = ["не лицо", "лицо"]


def digits():
    """The 1797 handwritten digits 8×8 of scikit-learn and their labels 0–9."""
    bunch = load_digits()
    X = torch.from_numpy(bunch.images.astype(np.float32) / 16.0).unsqueeze(1)  # pixels are 0..16
    return X, torch.from_numpy(bunch.target.astype(np.int64))


def faces():
    """The 200 patches 25×25 of ``skimage.data.lfw_subset``: label 1 is a face, 0 is not.

    The first 100 patches are faces from Labeled Faces in the Wild, the other 100 are
    background patches from the same photos.
    """
    images = lfw_subset().astype(np.float32)
    if images.max() > 1:  # older scikit-image releases return uint8
        images /= 255.0
    X = torch.from_numpy(images).unsqueeze(1)
    y = torch.zeros(len(images), dtype=torch.int64)
    y[:100] = 1
    return X, y


def split(X, y, *, test_size=0.25, seed=0):
    """A stratified train/test split of tensors: ``X_train, X_test, y_train, y_test``."""
    index = np.arange(len(y))
    train, test = train_test_split(index, test_size=test_size, random_state=seed, stratify=y.numpy())
    train, test = torch.from_numpy(train), torch.from_numpy(test)
    return X[train], X[test], y[train], y[test]
