"""The bundled data sets as tensors: shapes, ranges, labels, and the split."""

import numpy as np
import torch
from skimage.data import lfw_subset
from sklearn.datasets import load_digits

from dlcourse import datasets


def test_digits_are_scikit_learns_images_scaled_to_unit_range():
    X, y = datasets.digits()
    assert X.shape == (1797, 1, 8, 8) and X.dtype == torch.float32
    assert y.shape == (1797,) and y.dtype == torch.int64
    reference = load_digits()
    np.testing.assert_allclose(X[:, 0].numpy() * 16, reference.images, atol=1e-5)
    np.testing.assert_array_equal(y.numpy(), reference.target)
    assert X.min() == 0 and X.max() == 1


def test_faces_first_hundred_are_faces():
    X, y = datasets.faces()
    assert X.shape == (200, 1, 25, 25) and X.dtype == torch.float32
    assert y[:100].eq(1).all() and y[100:].eq(0).all()
    assert 0 <= X.min() and X.max() <= 1
    reference = lfw_subset().astype(np.float64)
    reference /= reference.max()
    np.testing.assert_allclose(X[:, 0].numpy(), reference, atol=1e-6)
    assert len(datasets.FACE_CLASSES) == 2 and datasets.FACE_CLASSES[1] == "лицо"


def test_split_is_stratified_disjoint_and_repeatable():
    X = torch.arange(40.0).reshape(40, 1, 1, 1)
    y = torch.tensor([0] * 30 + [1] * 10)
    X_train, X_test, y_train, y_test = datasets.split(X, y, test_size=0.25, seed=0)
    assert len(X_test) == 10 and len(X_train) == 30
    assert int(y_test.sum()) in (2, 3)  # a quarter of the ten ones, rounded either way
    ids = set(X_train.flatten().tolist()) | set(X_test.flatten().tolist())
    assert ids == set(range(40))
    assert torch.equal(y_train, y[X_train.flatten().long()])  # images and labels stay paired
    again = datasets.split(X, y, test_size=0.25, seed=0)
    assert torch.equal(again[1], X_test)
