"""Numeric evaluation of a CostTable through compiled (lambdified) numpy functions.

The sympy work is done once per table; evaluation at one point or over a grid of millions of
(alpha, rho) points goes through compiled functions, vectorised by numpy. Counts are computed in
float64 with the reference code's own operation order and returned as int64; every MobileNet
count is far below 2**53, where float64 stops representing integers exactly.
"""

from __future__ import annotations

import numpy as np

from .compiled import compiled_layers, total_stride
from .errors import MobilecostError
from .layers import COST_FIELDS, FIELDS

_COMPILED: dict = {}


def layer_function(costs):
    """f(alpha, rho) -> list of values, one per (layer, field) in FIELDS order."""
    return compiled_layers(costs.spec, costs.mode, costs.semantics).function


def total_function(costs, fields=COST_FIELDS):
    """f(alpha, rho) -> list of arrays, one per total in `fields`."""
    key = ("totals", id(costs), tuple(fields))
    if key not in _COMPILED:
        import sympy as sp

        from .rounding import ALPHA, NUMPY_FUNCTIONS, RHO

        exprs = [costs.total(f) for f in fields]
        _COMPILED[key] = (costs, sp.lambdify((ALPHA, RHO), exprs, modules=[NUMPY_FUNCTIONS, "numpy"], cse=True))
    return _COMPILED[key][1]


def _as_int(values, shape) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(values, dtype=float), shape)
    return np.rint(arr).astype(np.int64)


def evaluate_layers(costs, alpha: float, rho: float) -> dict[str, np.ndarray]:
    """Per-layer values at one point: field -> array over layers (int64 in exact mode)."""
    values = compiled_layers(costs.spec, costs.mode, costs.semantics).evaluate(alpha, rho)
    if costs.mode == "exact":
        return {f: np.rint(v).astype(np.int64) for f, v in values.items()}
    return values


def evaluate_totals(costs, alpha, rho, fields=COST_FIELDS) -> dict[str, np.ndarray]:
    """Totals over broadcast arrays of alpha and rho (any shapes numpy can broadcast)."""
    alpha = np.asarray(alpha, dtype=float)
    rho = np.asarray(rho, dtype=float)
    shape = np.broadcast_shapes(alpha.shape, rho.shape)
    raw = total_function(costs, tuple(fields))(alpha, rho)
    if costs.mode == "exact":
        return {f: _as_int(v, shape) for f, v in zip(fields, raw)}
    return {f: np.broadcast_to(np.asarray(v, dtype=float), shape) for f, v in zip(fields, raw)}


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


__all__ = ["FIELDS", "check_resolution", "evaluate_layers", "evaluate_totals", "layer_function", "total_function"]
