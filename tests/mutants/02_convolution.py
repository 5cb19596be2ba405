"""Wrong solutions of assignment 02 that a student could plausibly write; each must lose points."""

_LOOP = '''
def conv2d(image, kernel, stride=1, padding=0):
    kernel = np.asarray(kernel, dtype=float)
    {prepare}
    kh, kw = kernel.shape
    rows = {rows}
    cols = {cols}
    out = {out}
    for i in range(rows):
        for j in range(cols):
            out[i, j] = np.sum(padded[i * stride:i * stride + kh, j * stride:j * stride + kw] * kernel)
    return out
'''


def _conv(prepare="padded = np.pad(np.asarray(image, dtype=float), padding)",
          rows="(padded.shape[0] - kh) // stride + 1", cols="(padded.shape[1] - kw) // stride + 1",
          out="np.zeros((rows, cols))"):
    return _LOOP.format(prepare=prepare, rows=rows, cols=cols, out=out)


MUTANTS = [
    ("conv2d", "true convolution (flips the kernel)", _conv(
        prepare="padded = np.pad(np.asarray(image, dtype=float), padding)\n    kernel = kernel[::-1, ::-1]")),
    ("conv2d", "pads only the bottom and right sides", _conv(
        prepare="padded = np.pad(np.asarray(image, dtype=float), ((0, padding), (0, padding)))")),
    ("conv2d", "pads with edge values instead of zeros", _conv(
        prepare="padded = np.pad(np.asarray(image, dtype=float), padding, mode='edge')")),
    ("conv2d", "output size ignores the stride", _conv(
        rows="(padded.shape[0] - kh) + 1", cols="(padded.shape[1] - kw) + 1",
        out="np.zeros((rows, cols))\n    rows = (padded.shape[0] - kh) // stride + 1\n"
            "    cols = (padded.shape[1] - kw) // stride + 1")),
    ("conv2d", "ignores the stride", _conv(prepare="padded = np.pad(np.asarray(image, dtype=float), padding)\n"
                                                   "    stride = 1")),
    ("conv2d", "rounds the output size up", _conv(
        rows="-(-(padded.shape[0] - kh) // stride) + 1", cols="-(-(padded.shape[1] - kw) // stride) + 1",
        out="np.zeros((rows, cols))\n    padded = np.pad(padded, ((0, stride), (0, stride)))")),
    ("conv2d", "output buffer of the image's dtype (uint8 wraps)", _conv(
        prepare="padded = np.pad(image, padding)", out="np.zeros((rows, cols), dtype=image.dtype)")),
    ("conv2d", "kernel height and width swapped", _conv(
        prepare="padded = np.pad(np.asarray(image, dtype=float), padding)\n    kernel = kernel.T")),
    ("conv2d", "padding ignored", _conv(prepare="padded = np.asarray(image, dtype=float)")),
    ("sobel_magnitude", "no padding", '''
def sobel_magnitude(image):
    g_x = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    return np.sqrt(conv2d(image, g_x) ** 2 + conv2d(image, g_x.T) ** 2)
'''),
    ("sobel_magnitude", "squared magnitude", '''
def sobel_magnitude(image):
    g_x = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    return conv2d(image, g_x, padding=1) ** 2 + conv2d(image, g_x.T, padding=1) ** 2
'''),
    ("sobel_magnitude", "sum of absolute values", '''
def sobel_magnitude(image):
    g_x = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    return np.abs(conv2d(image, g_x, padding=1)) + np.abs(conv2d(image, g_x.T, padding=1))
'''),
    ("sobel_magnitude", "Gy equal to Gx", '''
def sobel_magnitude(image):
    g_x = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    return np.sqrt(conv2d(image, g_x, padding=1) ** 2 + conv2d(image, g_x, padding=1) ** 2)
'''),
    ("sobel_magnitude", "normalised to [0, 1]", '''
def sobel_magnitude(image):
    g_x = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    magnitude = np.sqrt(conv2d(image, g_x, padding=1) ** 2 + conv2d(image, g_x.T, padding=1) ** 2)
    return magnitude / magnitude.max()
'''),
    ("sobel_magnitude", "returns gx and gy instead of the magnitude", '''
def sobel_magnitude(image):
    g_x = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    return conv2d(image, g_x, padding=1), conv2d(image, g_x.T, padding=1)
'''),
    ("sobel_magnitude", "only the horizontal gradient", '''
def sobel_magnitude(image):
    g_x = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    return np.abs(conv2d(image, g_x, padding=1))
'''),
    ("sobel_magnitude", "skimage's sobel (scaled, reflected border)", '''
def sobel_magnitude(image):
    from skimage.filters import sobel
    return sobel(image)
'''),
    ("conv2d", "takes the kernel for an array (the text's list has no .shape)", '''
def conv2d(image, kernel, stride=1, padding=0):
    padded = np.pad(np.asarray(image, dtype=np.float64), padding)
    kh, kw = kernel.shape
    rows = (padded.shape[0] - kh) // stride + 1
    cols = (padded.shape[1] - kw) // stride + 1
    out = np.zeros((rows, cols))
    for i in range(rows):
        for j in range(cols):
            out[i, j] = np.sum(padded[i * stride:i * stride + kh, j * stride:j * stride + kw] * kernel)
    return out
'''),
    ("conv2d", "keeps a float image's dtype (float32 out)", _conv(
        prepare="padded = np.pad(image if image.dtype.kind == 'f' else image.astype(float), padding)",
        out="np.zeros((rows, cols), dtype=padded.dtype)")),
    ("sobel_magnitude", "rescales uint8 images to [0, 1] first", '''
def sobel_magnitude(image):
    if image.dtype == np.uint8:
        image = image / 255.0
    g_x = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    return np.sqrt(conv2d(image, g_x, padding=1) ** 2 + conv2d(image, g_x.T, padding=1) ** 2)
'''),
    ("sobel_magnitude", "casts back to the image's dtype", '''
def sobel_magnitude(image):
    g_x = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    out = np.sqrt(conv2d(image, g_x, padding=1) ** 2 + conv2d(image, g_x.T, padding=1) ** 2)
    return out.astype(np.asarray(image).dtype)
'''),
]

# Correct answers written differently: each must keep full marks.
ALTERNATIVES = [
    ("conv2d", "sliding windows and einsum", '''
def conv2d(image, kernel, stride=1, padding=0):
    kernel = np.asarray(kernel, dtype=np.float64)
    padded = np.pad(np.asarray(image, dtype=np.float64), ((padding, padding), (padding, padding)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, kernel.shape)[::stride, ::stride]
    return np.einsum("ijuv,uv->ij", windows, kernel)
'''),
    ("conv2d", "sum over kernel offsets of strided image slices", '''
def conv2d(image, kernel, stride=1, padding=0):
    kernel = np.array(kernel, dtype=float)
    image = np.asarray(image, dtype=float)
    kh, kw = kernel.shape
    padded = np.zeros((image.shape[0] + 2 * padding, image.shape[1] + 2 * padding))
    padded[padding:padding + image.shape[0], padding:padding + image.shape[1]] = image
    rows = (padded.shape[0] - kh) // stride + 1
    cols = (padded.shape[1] - kw) // stride + 1
    out = np.zeros((rows, cols))
    for u in range(kh):
        for v in range(kw):
            out += kernel[u, v] * padded[u:u + (rows - 1) * stride + 1:stride, v:v + (cols - 1) * stride + 1:stride]
    return out
'''),
    ("sobel_magnitude", "np.hypot with Gy written out", '''
def sobel_magnitude(image):
    g_x = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    g_y = [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]
    return np.hypot(conv2d(image, np.array(g_x, dtype=float), padding=1),
                    conv2d(image, np.array(g_y, dtype=float), padding=1))
'''),
]
