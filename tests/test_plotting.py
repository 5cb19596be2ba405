import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from dlcourse.plotting import STYLE, image_grid, show_image, show_matrix, use_style


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_use_style_applies_the_course_style():
    with matplotlib.rc_context():
        use_style()
        for key, value in STYLE.items():
            assert matplotlib.rcParams[key] == value or matplotlib.rcParams[key] == [value]


def test_show_image_gray_uint8_keeps_the_full_scale_and_hides_axes():
    image = np.full((4, 5), 10, dtype=np.uint8)
    ax = show_image(image, title="Фото")
    (picture,) = ax.get_images()
    assert picture.get_cmap().name == "gray"
    assert picture.get_clim() == (0, 255)
    assert not ax.axison
    assert ax.get_title() == "Фото"
    np.testing.assert_array_equal(picture.get_array(), image)


def test_show_image_float_gray_is_stretched_and_axis_can_stay():
    image = np.linspace(-1.0, 3.0, 12).reshape(3, 4)
    ax = show_image(image, axis=True)
    assert ax.get_images()[0].get_clim() == (-1.0, 3.0)
    assert ax.axison


def test_show_image_rgb_draws_on_given_axes():
    _, ax = plt.subplots()
    image = np.zeros((3, 3, 3), dtype=np.uint8)
    assert show_image(image, ax=ax) is ax
    assert ax.get_images()[0].get_array().shape == (3, 3, 3)


def test_image_grid_lays_out_images_and_hides_spare_cells():
    images = [np.full((2, 2), i, dtype=np.uint8) for i in range(5)]
    fig = image_grid(images, titles=[f"№{i}" for i in range(5)], ncols=3)
    axes = fig.get_axes()
    assert len(axes) == 6
    assert [ax.get_title() for ax in axes[:5]] == [f"№{i}" for i in range(5)]
    assert [len(ax.get_images()) for ax in axes] == [1, 1, 1, 1, 1, 0]
    assert not axes[5].axison


def test_image_grid_with_fewer_images_than_columns_uses_one_row():
    fig = image_grid([np.zeros((2, 2)), np.ones((2, 2))], ncols=4)
    assert len(fig.get_axes()) == 2


def test_show_matrix_writes_every_value_with_contrasting_colour():
    matrix = np.array([[0, 255], [140, 7]])
    ax = show_matrix(matrix)
    texts = {(t.get_position(), t.get_text()): t.get_color() for t in ax.texts}
    assert texts == {
        ((0, 0), "0"): "white",
        ((1, 0), "255"): "black",
        ((0, 1), "140"): "black",
        ((1, 1), "7"): "white",
    }
    assert list(ax.get_xticks()) == [0, 1]


def test_show_matrix_uses_the_format_and_rejects_non_matrices():
    ax = show_matrix(np.array([[0.3, -1.0]]), fmt="{:.1f}", title="Ядро")
    assert sorted(t.get_text() for t in ax.texts) == ["-1.0", "0.3"]
    assert ax.get_title() == "Ядро"
    with pytest.raises(ValueError):
        show_matrix(np.zeros(3))
