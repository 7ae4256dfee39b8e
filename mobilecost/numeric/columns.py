"""Per-layer quantities over a set of points ("columns": layers x points) and the few operations the
models need on them.

Model code -- totals, live sets, latency -- is written once against columns and the functions here
(`maximum`, `divide_by_threshold`, `positive`, `total`, `weighted_totals_peak`; the latency model reaches
them through column_math.py, which also serves the third form, one configuration's plain-Python
`point_columns.PointColumn`); a column here comes in one of two forms, each with its own arithmetic:

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

# A value this close (relative) to a threshold is decided point by point, never from bounds.
MARGIN = 1e-12


class GridFactors:
    """Alpha factors (terms, alphas) and rho factors (terms, rhos) of one grid; term 0 is the constant 1."""

    def __init__(self, alpha_factors: np.ndarray, rho_factors: np.ndarray):
        self.a = np.vstack([np.ones((1, alpha_factors.shape[1])), alpha_factors])
        self.r = np.vstack([np.ones((1, rho_factors.shape[1])), rho_factors])
        self.lo, self.hi = _term_bounds(self.a, self.r)

    @property
    def shape(self) -> tuple[int, int]:
        return self.a.shape[1], self.r.shape[1]

    def product(self, term: np.ndarray, coef: np.ndarray) -> np.ndarray:
        """sum_k coef[k] * outer(a[term[k]], r[term[k]]): array (alphas, rhos)."""
        if term.size == 0:
            return np.zeros(self.shape)
        if term.size == 1:  # OpenBLAS takes about 5x longer for an inner dimension of 1 than of 2
            term, coef = np.append(term, 0), np.append(coef, 0.0)
        return (self.a[term] * coef[:, None]).T @ self.r[term]

    def extend(self, alpha_factors: np.ndarray, rho_factors: np.ndarray) -> int:
        """Append factor rows (for another quantity on the same grid); returns the index of the first.
        Rows are only ever appended, so the columns already built on these factors stay valid."""
        first = self.a.shape[0]
        self.a = np.vstack([self.a, alpha_factors])
        self.r = np.vstack([self.r, rho_factors])
        lo, hi = _term_bounds(alpha_factors, rho_factors)
        self.lo, self.hi = np.concatenate([self.lo, lo]), np.concatenate([self.hi, hi])
        return first

    def select_alphas(self, index: np.ndarray) -> "GridFactors":
        out = GridFactors.__new__(GridFactors)
        out.a, out.r = self.a[:, index], self.r
        out.lo, out.hi = _term_bounds(out.a, out.r)
        return out

    def extremes(self) -> tuple[np.ndarray, ...]:
        """Per term: lowest and highest alpha factor, lowest and highest rho factor."""
        cached = getattr(self, "_extremes", None)
        if cached is None or cached[0].size != self.a.shape[0]:
            cached = self._extremes = (self.a.min(axis=1), self.a.max(axis=1), self.r.min(axis=1), self.r.max(axis=1))
        return cached



def _row_classes(rows: np.ndarray) -> np.ndarray:
    """For each row, the index of a row equal to it (the same for all equal rows), or its own index.
    Rows are matched on a projection and kept together only where they are equal."""
    key = rows @ np.linspace(1.0, 2.0 ** 0.5, rows.shape[1]) ** np.e
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    same = first[inverse.reshape(-1)]
    equal = (rows == rows[same]).all(axis=1)
    return np.where(equal, same, np.arange(rows.shape[0]))


def _term_bounds(a: np.ndarray, r: np.ndarray):
    a_lo, a_hi, r_lo, r_hi = a.min(axis=1), a.max(axis=1), r.min(axis=1), r.max(axis=1)
    corners = np.stack([a_lo * r_lo, a_lo * r_hi, a_hi * r_lo, a_hi * r_hi])
    return corners.min(axis=0), corners.max(axis=0)


class Dense:
    """An array (alphas, rhos) evaluated point by point, with its extremes (computed once, when asked).

    It may be given as ``make()``, evaluated when first read, with ``pieces``: a column whose layers are
    the terms-only values the array takes, one of them at each point (the branches of
    `divide_by_threshold`). `maximum` decides many layers from the pieces alone, and the array of a
    layer whose branch is decided is never evaluated unless read."""

    __slots__ = ("_values", "_extremes", "make", "pieces")

    def __init__(self, values: np.ndarray | None = None, make=None, pieces: "GridColumn | None" = None):
        self._values, self._extremes, self.make, self.pieces = values, None, make, pieces

    @property
    def values(self) -> np.ndarray:
        if self._values is None:
            self._values, self.make = self.make(), None
        return self._values

    @property
    def low(self) -> float:
        return self.extremes()[0]

    @property
    def high(self) -> float:
        return self.extremes()[1]

    def extremes(self) -> tuple[float, float]:
        if self._extremes is None:
            if self._values is None and self.pieces is not None:
                lo, hi = self.pieces.bounds()
                self._extremes = (float(lo.min()), float(hi.max()))
            else:
                self._extremes = (float(self.values.min()), float(self.values.max()))
        return self._extremes


class GridColumn:
    """One quantity for every layer on a grid: layer i is the sum of coef * outer(a[term], r[term]) over
    its entries (``owner == i``), plus, where it was evaluated point by point, a sum of
    ``factor * array (alphas, rhos)`` (``dense[i]``: `Dense` parts; scaling a column changes only the
    factors)."""

    __array_ufunc__ = None  # numpy defers to the operators below

    def __init__(self, factors: GridFactors, layers: int, owner, term, coef, dense: dict | None = None):
        self.factors, self.layers = factors, layers
        self.owner = np.asarray(owner, dtype=np.int64)
        self.term = np.asarray(term, dtype=np.int64)
        self.coef = np.asarray(coef, dtype=float)
        self.dense = dense or {}

    @classmethod
    def of_terms(cls, factors: GridFactors, groups, first: int) -> "GridColumn":
        """groups[i]: the factor rows (counted from row `first`) whose sum is layer i."""
        owner = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
        term = np.concatenate([np.asarray(g, dtype=np.int64) for g in groups]) + first if groups else []
        return cls(factors, len(groups), owner, term, np.ones(len(owner)))

    def _with(self, owner, term, coef, dense) -> "GridColumn":
        return GridColumn(self.factors, self.layers, owner, term, coef, dense)

    def _per_layer(self, value) -> np.ndarray:
        return np.broadcast_to(np.asarray(value, dtype=float).reshape(-1), (self.layers,))

    # -- arithmetic ---------------------------------------------------------------------------
    def __add__(self, other):
        if isinstance(other, GridColumn):
            dense = _merged(self.dense, other.dense)
            return self._with(np.concatenate([self.owner, other.owner]), np.concatenate([self.term, other.term]),
                              np.concatenate([self.coef, other.coef]), dense)
        constant = self._per_layer(other)
        layers = np.flatnonzero(constant)
        return self._with(np.concatenate([self.owner, layers]), np.concatenate([self.term, np.zeros(len(layers), int)]),
                          np.concatenate([self.coef, constant[layers]]), self.dense)

    __radd__ = __add__

    def __mul__(self, other):
        if isinstance(other, GridColumn):
            raise TypeError("a product of two grid columns is not kept as alpha x rho terms")
        scale = self._per_layer(other)
        coef = self.coef * scale[self.owner]
        kept = coef != 0  # a layer scaled by zero (a mask) leaves no terms to multiply out later
        if kept.all():
            return self._with(self.owner, self.term, coef, _scaled(self.dense, scale))
        return self._with(self.owner[kept], self.term[kept], coef[kept], _scaled(self.dense, scale))

    __rmul__ = __mul__

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return (-self) + other

    def __truediv__(self, other):
        return self * (1.0 / self._per_layer(other))

    # -- evaluation ---------------------------------------------------------------------------
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Per layer, (lowest, highest) value any grid point can have (exact for a single term)."""
        f = self.factors
        low = np.where(self.coef >= 0, self.coef * f.lo[self.term], self.coef * f.hi[self.term])
        high = np.where(self.coef >= 0, self.coef * f.hi[self.term], self.coef * f.lo[self.term])
        # float explicitly: a bincount of no entries is an integer array
        lo = np.bincount(self.owner, low, self.layers).astype(float)
        hi = np.bincount(self.owner, high, self.layers).astype(float)
        for i, pairs in self.dense.items():
            for factor, part in pairs:
                low_high = (factor * part.low, factor * part.high)
                lo[i] += min(low_high)
                hi[i] += max(low_high)
        return lo, hi

    def signs(self, layers) -> np.ndarray:
        """For `layers` without point-by-point parts: 1 where the layer is >= 0 at every grid point, -1
        where it is <= 0 at every point, 0 where neither is shown. Along one alpha a layer is
        sum_j P_j(alpha) * R_j(rho) over its distinct rho factors R_j and lies within the sum of each
        term's extremes over rho (exact when one R_j varies); likewise along one rho. These bounds see
        the sign of a layer whose terms nearly cancel, where the whole-grid `bounds` do not."""
        layers = np.asarray(layers, dtype=np.int64)
        out = np.zeros(layers.size, dtype=np.int64)
        f = self.factors
        pick = np.isin(self.owner, layers)
        owner, term, coef = self.owner[pick], self.term[pick], self.coef[pick]
        used, term = np.unique(term, return_inverse=True)  # terms renumbered among the used ones
        a_class, r_class = _row_classes(f.a[used]), _row_classes(f.r[used])
        slot = np.searchsorted(layers, owner)  # layers is sorted
        out[~np.isin(np.arange(layers.size), slot)] = 1  # no terms: 0 everywhere
        a_lo, a_hi, r_lo, r_hi = (e[used] for e in f.extremes())
        for mine, o_lo, o_hi, cls in ((f.a[used], r_lo, r_hi, r_class), (f.r[used], a_lo, a_hi, a_class)):
            open_ = out[slot] == 0
            if not open_.any():
                break
            s, t, c = slot[open_], term[open_], coef[open_]
            key = s * (cls.max() + 1) + cls[t]
            order = np.argsort(key, kind="stable")
            key, s, t, c = key[order], s[order], t[order], c[order]
            starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
            # per (layer, distinct factor of the other kind): its coefficient along this kind's values
            weight = np.add.reduceat(c[:, None] * mine[t], starts, axis=0)
            low = weight * o_lo[t[starts], None]
            high = weight * o_hi[t[starts], None]
            np.minimum(low, high, out=low)
            np.maximum(weight * o_lo[t[starts], None], high, out=high)
            group_slot = s[starts]
            first = np.flatnonzero(np.r_[True, group_slot[1:] != group_slot[:-1]])
            here = group_slot[first]
            out[here[np.add.reduceat(low, first, axis=0).min(axis=1) >= 0]] = 1
            out[here[np.add.reduceat(high, first, axis=0).max(axis=1) <= 0]] = -1
        return out

    def rows_of(self) -> list[np.ndarray]:
        """Per layer, the indices of its entries (in their order)."""
        order = np.argsort(self.owner, kind="stable")
        starts = np.searchsorted(self.owner[order], np.arange(self.layers + 1))
        return [order[starts[i]:starts[i + 1]] for i in range(self.layers)]

    def layers_values(self, layers) -> dict[int, np.ndarray]:
        """The given layers on the grid: layer -> array (alphas, rhos)."""
        order = np.argsort(self.owner, kind="stable")
        owner, term, coef = self.owner[order], self.term[order], self.coef[order]
        starts = np.searchsorted(owner, np.arange(self.layers + 1))
        out = {}
        for i in layers:
            rows = slice(starts[i], starts[i + 1])
            pairs = self.dense.get(i, ())
            if rows.start == rows.stop and pairs:  # no terms: start from the first point-by-point part
                factor, first = pairs[0]
                value = first.values * factor if factor != 1.0 else first.values.copy()
                pairs = pairs[1:]
            else:
                value = self.factors.product(term[rows], coef[rows])
            _accumulate(value, pairs)
            out[i] = value
        return out

    def weighted_total(self, weights) -> np.ndarray:
        """sum over layers of weights[layer] * layer: array (alphas, rhos)."""
        weights = self._per_layer(weights)
        coef = self.coef * weights[self.owner]
        weight = np.bincount(self.term, coef, self.factors.a.shape[0]).astype(float)
        used = np.flatnonzero(weight)
        out = self.factors.product(used, weight[used])
        for i, pairs in self.dense.items():
            if weights[i]:
                _accumulate(out, pairs, weights[i])
        return out

    def total(self) -> np.ndarray:
        return self.weighted_total(1.0)

    def only(self, layers) -> "GridColumn":
        """The same column with every layer outside `layers` set to zero."""
        keep = np.zeros(self.layers, dtype=bool)
        keep[layers] = True
        rows = keep[self.owner]
        return self._with(self.owner[rows], self.term[rows], self.coef[rows],
                          {i: v for i, v in self.dense.items() if keep[i]})

    def plus_dense(self, values: dict) -> "GridColumn":
        """The column with arrays (alphas, rhos) added to some layers (layer -> array)."""
        return self._with(self.owner, self.term, self.coef,
                          _merged(self.dense, {i: ((1.0, Dense(v)),) for i, v in values.items()}))

    def select_alphas(self, index: np.ndarray) -> "GridColumn":
        return GridColumn(self.factors.select_alphas(index), self.layers, self.owner, self.term, self.coef,
                          {i: tuple((f, Dense(part.values[index])) for f, part in pairs) for i, pairs in self.dense.items()})


def _merged(a: dict, b: dict) -> dict:
    out = dict(a)
    for i, pairs in b.items():
        out[i] = out.get(i, ()) + tuple(pairs)
    return out


def _scaled(dense: dict, scale: np.ndarray) -> dict:
    return {i: tuple((f * scale[i], v) for f, v in pairs) for i, pairs in dense.items() if scale[i]}


def _accumulate(out: np.ndarray, pairs, weight: float = 1.0) -> None:
    """out += weight * sum(factor * part), in place."""
    scratch = None
    for factor, part in pairs:
        factor = factor * weight
        if factor == 1.0:
            out += part.values
        else:
            scratch = np.multiply(part.values, factor, out=scratch)
            out += scratch


def _as_grid(x, like: GridColumn) -> GridColumn:
    if isinstance(x, GridColumn):
        return x
    return GridColumn(like.factors, like.layers, [], [], []) + x


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
    # Where the grid's bounds do not decide, the layer is evaluated point by point: as y + max(x - y, 0)
    # when y is all terms (y then stays terms; x - y is one product), else as max(x, y) outright.
    by_excess = np.array([i for i in mixed if i not in y.dense and i not in x.dense], dtype=np.int64)
    outright = np.setdiff1d(mixed, by_excess)
    difference = x - y
    if by_excess.size:  # decided on closer bounds of x - y, these layers are x or y throughout
        sign = difference.signs(by_excess)
        take_x[by_excess[sign > 0]] = True
        take_y[by_excess[sign < 0]] = True
        by_excess = by_excess[sign == 0]
    if outright.size:  # y given by branches (pieces): x or y throughout where x - y keeps its sign in each
        take_x, take_y = _decided_by_pieces(x, y, outright, take_x, take_y)
        outright = outright[~take_x[outright] & ~take_y[outright]]
    excess = difference.layers_values(by_excess)
    for v in excess.values():
        np.maximum(v, 0.0, out=v)
    x_values, y_values = x.layers_values(outright), y.layers_values(outright)
    for i in outright:
        np.maximum(x_values[i], y_values[i], out=x_values[i])
    kept = x.only(np.flatnonzero(take_x)) + y.only(np.union1d(np.flatnonzero(take_y), by_excess))
    return kept.plus_dense({**excess, **x_values})


def _decided_by_pieces(x: GridColumn, y: GridColumn, layers, take_x, take_y):
    """take_x and take_y with the layers of `layers` added where x is terms only and y is terms plus one
    part given by pieces, and x - y has one sign over the grid for every piece."""
    candidates = []  # (layer, y's factor, pieces)
    for i in layers:
        pairs = y.dense.get(i, ())
        if i not in x.dense and len(pairs) == 1 and pairs[0][1].pieces is not None:
            candidates.append((i, pairs[0][0], pairs[0][1].pieces))
    if not candidates:
        return take_x, take_y
    owner, term, coef = [], [], []
    slot = 0
    x_rows, y_rows = x.rows_of(), y.rows_of()
    for i, factor, pieces in candidates:
        t = np.concatenate([x.term[x_rows[i]], y.term[y_rows[i]]])
        c = np.concatenate([x.coef[x_rows[i]], -y.coef[y_rows[i]]])
        for rows in pieces.rows_of():
            term += [t, pieces.term[rows]]
            coef += [c, -factor * pieces.coef[rows]]
            owner.append(np.full(t.size + rows.size, slot))
            slot += 1
    column = GridColumn(x.factors, slot, np.concatenate(owner), np.concatenate(term), np.concatenate(coef))
    sign = column.signs(np.arange(slot))
    take_x, take_y = take_x.copy(), take_y.copy()
    start = 0
    for i, _, pieces in candidates:
        end = start + pieces.layers
        if np.all(sign[start:end] > 0):
            take_x[i] = True
        elif np.all(sign[start:end] < 0):
            take_y[i] = True
        start = end
    return take_x, take_y


def divide_by_threshold(x, threshold: float, below: float, above: float):
    """x / below where x <= threshold, else x / above (e.g. bytes / bandwidth of cache or DRAM)."""
    if not isinstance(x, GridColumn):
        return x / np.where(x <= threshold, below, above)
    lo, hi = x.bounds()
    under = hi <= threshold * (1 - MARGIN)
    over = lo > threshold * (1 + MARGIN)
    mixed = np.flatnonzero(~under & ~over)

    def divided(v):
        over_here = v > threshold
        np.divide(v, below, out=v)
        np.multiply(v, below / above, out=v, where=over_here)
        return v

    lazy = [i for i in mixed if i not in x.dense]  # terms only: evaluated when read, branches known
    values = {i: divided(v) for i, v in x.layers_values([i for i in mixed if i in x.dense]).items()}
    parts = {}
    rows = x.rows_of()
    for i in lazy:
        t, c = x.term[rows[i]], x.coef[rows[i]]
        pieces = GridColumn(x.factors, 2, np.repeat([0, 1], t.size), np.concatenate([t, t]),
                            np.concatenate([c / below, c / above]))
        parts[i] = ((1.0, Dense(make=lambda t=t, c=c: divided(x.factors.product(t, c)), pieces=pieces)),)
    scale = np.where(under, 1 / below, np.where(over, 1 / above, 0.0))
    out = (x * scale).only(np.flatnonzero(under | over)).plus_dense(values)
    return out._with(out.owner, out.term, out.coef, _merged(out.dense, parts))


def positive(x):
    """1 where x > 0, else 0."""
    if not isinstance(x, GridColumn):
        return (x > 0).astype(float)
    lo, hi = x.bounds()
    mixed = np.flatnonzero((lo <= 0) & (hi > 0))
    values = {i: (v > 0).astype(float) for i, v in x.layers_values(mixed).items()}
    return (GridColumn(x.factors, x.layers, [], [], []) + (lo > 0).astype(float)).plus_dense(values)


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
    larger = np.empty(x.factors.shape, dtype=bool)
    order = np.argsort(x.owner, kind="stable")
    owner, term, coef = x.owner[order], x.term[order], x.coef[order]
    starts = np.searchsorted(owner, np.arange(x.layers + 1))
    for row, w in enumerate(weights):
        layers = np.flatnonzero(w)
        rows = np.concatenate([np.arange(starts[i], starts[i + 1]) for i in layers]) if layers.size else []
        rows = np.asarray(rows, dtype=np.int64)
        value = x.factors.product(term[rows], coef[rows] * w[owner[rows]])
        for i in layers:
            _accumulate(value, x.dense.get(i, ()), w[i])
        np.greater(value, peak, out=larger)
        np.copyto(peak, value, where=larger)
        where[larger] = row
    return peak, where


def per_layer(values) -> np.ndarray:
    """One constant per layer (a list) as a column (layers, 1) that any column form scales or adds."""
    return np.asarray(values, dtype=float)[:, None]


def choose(index, options) -> np.ndarray:
    """Per layer, ``options[index[layer]]`` as a column (layers, 1)."""
    return np.asarray(options, dtype=float)[np.asarray(index)][:, None]


def first_largest(columns, labels):
    """Per entry of numpy columns, the label of the first of `columns` that is largest there; None on a
    grid (a choice between columns is not kept as alpha x rho terms)."""
    if any(isinstance(c, GridColumn) for c in columns):
        return None
    return np.array(labels)[np.argmax(np.stack(columns), axis=0)]


def scaled(x, factor, *columns):
    """x times ``factor(i, *the columns' values)`` for layer i (True or False keeps or drops x there): `factor`
    takes arrays of a layer's values at every point. On a grid a layer whose factor is one number everywhere
    keeps its terms, scaled (or drops them); a layer whose factor varies is evaluated point by point."""
    if not isinstance(x, GridColumn):
        rows = [np.asarray(c) for c in columns]
        x = np.asarray(x, dtype=float)
        factors = np.stack([np.broadcast_to(np.asarray(factor(i, *(r[i] for r in rows)), dtype=float), x.shape[1:])
                            for i in range(x.shape[0])])
        return x * factors
    every = range(x.layers)
    grids = [c.layers_values(every) for c in columns]
    factors = {i: np.broadcast_to(np.asarray(factor(i, *(g[i] for g in grids)), dtype=float), x.factors.shape)
               for i in every}
    uniform = {i: bool((f == f.flat[0]).all()) for i, f in factors.items()}
    scale = np.array([factors[i].flat[0] if uniform[i] else 0.0 for i in every])
    mixed = [i for i in every if not uniform[i]]
    values = {i: v * factors[i] for i, v in x.layers_values(mixed).items()}
    return (x * scale).plus_dense(values)


def entrywise(function, *columns) -> np.ndarray:
    """Per entry (layer i, point j) of numpy columns, ``function(i, *their values there)`` (objects)."""
    arrays = [np.asarray(c) for c in columns]
    out = np.empty(arrays[0].shape, dtype=object)
    for (i, j), _ in np.ndenumerate(arrays[0]):
        out[i, j] = function(i, *(a[i, j] for a in arrays))
    return out
