"""The functions model code applies to columns, whatever their form: a numpy array (layers x points)
or a `GridColumn` (columns.py), or a `PointColumn` of one configuration (point_columns.py). numpy is
imported only for the first two, so the same model code runs on one configuration without it."""

from __future__ import annotations

from . import point_columns as point
from .point_columns import PointColumn


def _plain(*columns) -> bool:
    for c in columns:
        if type(c) is PointColumn or type(c) is list:
            return True
    return False


def _arrays():
    """columns.py, imported on first use (numpy with it); calibration calls these functions in a loop."""
    global _ARRAYS
    if _ARRAYS is None:
        from . import columns

        _ARRAYS = columns
    return _ARRAYS


_ARRAYS = None


def maximum(x, y):
    """Element-wise maximum of two columns."""
    if _plain(x, y):
        return point.maximum(x, y)
    return _arrays().maximum(x, y)


def divide_by_threshold(x, threshold: float, below: float, above: float):
    """x / below where x <= threshold, else x / above (e.g. bytes / bandwidth of cache or DRAM)."""
    if _plain(x):
        return point.divide_by_threshold(x, threshold, below, above)
    return _arrays().divide_by_threshold(x, threshold, below, above)


def positive(x):
    """1 where x > 0, else 0."""
    if _plain(x):
        return point.positive(x)
    return _arrays().positive(x)


def total(x):
    """Sum over the layers, at every point."""
    if _plain(x):
        return point.total(x)
    return _arrays().total(x)


def per_layer(like, values):
    """One constant per layer (a list) as a column of `like`'s form."""
    if _plain(like):
        return point.per_layer(values)
    return _arrays().per_layer(values)


def choose(like, index, options):
    """Per layer, ``options[index[layer]]`` (a per-layer constant picked by a class index; -1 picks the
    last option) as a column of `like`'s form."""
    if _plain(like):
        return point.choose(index, options)
    return _arrays().choose(index, options)


def first_largest(columns, labels):
    """Per entry, the label of the first of `columns` that is largest there (None on a grid)."""
    if _plain(*columns):
        return point.first_largest(columns, labels)
    return _arrays().first_largest(columns, labels)


def scaled(x, factor, *columns):
    """x times ``factor(i, *the columns' values there)`` for layer i (numbers or arrays of them; True or False
    keeps or drops x there); in x's form."""
    if _plain(x, *columns):
        return point.scaled(x, factor, *columns)
    return _arrays().scaled(x, factor, *columns)


def entrywise(function, *columns):
    """Per entry (layer i, and point), ``function(i, *the columns' values there)``."""
    if _plain(*columns):
        return point.entrywise(function, *columns)
    return _arrays().entrywise(function, *columns)
