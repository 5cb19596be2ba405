import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from dlcourse.tabular import load_table, tune


def test_load_table_bundled():
    X, y, names = load_table("breast_cancer")
    assert X.shape == (569, 30)
    assert len(names) == 30 and names[0] == "mean radius"
    assert set(np.unique(y)) == {0, 1}


def test_load_table_reads_a_csv(tmp_path):
    path = tmp_path / "clients.csv"
    path.write_text("age,income,target\n30,1.5,1\n45,2.0,0\n22,0.7,1\n", encoding="utf-8")
    X, y, names = load_table(str(path))
    np.testing.assert_array_equal(X, [[30, 1.5], [45, 2.0], [22, 0.7]])
    np.testing.assert_array_equal(y, [1, 0, 1])
    assert names == ["age", "income"]
    with pytest.raises(ValueError, match="income"):
        load_table(str(path), target="label")


def test_load_table_unknown_name():
    with pytest.raises(ValueError, match="breast_cancer"):
        load_table("no_such_table")


def test_tune_searches_the_whole_grid_and_times_it():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = (X[:, 0] > 0).astype(int)
    search, seconds = tune(LogisticRegression(), {"C": [1e-4, 1.0, 100.0]}, X, y, cv=3)
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == 3
    # C = 1e-4 shrinks the weights to almost zero: the model is left guessing one class.
    assert scores[0] < 0.7
    assert search.best_score_ > 0.9
    assert 0 < seconds < 30


def test_tune_with_an_empty_grid_cross_validates_the_model_as_it_is():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 2))
    y = (X[:, 1] > 0).astype(int)
    search, _ = tune(LogisticRegression(C=1e-4), {}, X, y, cv=3)
    assert search.cv_results_["params"] == [{}]
    assert search.best_score_ < 0.7  # the model's own C, not a better one
