"""The lecture's 32-row table of pixel brightness values, shipped as a data file of the package.

The lecture prints the table as text, one row per line, values separated by tabs. Copying
it from the slide lost or split a few cells, so its rows hold 30 to 34 numbers;
:func:`lecture_pixels` keeps them as they are and pads the short rows with NaN, which
matplotlib draws as empty cells.
"""

from pathlib import Path

import numpy as np

TABLE = Path(__file__).with_name("data") / "lecture_pixels.tsv"


def read_rows(path=TABLE):
    """The table's rows as lists of ints, exactly as the file has them (rows may differ in length)."""
    rows = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        cells = [cell for cell in line.split("\t") if cell.strip()]
        try:
            rows.append([int(cell) for cell in cells])
        except ValueError as error:
            raise ValueError(f"{path}: строка {number} содержит не число: {error}") from None
    return rows


def lecture_pixels(path=TABLE):
    """The table as a float matrix, one row per line, short rows padded at the end with NaN."""
    rows = read_rows(path)
    matrix = np.full((len(rows), max(map(len, rows))), np.nan)
    for i, row in enumerate(rows):
        matrix[i, :len(row)] = row
    return matrix
