"""Tabular data for the chapter on networks versus gradient boosting: loading and timed tuning.

``load_table`` reads a table bundled with scikit-learn or a CSV file of the course's own;
``tune`` runs a grid search and measures its wall time.
"""

import time
from pathlib import Path

import numpy as np
from sklearn import datasets
from sklearn.model_selection import GridSearchCV
from threadpoolctl import threadpool_limits

BUNDLED_TABLES = {
    "breast_cancer": datasets.load_breast_cancer,
    "wine": datasets.load_wine,
    "iris": datasets.load_iris,
}


def load_table(name="breast_cancer", target="target"):
    """A table as ``(X, y, feature_names)``: a float matrix, its labels and column names.

    ``name`` is a table bundled with scikit-learn (``BUNDLED_TABLES``) or the path of a CSV
    file with a header row, whose column ``target`` holds the labels and all the other
    columns are numeric features.
    """
    if name in BUNDLED_TABLES:
        bunch = BUNDLED_TABLES[name]()
        return bunch.data, bunch.target, list(bunch.feature_names)
    if Path(name).is_file():
        table = np.genfromtxt(name, delimiter=",", names=True, dtype=float, encoding="utf-8")
        columns = list(table.dtype.names)
        if target not in columns:
            raise ValueError(f"В файле {name} нет столбца {target!r}; есть: {', '.join(columns)}")
        features = [c for c in columns if c != target]
        X = np.column_stack([table[c] for c in features])
        return X, table[target].astype(int), features
    raise ValueError(f"Нет таблицы {name!r}: укажите путь к CSV или одно из имён: {', '.join(BUNDLED_TABLES)}")


def tune(model, grid, X, y, cv=3):
    """Grid-search ``model`` over ``grid`` with ``cv``-fold cross-validation.

    An empty ``grid`` (``{}``) cross-validates the model with its settings as they are.
    Returns the fitted ``GridSearchCV`` and the seconds it took. The search runs on one
    thread: on a small table, thread start-up and a busy neighbour would otherwise
    dominate the time, and the timings of two models would not compare.
    """
    search = GridSearchCV(model, grid, cv=cv, n_jobs=1)
    with threadpool_limits(1):
        start = time.perf_counter()
        search.fit(X, y)
        seconds = time.perf_counter() - start
    return search, seconds
