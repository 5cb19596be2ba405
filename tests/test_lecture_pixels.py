import numpy as np
import pytest

from dlcourse.lecture_pixels import TABLE, lecture_pixels, read_rows


def test_the_shipped_table_is_the_lectures():
    rows = read_rows()
    assert len(rows) == 32
    assert rows[0][:6] == [62, 62, 63, 64, 65, 66]  # the lecture's first line
    assert rows[-1][-3:] == [46, 46, 45]  # and its last
    assert sorted({len(r) for r in rows}) == [30, 31, 32, 34]


def test_short_rows_are_padded_with_nan(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("1\t2\t3\n4\t5\t\t\n7\t8\t9\t10\n", encoding="utf-8")
    matrix = lecture_pixels(path)
    assert matrix.shape == (3, 4)
    np.testing.assert_array_equal(matrix[0], [1, 2, 3, np.nan])
    np.testing.assert_array_equal(matrix[1], [4, 5, np.nan, np.nan])
    np.testing.assert_array_equal(matrix[2], [7, 8, 9, 10])


def test_values_match_the_file_cell_by_cell():
    matrix = lecture_pixels()
    for i, line in enumerate(TABLE.read_text(encoding="utf-8").splitlines()):
        cells = [float(c) for c in line.split("\t") if c.strip()]
        np.testing.assert_array_equal(matrix[i, :len(cells)], cells)
        assert np.isnan(matrix[i, len(cells):]).all()


def test_a_cell_that_is_not_a_number_is_reported_with_its_line(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("1\t2\n3\tx\n", encoding="utf-8")
    with pytest.raises(ValueError, match="строка 2"):
        read_rows(path)
