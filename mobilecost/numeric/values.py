"""The numeric stage: every per-layer quantity of a table at a set of points, computed once.

`values_at` evaluates the compiled per-layer functions at a list of configurations (columns are numpy
arrays, layers x points); `values_on_grid` gives the same quantities on a full grid alphas x rhos as
`GridColumn`s built from alpha factors times rho factors (columns.py). Totals, live sets, latency,
workbook cells and plot data are functions of a `LayerValues`, whatever its form.

Counts are whole numbers in exact mode, computed in float64 with the reference code's own operation
order. float64 holds every integer below 2**53 exactly; a count at or beyond that is refused with a
message, never printed rounded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import MobilecostError
from ..spec.layers import FIELDS, Layer
from .columns import GridColumn, GridFactors, total

EXACT_LIMIT = 2.0**53


@dataclass(frozen=True)
class LayerValues:
    """field -> column (layers x points) for the layers of one table, mode and semantics.

    On a grid, ``grid`` is (alphas, rhos) and per-point results are arrays of that shape;
    otherwise per-point results are 1-D arrays over the configurations."""

    layers: tuple[Layer, ...]
    mode: str
    columns: dict
    grid: tuple[np.ndarray, np.ndarray] | None = None

    def __getitem__(self, field: str):
        return self.columns[field]

    def total(self, field: str) -> np.ndarray:
        return total(self.columns[field])

    def totals(self, fields) -> dict[str, np.ndarray]:
        """Per-point totals; whole numbers (int64) in exact mode."""
        out = {}
        for field in fields:
            value = self.total(field)
            if self.mode == "exact":
                _check_exact(value, field)
                value = np.rint(value).astype(np.int64)
            out[field] = value
        return out

    def at(self, point: int = 0) -> dict[str, np.ndarray]:
        """Per-layer values at one configuration of a list: field -> array over layers (int64 when exact)."""
        out = {}
        for field, column in self.columns.items():
            values = np.asarray(column)[:, point]
            out[field] = np.rint(values).astype(np.int64) if self.mode == "exact" else values
        return out


def _check_exact(values, field: str) -> None:
    values = np.asarray(values)
    if values.size and not np.all(np.abs(values) < EXACT_LIMIT):
        raise MobilecostError(
            f"{field} reaches {float(np.nanmax(np.abs(values))):.3g}, beyond 2**53 = 9,007,199,254,740,992, "
            "where float64 stops counting exactly; mobilecost refuses to print a rounded count "
            "(use a smaller alpha or resolution)", field="--alpha/--resolution")


def values_at(compiled, alpha, rho) -> LayerValues:
    """Every per-layer field at the configurations (alpha[i], rho[i]) (1-D arrays, or scalars)."""
    alpha = np.atleast_1d(np.asarray(alpha, dtype=float))
    rho = np.atleast_1d(np.asarray(rho, dtype=float))
    shape = np.broadcast_shapes(alpha.shape, rho.shape)
    raw = compiled.function(alpha, rho)
    n, count = len(FIELDS), len(compiled.layers)
    columns = {}
    for j, field in enumerate(FIELDS):
        values = np.stack([np.broadcast_to(np.asarray(raw[i * n + j], dtype=float), shape) for i in range(count)])
        if compiled.mode == "exact":
            _check_exact(values, field)
            values = np.rint(values)
        columns[field] = values
    return LayerValues(compiled.layers, compiled.mode, columns)


def values_on_grid(costs, compiled, alphas, rhos) -> LayerValues:
    """Every per-layer field on the grid alphas x rhos, from alpha factors x rho factors.

    When a field does not separate into such terms (or, in exact mode, its factors are not whole
    numbers), the grid is evaluated point by point instead: the same values, in numpy columns."""
    from .factors import separated_factors

    alphas = np.atleast_1d(np.asarray(alphas, dtype=float))
    rhos = np.atleast_1d(np.asarray(rhos, dtype=float))
    layers = [lc.layer for lc in costs.layers]
    exprs = [lc.exprs[f] for lc in costs.layers for f in FIELDS]
    parts = separated_factors(costs, "layer-fields", exprs, alphas, rhos)
    whole = parts is not None and (costs.mode != "exact" or all(np.array_equal(p, np.rint(p)) for p in parts[:2]))
    if not whole:
        a, r = np.meshgrid(alphas, rhos, indexing="ij")
        dense = values_at(compiled, a.ravel(), r.ravel())
        return LayerValues(dense.layers, dense.mode, dense.columns, (alphas, rhos))
    a, r, groups = parts
    factors = GridFactors(a, r)
    n = len(FIELDS)
    columns = {}
    for j, field in enumerate(FIELDS):
        column = GridColumn.of_terms(factors, [groups[i * n + j] for i in range(len(layers))])
        if costs.mode == "exact":
            _check_exact(column.bounds()[1], field)
        columns[field] = column
    return LayerValues(tuple(layers), costs.mode, columns, (alphas, rhos))


def grid_shaped(values: LayerValues, per_point: np.ndarray) -> np.ndarray:
    """A per-point result as an array (alphas, rhos) on a grid, whichever form computed it."""
    if values.grid is None:
        return per_point
    return np.asarray(per_point).reshape(values.grid[0].size, values.grid[1].size)
