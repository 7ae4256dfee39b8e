"""Numeric evaluation of a CostTable through compiled (lambdified) numpy functions.

The sympy work is done once per table; evaluation at one point or over a grid of millions of
(alpha, rho) points goes through the same compiled functions, vectorised by numpy. Counts are
computed in float64 with the reference code's own operation order and returned as int64; every
MobileNet count is far below 2**53, where float64 stops representing integers exactly.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .engine import COST_FIELDS, FIELDS, CostTable
from .errors import MobilecostError
from .rounding import ALPHA, NUMPY_FUNCTIONS, RHO

_COMPILED: dict = {}


def _lambdify(exprs):
    return sp.lambdify((ALPHA, RHO), exprs, modules=[NUMPY_FUNCTIONS, "numpy"], cse=True)


def layer_function(costs: CostTable):
    """f(alpha, rho) -> list of arrays, one per (layer, field) in FIELDS order."""
    key = ("layers", id(costs))
    if key not in _COMPILED:
        exprs = [lc.exprs[f] for lc in costs.layers for f in FIELDS]
        _COMPILED[key] = (costs, _lambdify(exprs))
    return _COMPILED[key][1]


def total_function(costs: CostTable, fields=COST_FIELDS):
    """f(alpha, rho) -> list of arrays, one per total in `fields`."""
    key = ("totals", id(costs), tuple(fields))
    if key not in _COMPILED:
        _COMPILED[key] = (costs, _lambdify([costs.total(f) for f in fields]))
    return _COMPILED[key][1]


def _as_int(values, shape) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(values, dtype=float), shape)
    return np.rint(arr).astype(np.int64)


def evaluate_layers(costs: CostTable, alpha: float, rho: float) -> dict[str, np.ndarray]:
    """Per-layer integers at one point: field -> array over layers."""
    raw = layer_function(costs)(float(alpha), float(rho))
    n = len(FIELDS)
    out = {}
    for j, field in enumerate(FIELDS):
        values = [raw[i * n + j] for i in range(len(costs.layers))]
        out[field] = _as_int(np.array([float(v) for v in values]), (len(values),)) if costs.mode == "exact" \
            else np.array([float(v) for v in values])
    return out


def evaluate_totals(costs: CostTable, alpha, rho, fields=COST_FIELDS) -> dict[str, np.ndarray]:
    """Totals over broadcast arrays of alpha and rho (any shapes numpy can broadcast)."""
    alpha = np.asarray(alpha, dtype=float)
    rho = np.asarray(rho, dtype=float)
    shape = np.broadcast_shapes(alpha.shape, rho.shape)
    raw = total_function(costs, tuple(fields))(alpha, rho)
    if costs.mode == "exact":
        return {f: _as_int(v, shape) for f, v in zip(fields, raw)}
    return {f: np.broadcast_to(np.asarray(v, dtype=float), shape) for f, v in zip(fields, raw)}


def check_resolution(costs: CostTable, resolution: int) -> None:
    """Refuse inputs smaller than the network's total stride."""
    stride = 1
    for lc in costs.layers:
        stride *= lc.layer.stride
    if resolution < stride:
        raise MobilecostError(
            f"resolution {resolution} is too small for {costs.spec.name}: its strides divide the input "
            f"side by {stride}, so the input must be at least {stride}x{stride}",
            field="--resolution",
        )
