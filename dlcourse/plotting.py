"""Figures the chapters share: one style, images, image grids and matrices with numbers.

Call ``use_style()`` once at the top of a chapter. The drawing helpers take an optional
``ax`` (draw there) or make their own figure, and return what they drew on, so a chapter
can still add its own titles and labels:

    from dlcourse.plotting import use_style, show_image, image_grid, show_matrix
    use_style()
    show_image(photo, title="Фото")
    image_grid([r, g, b], titles=["R", "G", "B"])
    show_matrix(crop)  # a heat-map with the value written in every cell
"""

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

STYLE = {
    # DejaVu Sans ships with matplotlib and has Cyrillic glyphs, so Russian labels render anywhere.
    "font.family": "DejaVu Sans",
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "figure.dpi": 100,
    "figure.constrained_layout.use": True,
    "image.interpolation": "nearest",  # a pixel stays a square: the chapters count pixels
}


def use_style():
    """Apply the course's figure style (``STYLE``) to matplotlib."""
    mpl.rcParams.update(STYLE)


def _axes(ax, figsize):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def show_image(image, ax=None, title=None, axis=False, **imshow_kwargs):
    """Draw one image and return its ``Axes``.

    ``image`` is H×W (drawn in gray) or H×W×3 (RGB). A ``uint8`` grayscale image is drawn
    on the fixed scale 0–255, so that dark stays dark; any other 2-D image is stretched to
    its own minimum and maximum (pass ``vmin``/``vmax`` to fix the scale). ``axis=True``
    keeps the pixel coordinates on the axes.
    """
    image = np.asarray(image)
    ax = _axes(ax, (4, 4))
    if image.ndim == 2:
        imshow_kwargs.setdefault("cmap", "gray")
        if image.dtype == np.uint8:
            imshow_kwargs.setdefault("vmin", 0)
            imshow_kwargs.setdefault("vmax", 255)
    ax.imshow(image, **imshow_kwargs)
    ax.grid(False)
    if not axis:
        ax.set_axis_off()
    if title is not None:
        ax.set_title(title)
    return ax


def image_grid(images, titles=None, ncols=4, size=2.5, **imshow_kwargs):
    """Draw ``images`` in a grid of ``ncols`` columns and return the ``Figure``.

    Each image goes through ``show_image`` (same rules for gray and colour images);
    ``size`` is the side of one cell in inches. Cells left over in the last row are hidden.
    """
    images = list(images)
    ncols = min(ncols, len(images))
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i < len(images):
            show_image(images[i], ax=ax, title=None if titles is None else titles[i], **imshow_kwargs)
        else:
            ax.set_axis_off()
    return fig


def show_matrix(matrix, ax=None, fmt="{:g}", cmap="gray", fontsize=None, title=None, **imshow_kwargs):
    """Draw a 2-D array as a heat-map with each value written in its cell; return the ``Axes``.

    ``fmt`` formats a value (``"{:.1f}"`` for one decimal). The text is white on dark cells
    and black on light ones. Rows and columns are numbered from 0, as in NumPy.
    """
    matrix = np.asarray(matrix)
    if matrix.ndim != 2:
        raise ValueError(f"show_matrix draws a 2-D array, got shape {matrix.shape}")
    rows, cols = matrix.shape
    ax = _axes(ax, (0.5 * cols + 1, 0.5 * rows + 1))
    picture = ax.imshow(matrix, cmap=cmap, **imshow_kwargs)
    shade = picture.cmap(picture.norm(matrix))
    # Perceived brightness of each cell's colour decides the colour of its text.
    brightness = shade[..., :3] @ np.array([0.299, 0.587, 0.114])
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, fmt.format(value), ha="center", va="center", fontsize=fontsize,
                color="black" if brightness[i, j] > 0.5 else "white")
    ax.grid(False)
    ax.set_xticks(range(cols))
    ax.set_yticks(range(rows))
    ax.tick_params(length=0, labelsize=fontsize)
    if title is not None:
        ax.set_title(title)
    return ax
