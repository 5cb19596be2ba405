"""Wrong solutions of assignment 01 that a student could plausibly write; each must lose points."""

MUTANTS = [
    ("to_grayscale", "equal weights (plain mean of the channels)", '''
def to_grayscale(rgb):
    return rgb.astype(np.float64).mean(axis=2)
'''),
    ("to_grayscale", "rounds to uint8", '''
def to_grayscale(rgb):
    return np.round(rgb @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)
'''),
    ("to_grayscale", "channels read as B, G, R", '''
def to_grayscale(rgb):
    return rgb.astype(np.float64) @ np.array([0.114, 0.587, 0.299])
'''),
    ("to_grayscale", "rescales uint8 to [0, 1]", '''
def to_grayscale(rgb):
    return (rgb / 255.0) @ np.array([0.299, 0.587, 0.114])
'''),
    ("to_grayscale", "computes and returns float32", '''
def to_grayscale(rgb):
    rgb = rgb.astype(np.float32)
    return (0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]).astype(np.float32)
'''),
    ("to_grayscale", "skimage's rgb2gray (other weights, rescaled)", '''
def to_grayscale(rgb):
    from skimage.color import rgb2gray
    return rgb2gray(rgb)
'''),
    ("to_grayscale", "keeps a channel axis", '''
def to_grayscale(rgb):
    return rgb.astype(np.float64) @ np.array([[0.299], [0.587], [0.114]])
'''),
    ("crop", "off by one: one row and column too many", '''
def crop(image, top, left, height, width):
    if height <= 0 or width <= 0 or top < 0 or left < 0:
        raise ValueError("bad window")
    if top + height > image.shape[0] or left + width > image.shape[1]:
        raise ValueError("bad window")
    return image[top:top + height + 1, left:left + width + 1].copy()
'''),
    ("crop", "returns a view", '''
def crop(image, top, left, height, width):
    if height <= 0 or width <= 0 or top < 0 or left < 0:
        raise ValueError("bad window")
    if top + height > image.shape[0] or left + width > image.shape[1]:
        raise ValueError("bad window")
    return image[top:top + height, left:left + width]
'''),
    ("crop", "never raises (numpy slicing clips the window)", '''
def crop(image, top, left, height, width):
    return image[top:top + height, left:left + width].copy()
'''),
    ("crop", "no check of negative corners", '''
def crop(image, top, left, height, width):
    if height <= 0 or width <= 0:
        raise ValueError("empty window")
    if top + height > image.shape[0] or left + width > image.shape[1]:
        raise ValueError("bad window")
    return image[top:top + height, left:left + width].copy()
'''),
    ("crop", "rejects windows touching the edge (>= instead of >)", '''
def crop(image, top, left, height, width):
    if height <= 0 or width <= 0 or top < 0 or left < 0:
        raise ValueError("bad window")
    if top + height >= image.shape[0] or left + width >= image.shape[1]:
        raise ValueError("bad window")
    return image[top:top + height, left:left + width].copy()
'''),
    ("crop", "swaps rows and columns", '''
def crop(image, top, left, height, width):
    if height <= 0 or width <= 0 or top < 0 or left < 0:
        raise ValueError("bad window")
    if left + width > image.shape[0] or top + height > image.shape[1]:
        raise ValueError("bad window")
    return image[left:left + width, top:top + height].copy()
'''),
    ("crop", "IndexError instead of ValueError", '''
def crop(image, top, left, height, width):
    if height <= 0 or width <= 0 or top < 0 or left < 0:
        raise IndexError("bad window")
    if top + height > image.shape[0] or left + width > image.shape[1]:
        raise IndexError("bad window")
    return image[top:top + height, left:left + width].copy()
'''),
    ("crop", "allows empty windows", '''
def crop(image, top, left, height, width):
    if top < 0 or left < 0 or top + height > image.shape[0] or left + width > image.shape[1]:
        raise ValueError("bad window")
    return image[top:top + height, left:left + width].copy()
'''),
    ("min_max_normalize", "divides by zero on a constant image", '''
def min_max_normalize(image):
    image = image.astype(np.float64)
    return (image - image.min()) / (image.max() - image.min())
'''),
    ("min_max_normalize", "divides by the max only", '''
def min_max_normalize(image):
    image = image.astype(np.float64)
    if image.max() == 0:
        return np.zeros_like(image)
    return image / image.max()
'''),
    ("min_max_normalize", "subtracts the min but divides by the max", '''
def min_max_normalize(image):
    image = image.astype(np.float64)
    if image.max() == image.min():
        return np.zeros_like(image)
    return (image - image.min()) / image.max()
'''),
    ("min_max_normalize", "divides by 255", '''
def min_max_normalize(image):
    return image.astype(np.float64) / 255.0
'''),
    ("min_max_normalize", "epsilon in the denominator", '''
def min_max_normalize(image):
    image = image.astype(np.float64)
    return (image - image.min()) / (image.max() - image.min() + 1e-8)
'''),
    ("min_max_normalize", "normalises in place", '''
def min_max_normalize(image):
    if image.dtype != np.float64:
        image = image.astype(np.float64)
    low, high = image.min(), image.max()
    if high == low:
        image[...] = 0.0
        return image
    image -= low
    image /= high - low
    return image
'''),
    ("min_max_normalize", "constant image gives ones", '''
def min_max_normalize(image):
    image = image.astype(np.float64)
    if image.max() == image.min():
        return np.ones_like(image)
    return (image - image.min()) / (image.max() - image.min())
'''),
    ("min_max_normalize", "per-channel min and max", '''
def min_max_normalize(image):
    image = image.astype(np.float64)
    low = image.min(axis=(0, 1), keepdims=True)
    high = image.max(axis=(0, 1), keepdims=True)
    span = np.where(high > low, high - low, 1.0)
    return (image - low) / span
'''),
    ("to_grayscale", "weighted sum with Python floats (float32 stays float32)", '''
def to_grayscale(rgb):
    if rgb.dtype == np.uint8:
        rgb = rgb.astype(np.float64)
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
'''),
    ("crop", "copies into float64", '''
def crop(image, top, left, height, width):
    rows, cols = image.shape[:2]
    if height <= 0 or width <= 0 or top < 0 or left < 0 or top + height > rows or left + width > cols:
        raise ValueError("окно выходит за изображение")
    return np.array(image[top:top + height, left:left + width], dtype=float)
'''),
    ("crop", "returns the image itself when the window is all of it", '''
def crop(image, top, left, height, width):
    rows, cols = image.shape[:2]
    if height <= 0 or width <= 0 or top < 0 or left < 0 or top + height > rows or left + width > cols:
        raise ValueError("окно выходит за изображение")
    if (top, left, height, width) == (0, 0, rows, cols):
        return image
    return image[top:top + height, left:left + width].copy()
'''),
    ("crop", "checks the height's sign only", '''
def crop(image, top, left, height, width):
    rows, cols = image.shape[:2]
    if height <= 0 or top < 0 or left < 0 or top + height > rows or left + width > cols:
        raise ValueError("окно выходит за изображение")
    return image[top:top + height, left:left + width].copy()
'''),
    ("min_max_normalize", "no cast: int8 max - min wraps around", '''
def min_max_normalize(image):
    low, high = image.min(), image.max()
    if high == low:
        return np.zeros(image.shape)
    return ((image - low) / (high - low)).astype(np.float64)
'''),
    ("min_max_normalize", "np.isclose decides that an image is constant", '''
def min_max_normalize(image):
    image = np.asarray(image, dtype=np.float64)
    low, high = image.min(), image.max()
    if np.isclose(high, low):
        return np.zeros_like(image)
    return (image - low) / (high - low)
'''),
    ("min_max_normalize", "keeps float32", '''
def min_max_normalize(image):
    if not np.issubdtype(image.dtype, np.floating):
        image = image.astype(np.float64)
    low, high = image.min(), image.max()
    if high == low:
        return np.zeros_like(image)
    return (image - low) / (high - low)
'''),
    ("min_max_normalize", "returns an image that already spans [0, 1] as it is", '''
def min_max_normalize(image):
    image = np.asarray(image, dtype=np.float64)
    low, high = image.min(), image.max()
    if high == low:
        return np.zeros_like(image)
    if low == 0 and high == 1:
        return image
    return (image - low) / (high - low)
'''),
]

# Correct answers written differently: each must keep full marks.
ALTERNATIVES = [
    ("to_grayscale", "tensordot of a float copy", '''
def to_grayscale(rgb):
    return np.tensordot(rgb.astype(np.float64), [0.299, 0.587, 0.114], axes=([-1], [0]))
'''),
    ("to_grayscale", "channel by channel in float64", '''
def to_grayscale(rgb):
    r, g, b = (rgb[..., i].astype(float) for i in range(3))
    return 0.299 * r + 0.587 * g + 0.114 * b
'''),
    ("crop", "np.array of the slice, IndexError avoided by explicit checks", '''
def crop(image, top, left, height, width):
    if min(top, left) < 0 or min(height, width) < 1:
        raise ValueError("bad window")
    if top + height > image.shape[0] or left + width > image.shape[1]:
        raise ValueError("bad window")
    return np.array(image[top:top + height, left:left + width])
'''),
    ("min_max_normalize", "np.ptp and where", '''
def min_max_normalize(image):
    image = image.astype(np.float64)
    span = np.ptp(image)
    if span == 0:
        return np.zeros(image.shape)
    return (image - image.min()) / span
'''),
]
