"""The functions model code applies to columns, whatever their form: a numpy array (layers x points)
or a `GridColumn` (columns.py), or a `PointColumn` of one configuration (point_columns.py). numpy is
imported only for the first two, so the same model code runs on one configuration without it."""

from __future__ import annotations

from . import point_columns as point
from .point_columns import PointColumn


def _plain(*columns) -> bool:
    return any(isinstance(c, (PointColumn, list)) for c in columns)


def maximum(x, y):
    """Element-wise maximum of two columns."""
    if _plain(x, y):
        return point.maximum(x, y)
    from .columns import maximum as on_arrays

    return on_arrays(x, y)


def divide_by_threshold(x, threshold: float, below: float, above: float):
    """x / below where x <= threshold, else x / above (e.g. bytes / bandwidth of cache or DRAM)."""
    if _plain(x):
        return point.divide_by_threshold(x, threshold, below, above)
    from .columns import divide_by_threshold as on_arrays

    return on_arrays(x, threshold, below, above)


def positive(x):
    """1 where x > 0, else 0."""
    if _plain(x):
        return point.positive(x)
    from .columns import positive as on_arrays

    return on_arrays(x)


def total(x):
    """Sum over the layers, at every point."""
    if _plain(x):
        return point.total(x)
    from .columns import total as on_arrays

    return on_arrays(x)


def per_layer(like, values):
    """One constant per layer (a list) as a column of `like`'s form."""
    if _plain(like):
        return point.per_layer(values)
    from .columns import per_layer as on_arrays

    return on_arrays(values)


def first_largest(columns, labels):
    """Per entry, the label of the first of `columns` that is largest there (None on a grid)."""
    if _plain(*columns):
        return point.first_largest(columns, labels)
    from .columns import first_largest as on_arrays

    return on_arrays(columns, labels)


def entrywise(function, *columns):
    """Per entry (layer i, and point), ``function(i, *the columns' values there)``."""
    if _plain(*columns):
        return point.entrywise(function, *columns)
    from .columns import entrywise as on_arrays

    return on_arrays(function, *columns)
