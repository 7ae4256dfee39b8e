"""The third form of a column (columns.py): one configuration, one Python number per layer.

Model code written against columns (latency/model.py) runs on it without numpy. Each layer's number
goes through the same operations, in the same order, as it would in a (layers, 1) numpy array: IEEE
double arithmetic for real numbers, and Python's exact integer arithmetic for counts (as numpy's
object arrays did). `pairwise_sum` adds in numpy's order, so a total is the one numpy gives for the
same numbers, to the bit.
"""

from __future__ import annotations

from dataclasses import dataclass

# numpy's pairwise summation: blocks of at most this many numbers are added with 8 accumulators
# (numpy/_core/src/umath/loops_utils.h.src, PW_BLOCKSIZE).
PAIRWISE_BLOCK = 128


class PointColumn:
    """One number per layer at one configuration, with element-wise arithmetic against another
    `PointColumn` or a number."""

    __slots__ = ("values",)

    def __init__(self, values):
        self.values = list(values)

    def __len__(self) -> int:
        return len(self.values)

    def __iter__(self):
        return iter(self.values)

    def __getitem__(self, layer: int):
        return self.values[layer]

    def _paired(self, other) -> list:
        if isinstance(other, PointColumn):
            if len(other.values) != len(self.values):
                raise ValueError(f"columns of {len(self.values)} and {len(other.values)} layers")
            return other.values
        return [other] * len(self.values)

    def __add__(self, other):
        return PointColumn([a + b for a, b in zip(self.values, self._paired(other))])

    def __radd__(self, other):
        return PointColumn([b + a for a, b in zip(self.values, self._paired(other))])

    def __sub__(self, other):
        return PointColumn([a - b for a, b in zip(self.values, self._paired(other))])

    def __rsub__(self, other):
        return PointColumn([b - a for a, b in zip(self.values, self._paired(other))])

    def __mul__(self, other):
        return PointColumn([a * b for a, b in zip(self.values, self._paired(other))])

    def __rmul__(self, other):
        return PointColumn([b * a for a, b in zip(self.values, self._paired(other))])

    def __truediv__(self, other):
        return PointColumn([a / b for a, b in zip(self.values, self._paired(other))])

    def __rtruediv__(self, other):
        return PointColumn([b / a for a, b in zip(self.values, self._paired(other))])

    def __neg__(self):
        return PointColumn([-a for a in self.values])


@dataclass(frozen=True)
class PointValues:
    """field -> `PointColumn` for the layers of one table at one configuration: what the latency model
    reads as its `values` (the one-configuration counterpart of `values.LayerValues`)."""

    layers: tuple
    mode: str
    columns: dict

    def __getitem__(self, field: str) -> PointColumn:
        return self.columns[field]

    def need(self, fields) -> None:
        """Every field is there already."""


def point_values(layers, mode: str, per_layer: dict) -> PointValues:
    """`per_layer` (field -> one value per layer, from `one_point.configuration`) as columns: real numbers
    (float) in ideal mode; in exact mode the counts themselves, integers where they are whole."""
    if mode == "exact":
        columns = {field: PointColumn(values) for field, values in per_layer.items()}
    else:
        columns = {field: PointColumn(float(v) for v in values) for field, values in per_layer.items()}
    return PointValues(tuple(layers), mode, columns)


def per_layer(values) -> PointColumn:
    return PointColumn(values)


def choose(index, options) -> PointColumn:
    return PointColumn([options[i] for i in index])


def maximum(x, y) -> PointColumn:
    """The larger of each layer's two numbers (the first when they are equal, as numpy's object arrays)."""
    return PointColumn([a if a >= b else b for a, b in zip(_values(x, y), _values(y, x))])


def divide_by_threshold(x, threshold: float, below: float, above: float) -> PointColumn:
    return PointColumn([v / (below if v <= threshold else above) for v in x])


def positive(x) -> PointColumn:
    return PointColumn([1.0 if v > 0 else 0.0 for v in x])


def total(x) -> float:
    return pairwise_sum(x)


def first_largest(columns, labels) -> list:
    """Per layer, the label of the first of `columns` that is largest there."""
    columns = [list(c) for c in columns]
    return [labels[max(range(len(columns)), key=lambda j: columns[j][i])] for i in range(len(columns[0]))]


def scaled(x, factor, *columns) -> PointColumn:
    """x times ``factor(i, *their values)`` for layer i (a factor True or False keeps or drops x there)."""
    return PointColumn([v * float(factor(i, *values)) for i, (v, *values) in enumerate(zip(x, *columns))])


def entrywise(function, *columns) -> list:
    """Per layer i, ``function(i, *its values)``."""
    return [function(i, *values) for i, values in enumerate(zip(*columns))]


def pairwise_sum(values) -> float:
    """The sum of `values` as floats, added in the order of numpy's ``sum`` on a float64 array (the
    identity 0.0, then pairwise summation: halves of multiples of 8, blocks of up to 128 numbers
    with 8 accumulators), so equal to it to the bit."""
    numbers = [float(v) for v in values]
    return 0.0 + _pairwise(numbers, 0, len(numbers))


def _pairwise(a: list, start: int, n: int) -> float:
    if n < 8:
        out = -0.0
        for i in range(start, start + n):
            out += a[i]
        return out
    if n <= PAIRWISE_BLOCK:
        r = a[start:start + 8]
        i = 8
        whole = n - n % 8
        while i < whole:
            for j in range(8):
                r[j] += a[start + i + j]
            i += 8
        out = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for k in range(i, n):
            out += a[start + k]
        return out
    half = n // 2
    half -= half % 8
    return _pairwise(a, start, half) + _pairwise(a, start + half, n - half)


def _values(x, like) -> list:
    return x.values if isinstance(x, PointColumn) else [x] * len(like.values)
