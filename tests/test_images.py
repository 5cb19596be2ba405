import numpy as np
import pytest
import skimage.io
import torch
import torch.nn.functional as F

from dlcourse.images import (
    KERNELS,
    LECTURE_WINDOW,
    SOBEL_X,
    SOBEL_Y,
    conv2d,
    conv_output_size,
    crop,
    edge_similarity,
    lecture_crop,
    load_photo,
    sobel,
    to_grayscale,
)


def torch_conv2d(image, kernel, stride=1, padding=0):
    out = F.conv2d(
        torch.from_numpy(np.asarray(image, dtype=float))[None, None],
        torch.from_numpy(np.asarray(kernel, dtype=float))[None, None],
        stride=stride,
        padding=padding,
    )
    return out[0, 0].numpy()


@pytest.mark.parametrize("name, shape", [("camera", (512, 512)), ("astronaut", (512, 512, 3)),
                                         ("china", (427, 640, 3)), ("flower", (427, 640, 3))])
def test_load_photo_bundled_samples(name, shape):
    photo = load_photo(name)
    assert photo.shape == shape
    assert photo.dtype == np.uint8


def test_load_photo_reads_a_file(tmp_path):
    path = tmp_path / "mine.png"
    image = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    skimage.io.imsave(path, image, check_contrast=False)
    np.testing.assert_array_equal(load_photo(str(path)), image)


def test_load_photo_unknown_name_lists_known_ones():
    with pytest.raises(ValueError, match="camera"):
        load_photo("no_such_photo")


def test_to_grayscale_is_the_bt601_weighted_sum():
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]]], dtype=np.uint8)
    expected = [[0.299 * 255, 0.587 * 255, 0.114 * 255, 0.299 * 10 + 0.587 * 20 + 0.114 * 30]]
    np.testing.assert_allclose(to_grayscale(rgb), expected)
    np.testing.assert_allclose(to_grayscale(rgb, weights=(1 / 3, 1 / 3, 1 / 3))[0, 3], 20.0)


def test_to_grayscale_keeps_gray_images_and_rejects_other_shapes():
    gray = np.array([[1, 2], [3, 4]], dtype=np.uint8)
    out = to_grayscale(gray)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, gray)
    with pytest.raises(ValueError):
        to_grayscale(np.zeros((2, 2, 4)))


def test_crop_cuts_the_window_and_refuses_to_leave_the_image():
    image = np.arange(100).reshape(10, 10)
    np.testing.assert_array_equal(crop(image, 2, 3, size=2), [[23, 24], [33, 34]])
    assert crop(image, 8, 8, size=2).shape == (2, 2)
    with pytest.raises(ValueError):
        crop(image, 9, 0, size=2)
    with pytest.raises(ValueError):
        crop(image, 0, -1, size=2)


def test_lecture_crop_is_a_32x32_uint8_piece_of_the_camera_photo():
    piece = lecture_crop()
    top, left = LECTURE_WINDOW
    assert piece.shape == (32, 32)
    assert piece.dtype == np.uint8
    np.testing.assert_array_equal(piece, load_photo("camera")[top:top + 32, left:left + 32])
    # The eye and brow of the photo: dark and light pixels both present.
    assert piece.min() < 60 and piece.max() > 150


def test_conv2d_by_hand():
    image = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    kernel = np.array([[1, 0], [0, -1]])
    # Each output: top-left of the window minus its bottom-right, e.g. 1 - 5 = -4.
    np.testing.assert_array_equal(conv2d(image, kernel), [[-4, -4], [-4, -4]])
    np.testing.assert_array_equal(conv2d(image, np.ones((3, 3))), [[45]])
    # With a frame of zeros the corner window sees only 1, 2, 4, 5.
    assert conv2d(image, np.ones((3, 3)), padding=1)[0, 0] == 12
    np.testing.assert_array_equal(conv2d(image, [[1]], stride=2), [[1, 3], [7, 9]])


def test_conv2d_does_not_flip_the_kernel():
    image = np.zeros((3, 3))
    image[1, 1] = 1.0
    kernel = np.arange(9.0).reshape(3, 3)
    # A single bright pixel shows the kernel flipped: true convolution would show it as is.
    np.testing.assert_array_equal(conv2d(image, kernel, padding=1), kernel[::-1, ::-1])


@pytest.mark.parametrize("shape, kernel_shape, stride, padding", [
    ((7, 7), (3, 3), 1, 0),
    ((7, 9), (3, 3), 2, 1),
    ((8, 8), (5, 5), 3, 2),
    ((6, 10), (2, 4), 1, 3),
    ((5, 5), (5, 5), 1, 0),
])
def test_conv2d_matches_torch(shape, kernel_shape, stride, padding):
    rng = np.random.default_rng(0)
    image, kernel = rng.normal(size=shape), rng.normal(size=kernel_shape)
    ours = conv2d(image, kernel, stride=stride, padding=padding)
    np.testing.assert_allclose(ours, torch_conv2d(image, kernel, stride, padding), rtol=1e-12, atol=1e-12)
    expected_shape = tuple(conv_output_size(n, k, stride, padding) for n, k in zip(shape, kernel_shape))
    assert ours.shape == expected_shape


def test_conv_output_size_formula():
    assert conv_output_size(32, 3) == 30
    assert conv_output_size(32, 3, padding=1) == 32
    assert conv_output_size(32, 3, stride=2, padding=1) == 16
    assert conv_output_size(7, 3, stride=2) == 3
    assert conv_output_size(8, 3, stride=2) == 3  # the last column that does not fit is dropped


def test_conv2d_rejects_bad_arguments():
    with pytest.raises(ValueError):
        conv2d(np.zeros((2, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError):
        conv2d(np.zeros((4, 4)), np.ones((3, 3)), stride=0)
    with pytest.raises(ValueError):
        conv2d(np.zeros((4, 4, 3)), np.ones((3, 3)))


def test_sobel_finds_a_vertical_edge():
    image = np.zeros((5, 6))
    image[:, 3:] = 10.0  # dark on the left, bright on the right
    gx, gy, magnitude = sobel(image)
    assert gx.shape == gy.shape == magnitude.shape == image.shape
    # Inner rows: the two columns at the step see 1 + 2 + 1 = 4 times the jump of 10.
    np.testing.assert_array_equal(gx[1:-1, 2:4], np.full((3, 2), 40.0))
    np.testing.assert_array_equal(gx[1:-1, :2], 0.0)
    np.testing.assert_array_equal(gy[1:-1, 1:-1], 0.0)
    np.testing.assert_allclose(magnitude, np.hypot(gx, gy))


def test_sobel_kernels_and_the_kernel_gallery():
    np.testing.assert_array_equal(SOBEL_Y, [[-1, -2, -1], [0, 0, 0], [1, 2, 1]])
    assert SOBEL_X.sum() == 0
    image = np.random.default_rng(1).normal(size=(6, 6))
    np.testing.assert_allclose(conv2d(image, KERNELS["тождественное"], padding=1), image)
    # Blurs average, so they keep a constant image constant; edge detectors send it to zero.
    flat = np.full((5, 5), 7.0)
    for name in ("размытие 3×3", "гауссово размытие", "резкость"):
        np.testing.assert_allclose(conv2d(flat, KERNELS[name]), 7.0)
    for name in ("Собель X", "Собель Y", "Лаплас"):
        np.testing.assert_allclose(conv2d(flat, KERNELS[name]), 0.0)


def test_edge_similarity_is_one_for_sobel_of_any_direction_and_zero_for_no_edge():
    for angle in np.linspace(0, 2 * np.pi, 7):
        kernel = np.cos(angle) * SOBEL_X + np.sin(angle) * SOBEL_Y
        assert edge_similarity(3 * kernel + 5) == pytest.approx(1.0)  # scale and offset do not matter
    assert edge_similarity(KERNELS["Лаплас"]) == pytest.approx(0.0)
    assert edge_similarity(np.full((3, 3), 2.0)) == 0.0
    # A pure horizontal difference [-1 0 1] in one row is a partial match: cosine 4 / (√2 · √12).
    partial = np.zeros((3, 3))
    partial[1] = [-1, 0, 1]
    assert edge_similarity(partial) == pytest.approx(4 / (np.sqrt(2) * np.sqrt(12)))
