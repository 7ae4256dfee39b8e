"""Numeric evaluation of a CostTable through compiled (lambdified) numpy functions.

The sympy work is done once per table; evaluation at one point or over a grid of millions of
(alpha, rho) points goes through compiled functions, vectorised by numpy. Counts are computed in
float64 with the reference code's own operation order and returned as int64; every MobileNet
count is far below 2**53, where float64 stops representing integers exactly.
"""

from __future__ import annotations

import numpy as np

from .compiled import compiled_layers, total_stride
from ..errors import MobilecostError
from ..spec.layers import COST_FIELDS, FIELDS

_COMPILED: dict = {}


def layer_function(costs):
    """f(alpha, rho) -> list of values, one per (layer, field) in FIELDS order."""
    return compiled_layers(costs.spec, costs.mode, costs.semantics).function


def total_function(costs, fields=COST_FIELDS):
    """f(alpha, rho) -> list of arrays, one per total in `fields`."""
    key = ("totals", id(costs), tuple(fields))
    if key not in _COMPILED:
        from ..count.rounding import ALPHA, RHO, numpy_function

        exprs = [costs.total(f) for f in fields]
        _COMPILED[key] = (costs, numpy_function((ALPHA, RHO), exprs))
    return _COMPILED[key][1]


def _as_int(values, shape) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(values, dtype=float), shape)
    return np.rint(arr).astype(np.int64)


def evaluate_layers(costs, alpha: float, rho: float) -> dict[str, np.ndarray]:
    """Per-layer values at one point: field -> array over layers (int64 in exact mode)."""
    return compiled_layers(costs.spec, costs.mode, costs.semantics).counts(alpha, rho)


def evaluate_totals(costs, alpha, rho, fields=COST_FIELDS) -> dict[str, np.ndarray]:
    """Totals over broadcast arrays of alpha and rho (any shapes numpy can broadcast)."""
    alpha = np.asarray(alpha, dtype=float)
    rho = np.asarray(rho, dtype=float)
    shape = np.broadcast_shapes(alpha.shape, rho.shape)
    raw = total_function(costs, tuple(fields))(alpha, rho)
    if costs.mode == "exact":
        return {f: _as_int(v, shape) for f, v in zip(fields, raw)}
    return {f: np.broadcast_to(np.asarray(v, dtype=float), shape) for f, v in zip(fields, raw)}


def _separated(exprs):
    """Each expression as a sum of (alpha-only factor) x (rho-only factor) terms, or None.

    Every MobileNet count is such a sum: channels depend on alpha only, spatial sides on rho only
    (a per-layer count is one product; a live set or an expanded ideal total is a sum of them).
    """
    import sympy as sp

    from ..count.rounding import ALPHA, RHO

    alpha_parts, rho_parts, owner = [], [], []
    for index, expr in enumerate(exprs):
        for term in sp.Add.make_args(sp.sympify(expr)):
            a, r = term.as_independent(RHO, as_Add=False)
            if a.has(RHO) or r.has(ALPHA):
                return None
            alpha_parts.append(a)
            rho_parts.append(r)
            owner.append(index)
    return alpha_parts, rho_parts, np.array(owner, dtype=np.int64)


def _grid_function(key, exprs):
    if key not in _COMPILED:
        from ..count.rounding import ALPHA, RHO, numpy_function

        parts = _separated(exprs)
        if parts is None:
            _COMPILED[key] = (exprs, None)
        else:
            alpha_parts, rho_parts, owner = parts
            f_alpha = numpy_function(ALPHA, alpha_parts)
            f_rho = numpy_function(RHO, rho_parts)
            groups = [np.flatnonzero(owner == i) for i in range(len(exprs))]
            _COMPILED[key] = (exprs, (f_alpha, f_rho, groups))
    return _COMPILED[key][1]


def evaluate_grid(costs, key, exprs, alphas, rhos):
    """Expressions over the full grid alphas x rhos: array (expressions, alphas, rhos), or None.

    Exact and fast: the alpha factors are evaluated on the unique alphas and the rho factors on
    the unique rhos (each with the reference code's own float operations), and every grid of
    values is a matrix product of the two. In exact mode both factors are whole numbers and every
    product and partial sum stays far below 2**53, so the float64 product is exact. Returns None
    when an expression does not separate (the caller then evaluates point by point).
    """
    factors = grid_factors(costs, key, exprs, alphas, rhos)
    if factors is None:
        return None
    a, r, groups = factors
    out = np.empty((len(groups), a.shape[1], r.shape[1]))
    for i, terms in enumerate(groups):
        out[i] = a[terms].T @ r[terms]
    return np.rint(out) if costs.mode == "exact" else out


def grid_peak(costs, key, exprs, alphas, rhos):
    """(maximum over the expressions, index of the first maximal one) on the grid alphas x rhos,
    each (alphas, rhos); None when an expression does not separate. Memory stays one grid deep."""
    factors = grid_factors(costs, key, exprs, alphas, rhos)
    if factors is None:
        return None
    a, r, groups = factors
    peak = np.full((a.shape[1], r.shape[1]), -np.inf)
    where = np.zeros((a.shape[1], r.shape[1]), dtype=np.int64)
    for i, terms in enumerate(groups):
        value = a[terms].T @ r[terms]
        if costs.mode == "exact":
            value = np.rint(value)
        larger = value > peak
        peak = np.where(larger, value, peak)
        where[larger] = i
    return peak, where


def grid_factors(costs, key, exprs, alphas, rhos):
    """The separated terms of `exprs` on the grid alphas x rhos, or None when one does not separate.

    Returns (alpha factors (terms, alphas), rho factors (terms, rhos), groups): expression i over the
    grid is ``a[groups[i]].T @ r[groups[i]]`` (what `evaluate_grid` computes, before rounding)."""
    compiled = _grid_function((key, id(costs)), tuple(exprs))
    if compiled is None:
        return None
    f_alpha, f_rho, groups = compiled
    alphas = np.atleast_1d(np.asarray(alphas, dtype=float))
    rhos = np.atleast_1d(np.asarray(rhos, dtype=float))
    return _filled(f_alpha, alphas), _filled(f_rho, rhos), groups


def _filled(fn, values) -> np.ndarray:
    """Evaluate factor functions into one preallocated array (constant terms come back as scalars)."""
    raw = fn(values)
    out = np.empty((len(raw), values.size))
    for i, v in enumerate(raw):
        out[i] = v
    return out


def grid_totals(costs, alphas, rhos, fields=COST_FIELDS) -> dict[str, np.ndarray]:
    """Totals over the grid alphas x rhos: field -> array (alphas, rhos), int64 in exact mode."""
    exprs = [costs.total(f) for f in fields]
    values = evaluate_grid(costs, ("grid-totals", tuple(fields)), exprs, alphas, rhos)
    if values is None:
        a, r = np.meshgrid(np.asarray(alphas, dtype=float), np.asarray(rhos, dtype=float), indexing="ij")
        return evaluate_totals(costs, a, r, fields)
    if costs.mode == "exact":
        return {f: values[i].astype(np.int64) for i, f in enumerate(fields)}
    return {f: values[i] for i, f in enumerate(fields)}


def check_resolution(costs_or_layers, resolution: int, name: str | None = None) -> None:
    """Refuse inputs smaller than the network's total stride."""
    layers = getattr(costs_or_layers, "layers", costs_or_layers)
    layers = [getattr(item, "layer", item) for item in layers]
    stride = total_stride(layers)
    name = name or getattr(getattr(costs_or_layers, "spec", None), "name", "this network")
    if resolution < stride:
        raise MobilecostError(
            f"resolution {resolution} is too small for {name}: its strides divide the input "
            f"side by {stride}, so the input must be at least {stride}x{stride}",
            field="--resolution",
        )


__all__ = ["FIELDS", "check_resolution", "evaluate_grid", "evaluate_layers", "evaluate_totals", "grid_factors", "grid_peak", "grid_totals",
           "layer_function", "total_function"]
