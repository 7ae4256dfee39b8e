"""Per-layer quantities over a set of points ("columns": layers x points) and the few operations the
models need on them.

Model code -- totals, live sets, latency -- is written once against columns and the functions here
(`maximum`, `divide_by_threshold`, `positive`, `total`, `weighted_totals_peak`); a column comes in one
of two forms, each with its own arithmetic:

* a numpy array (layers, points): any list of configurations;
* a `GridColumn`, on a full grid alphas x rhos: every layer's value there is a sum of terms
  ``coef * outer(alpha factor, rho factor)``, because channels depend on alpha only and spatial sides
  on rho only. Sums and scalings stay terms; `maximum` and `divide_by_threshold` keep terms for the
  layers where the factors' extremes decide the branch for the whole grid and evaluate only the other
  layers point by point; `total` over the layers is one matrix product. The result is the same
  function of the same per-layer values, reached by the identity sum(outer) = matrix product.
"""

from __future__ import annotations

import numpy as np

# A byte count this close (relative) to a threshold is decided point by point, never from bounds.
MARGIN = 1e-12


class GridFactors:
    """Alpha factors (terms, alphas) and rho factors (terms, rhos); term 0 is the constant 1."""

    def __init__(self, alpha_factors: np.ndarray, rho_factors: np.ndarray):
        ones_a, ones_r = np.ones((1, alpha_factors.shape[1])), np.ones((1, rho_factors.shape[1]))
        self.a = np.vstack([ones_a, alpha_factors])
        self.r = np.vstack([ones_r, rho_factors])
        corners = np.stack([self.a.min(1) * self.r.min(1), self.a.min(1) * self.r.max(1),
                            self.a.max(1) * self.r.min(1), self.a.max(1) * self.r.max(1)])
        self.lo, self.hi = corners.min(axis=0), corners.max(axis=0)

    @property
    def shape(self) -> tuple[int, int]:
        return self.a.shape[1], self.r.shape[1]

    def add_term(self, alpha_factor: np.ndarray, rho_factor: np.ndarray) -> int:
        """Append one term; returns its index."""
        self.a = np.vstack([self.a, alpha_factor[None, :]])
        self.r = np.vstack([self.r, rho_factor[None, :]])
        products = np.outer([alpha_factor.min(), alpha_factor.max()], [rho_factor.min(), rho_factor.max()])
        self.lo, self.hi = np.append(self.lo, products.min()), np.append(self.hi, products.max())
        return self.a.shape[0] - 1

    def select_alphas(self, index: np.ndarray) -> "GridFactors":
        out = GridFactors.__new__(GridFactors)
        out.a, out.r = self.a[:, index], self.r
        corners = np.stack([out.a.min(1) * out.r.min(1), out.a.min(1) * out.r.max(1),
                            out.a.max(1) * out.r.min(1), out.a.max(1) * out.r.max(1)])
        out.lo, out.hi = corners.min(axis=0), corners.max(axis=0)
        return out


class GridColumn:
    """One quantity for every layer on the grid: layer i = sum of coef * outer(a[term], r[term]) over its
    entries, plus an array (alphas, rhos) for layers evaluated point by point."""

    __array_ufunc__ = None  # numpy defers to the operators below

    def __init__(self, factors: GridFactors, layers: int, owner, term, coef, dense: dict | None = None):
        self.factors, self.layers = factors, layers
        self.owner = np.asarray(owner, dtype=np.int64)
        self.term = np.asarray(term, dtype=np.int64)
        self.coef = np.asarray(coef, dtype=float)
        self.dense = dense or {}

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def of_terms(cls, factors: GridFactors, groups) -> "GridColumn":
        """groups[i]: the term indices (into the caller's factor rows) whose sum is layer i."""
        owner = [i for i, terms in enumerate(groups) for _ in terms]
        term = [t + 1 for terms in groups for t in terms]  # +1: term 0 is the constant
        return cls(factors, len(groups), owner, term, np.ones(len(term)))

    def _with(self, owner, term, coef, dense) -> "GridColumn":
        return GridColumn(self.factors, self.layers, owner, term, coef, dense)

    def _per_layer(self, value) -> np.ndarray:
        return np.broadcast_to(np.asarray(value, dtype=float).reshape(-1), (self.layers,))

    # -- arithmetic ---------------------------------------------------------------------------
    def __add__(self, other):
        if isinstance(other, GridColumn):
            dense = dict(self.dense)
            for i, v in other.dense.items():
                dense[i] = dense[i] + v if i in dense else v
            return self._with(np.concatenate([self.owner, other.owner]), np.concatenate([self.term, other.term]),
                              np.concatenate([self.coef, other.coef]), dense)
        constant = self._per_layer(other)
        layers = np.flatnonzero(constant)
        return self._with(np.concatenate([self.owner, layers]), np.concatenate([self.term, np.zeros(len(layers), int)]),
                          np.concatenate([self.coef, constant[layers]]), self.dense)

    __radd__ = __add__

    def __mul__(self, other):
        if isinstance(other, GridColumn):
            raise TypeError("a product of two grid columns is not a sum of alpha x rho terms")
        scale = self._per_layer(other)
        return self._with(self.owner, self.term, self.coef * scale[self.owner],
                          {i: v * scale[i] for i, v in self.dense.items()})

    __rmul__ = __mul__

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return (-self) + other

    def __truediv__(self, other):
        scale = self._per_layer(other)
        return self._with(self.owner, self.term, self.coef / scale[self.owner],
                          {i: v / scale[i] for i, v in self.dense.items()})

    # -- evaluation ---------------------------------------------------------------------------
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Per layer, (lowest, highest) value any grid point can have (exact for a single term)."""
        f = self.factors
        low = np.where(self.coef >= 0, self.coef * f.lo[self.term], self.coef * f.hi[self.term])
        high = np.where(self.coef >= 0, self.coef * f.hi[self.term], self.coef * f.lo[self.term])
        lo, hi = np.bincount(self.owner, low, self.layers), np.bincount(self.owner, high, self.layers)
        for i, v in self.dense.items():
            lo[i] += v.min()
            hi[i] += v.max()
        return lo, hi

    def layer(self, i: int) -> np.ndarray:
        """Layer i on the grid: array (alphas, rhos)."""
        rows = self.owner == i
        out = self._product(self.term[rows], self.coef[rows])
        return out + self.dense[i] if i in self.dense else out

    def _product(self, term, coef) -> np.ndarray:
        a, r = self.factors.a, self.factors.r
        if term.size == 0:
            return np.zeros(self.factors.shape)
        weight = np.bincount(term, coef, a.shape[0])
        used = np.flatnonzero(weight)
        return (a[used] * weight[used, None]).T @ r[used]

    def weighted_total(self, weights) -> np.ndarray:
        """sum over layers of weights[layer] * layer: array (alphas, rhos)."""
        weights = self._per_layer(weights)
        out = self._product(self.term, self.coef * weights[self.owner])
        for i, v in self.dense.items():
            if weights[i]:
                out = out + weights[i] * v
        return out

    def total(self) -> np.ndarray:
        return self.weighted_total(1.0)

    def only(self, layers) -> "GridColumn":
        """The same column with every layer outside `layers` set to zero."""
        keep = np.zeros(self.layers, dtype=bool)
        keep[list(layers)] = True
        rows = keep[self.owner]
        return self._with(self.owner[rows], self.term[rows], self.coef[rows],
                          {i: v for i, v in self.dense.items() if keep[i]})

    def replaced(self, layers, values: dict) -> "GridColumn":
        """`layers` replaced by arrays (alphas, rhos) given in `values` (layer -> array)."""
        drop = np.zeros(self.layers, dtype=bool)
        drop[list(layers)] = True
        rows = ~drop[self.owner]
        dense = {i: v for i, v in self.dense.items() if not drop[i]}
        dense.update(values)
        return self._with(self.owner[rows], self.term[rows], self.coef[rows], dense)

    def select_alphas(self, index: np.ndarray) -> "GridColumn":
        return GridColumn(self.factors.select_alphas(index), self.layers, self.owner, self.term, self.coef,
                          {i: v[index] for i, v in self.dense.items()})

    def to_array(self) -> np.ndarray:
        """Every layer at every grid point: array (layers, alphas * rhos)."""
        return np.stack([self.layer(i).ravel() for i in range(self.layers)])


def _pointwise(column: GridColumn, layers, fn) -> GridColumn:
    return column.replaced(layers, {i: fn(i) for i in layers})


def maximum(x, y):
    """Element-wise maximum of two columns."""
    if not isinstance(x, GridColumn) and not isinstance(y, GridColumn):
        return np.maximum(x, y)
    x, y = _as_grid(x, y), _as_grid(y, x)
    x_lo, x_hi = x.bounds()
    y_lo, y_hi = y.bounds()
    take_x = x_lo >= y_hi
    take_y = ~take_x & (y_lo >= x_hi)
    mixed = np.flatnonzero(~take_x & ~take_y)
    out = x.only(np.flatnonzero(take_x)) + y.only(np.flatnonzero(take_y))
    return out.replaced(mixed, {i: np.maximum(x.layer(i), y.layer(i)) for i in mixed})


def _as_grid(x, like: GridColumn) -> GridColumn:
    if isinstance(x, GridColumn):
        return x
    return GridColumn(like.factors, like.layers, [], [], []) + x


def divide_by_threshold(x, threshold: float, below: float, above: float):
    """x / below where x <= threshold, else x / above (e.g. bytes / bandwidth of cache or DRAM)."""
    if not isinstance(x, GridColumn):
        return x / np.where(x <= threshold, below, above)
    lo, hi = x.bounds()
    under = hi <= threshold * (1 - MARGIN)
    over = lo > threshold * (1 + MARGIN)
    scale = np.where(under, 1 / below, np.where(over, 1 / above, 0.0))
    mixed = np.flatnonzero(~under & ~over)

    def one(i):
        v = x.layer(i)
        return v / np.where(v <= threshold, below, above)

    return _pointwise(x * scale, mixed, one)


def positive(x):
    """1 where x > 0, else 0."""
    if not isinstance(x, GridColumn):
        return (x > 0).astype(float)
    lo, hi = x.bounds()
    ones = (lo > 0).astype(float)
    mixed = np.flatnonzero((lo <= 0) & (hi > 0))
    return _pointwise(GridColumn(x.factors, x.layers, [], [], []) + ones, mixed,
                      lambda i: (x.layer(i) > 0).astype(float))


def total(x):
    """Sum over the layers, at every point."""
    return x.total() if isinstance(x, GridColumn) else np.asarray(x).sum(axis=0)


def weighted_totals_peak(x, weights: np.ndarray):
    """For weights (rows, layers): the maximum over rows of ``weights[row] . x`` at every point, and the
    first row where it is reached. Memory stays one row of points deep."""
    if not isinstance(x, GridColumn):
        values = np.asarray(weights, dtype=float) @ np.asarray(x, dtype=float)
        return values.max(axis=0), values.argmax(axis=0)
    peak = np.full(x.factors.shape, -np.inf)
    where = np.zeros(x.factors.shape, dtype=np.int64)
    for row, w in enumerate(weights):
        value = x.weighted_total(w)
        larger = value > peak
        peak = np.where(larger, value, peak)
        where[larger] = row
    return peak, where
