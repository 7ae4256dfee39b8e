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
from .columns import Dense, GridColumn, GridFactors, total

EXACT_LIMIT = 2.0**53
# Below this, a count times 8 bytes summed over 256 layers stays inside int64 (2**50 * 2**3 * 2**8 = 2**61).
INT64_SAFE = 2**50


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
        if isinstance(self.columns, GridFields):
            return self.columns.total(field)
        return total(self.columns[field])

    def need(self, fields) -> None:
        """Say which fields a model will read: on a grid only those are built (fewer factor functions
        evaluated); points hold every field already."""
        if isinstance(self.columns, GridFields):
            self.columns.require(fields)

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
        """Per-layer values at one configuration of a list: field -> array over layers (whole numbers in
        exact mode: int64, or Python integers where a count is so large that byte sizes or sums over
        the layers could overflow int64)."""
        out = {}
        for field, column in self.columns.items():
            values = np.asarray(column)[:, point]
            if self.mode == "exact":
                whole = [int(v) for v in values]
                values = np.array(whole, dtype=np.int64 if all(abs(v) < INT64_SAFE for v in whole) else object)
            out[field] = values
        return out


def _check_exact(values, field: str) -> None:
    values = np.asarray(values)
    if values.size and not np.all(np.abs(values) < EXACT_LIMIT):
        raise MobilecostError(
            f"{field} reaches {float(np.nanmax(np.abs(values))):.3g}, beyond 2**53 = 9,007,199,254,740,992, "
            "where float64 stops counting exactly; mobilecost refuses to print a rounded count "
            "(use a smaller alpha or resolution)", field="--alpha/--resolution")


def check_finite(values, field: str) -> None:
    """Refuse ideal-mode values that overflowed float64 (inf) rather than print them."""
    values = np.asarray(values, dtype=float)
    if values.size and not np.all(np.isfinite(values)):
        raise MobilecostError(f"{field} overflows float64 (beyond about 1.8e308) on this grid; "
                              "use a smaller alpha or resolution", field="--alpha/--rho")


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
        else:
            check_finite(values, field)
        columns[field] = values
    return LayerValues(compiled.layers, compiled.mode, columns)


class GridFields(dict):
    """field -> `GridColumn` on the grid alphas x rhos, each built on first use from its factor functions.

    Every field's factors join one `GridFactors`, so columns of different fields add up. The total of a
    field over the layers is the matrix product of the factors of the summed expression (sympy collects
    the layers' like terms): the same sum, in a few terms instead of one per layer. A field that does not
    separate into alpha x rho terms (or whose factors are not whole numbers in exact mode) is evaluated
    point by point and kept as arrays."""

    def __init__(self, compiled, alphas: np.ndarray, rhos: np.ndarray):
        super().__init__()
        self.compiled, self.alphas, self.rhos = compiled, alphas, rhos
        self.factors = GridFactors(np.empty((0, alphas.size)), np.empty((0, rhos.size)))
        self.point_by_point = None

    def parts(self, name: str, expressions):
        """Separated, whole (in exact mode) factors of ``expressions(costs)`` on this grid, or None."""
        from .factors import separated_factors

        parts = separated_factors(self.compiled, name, expressions, self.alphas, self.rhos)
        if parts is None or (self.compiled.mode == "exact" and not all(np.array_equal(p, np.rint(p)) for p in parts[:2])):
            return None
        return parts

    def __missing__(self, field: str) -> GridColumn:
        """Every field not yet built is built at the first request for one: one factor function serves them all."""
        self.require([f for f in FIELDS if f not in self] if field in FIELDS else [field])
        return self[field]

    def require(self, fields) -> None:
        """Build the given fields (those not built yet) from one factor function for just them."""
        missing = [f for f in FIELDS if f in fields and f not in self]
        if len(missing) < len(fields) and any(f not in FIELDS for f in fields):
            raise KeyError(next(f for f in fields if f not in FIELDS))
        if not missing:
            return
        key = "layers" if len(missing) == len(FIELDS) else "fields-" + "-".join(missing)
        parts = self.parts(key, lambda costs: [lc.exprs[f] for lc in costs.layers for f in missing])
        if parts is not None:
            a, r, groups = parts
            first = self.factors.extend(a, r)
        n = len(missing)
        for j, name in enumerate(missing):
            if parts is None:
                column = self._evaluated(name)
            else:
                column = GridColumn.of_terms(self.factors, groups[j::n], first)
            if self.compiled.mode == "exact":
                _check_exact(column.bounds()[1], name)
            self[name] = column

    def _evaluated(self, field: str) -> GridColumn:
        if self.point_by_point is None:
            a, r = np.meshgrid(self.alphas, self.rhos, indexing="ij")
            self.point_by_point = values_at(self.compiled, a.ravel(), r.ravel())
        shape = self.factors.shape
        rows = np.asarray(self.point_by_point[field])
        return GridColumn(self.factors, len(rows), [], [], [], {i: ((1.0, Dense(row.reshape(shape))),) for i, row in enumerate(rows)})

    def total(self, field: str) -> np.ndarray:
        parts = self.parts(f"total-{field}", lambda costs: [costs.total(field)])
        if parts is None:
            return self[field].total()
        a, r, (terms,) = parts
        return a[terms].T @ r[terms]


def values_at_point(compiled, alpha: float, rho: float) -> LayerValues:
    """Every per-layer field at one configuration. In exact mode with the reference code's own integer
    arithmetic (`CompiledLayers.point_function`), exact at any size, in (layers, 1) arrays of Python
    integers; in ideal mode (real numbers) as `values_at`."""
    if compiled.mode != "exact":
        return values_at(compiled, alpha, rho)
    raw = compiled.point_function(float(alpha), float(rho))
    n, count = len(FIELDS), len(compiled.layers)
    columns = {}
    for j, field in enumerate(FIELDS):
        column = np.empty((count, 1), dtype=object)
        column[:, 0] = raw[j::n]
        columns[field] = column
    return LayerValues(compiled.layers, compiled.mode, columns)


def values_on_grid(compiled, alphas, rhos) -> LayerValues:
    """Every per-layer field on the grid alphas x rhos, from alpha factors x rho factors (`GridFields`)."""
    alphas = np.atleast_1d(np.asarray(alphas, dtype=float))
    rhos = np.atleast_1d(np.asarray(rhos, dtype=float))
    return LayerValues(compiled.layers, compiled.mode, GridFields(compiled, alphas, rhos), (alphas, rhos))


def grid_shaped(values: LayerValues, per_point: np.ndarray) -> np.ndarray:
    """A per-point result as an array (alphas, rhos) on a grid, whichever form computed it."""
    if values.grid is None:
        return per_point
    return np.asarray(per_point).reshape(values.grid[0].size, values.grid[1].size)
