"""Per-layer expressions as sums of (alpha-only factor) x (rho-only factor) terms, compiled once.

Every MobileNet count is such a sum: channels depend on alpha only, spatial sides on rho only. The
grid form of the numeric stage (values.values_on_grid) evaluates the alpha factors on the unique
alphas and the rho factors on the unique rhos, each with the reference code's own float operations.
"""

from __future__ import annotations

import numpy as np

from ..spec.loader import table_digest

_FACTOR_FUNCTIONS: dict = {}


def _separated(exprs):
    """Each expression as a list of (alpha factor, rho factor) terms, or None when one does not separate."""
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


def _factor_functions(costs, name: str, exprs):
    key = (table_digest(costs.spec), costs.mode, costs.semantics, name)
    if key not in _FACTOR_FUNCTIONS:
        from ..count.rounding import ALPHA, RHO, numpy_function

        parts = _separated(exprs)
        if parts is None:
            _FACTOR_FUNCTIONS[key] = None
        else:
            alpha_parts, rho_parts, owner = parts
            groups = [np.flatnonzero(owner == i) for i in range(len(exprs))]
            _FACTOR_FUNCTIONS[key] = (numpy_function(ALPHA, alpha_parts), numpy_function(RHO, rho_parts), groups)
    return _FACTOR_FUNCTIONS[key]


def separated_factors(costs, name: str, exprs, alphas, rhos):
    """(alpha factors (terms, alphas), rho factors (terms, rhos), groups) with expression i equal to
    ``a[groups[i]].T @ r[groups[i]]`` on the grid; None when an expression does not separate.
    `name` names the list of expressions (one compiled set per table, mode, semantics and name)."""
    compiled = _factor_functions(costs, name, exprs)
    if compiled is None:
        return None
    f_alpha, f_rho, groups = compiled
    alphas = np.atleast_1d(np.asarray(alphas, dtype=float))
    rhos = np.atleast_1d(np.asarray(rhos, dtype=float))
    return _filled(f_alpha, alphas), _filled(f_rho, rhos), groups


def _filled(fn, values) -> np.ndarray:
    """Factor functions evaluated into one array (constant terms come back as scalars)."""
    raw = fn(values)
    out = np.empty((len(raw), values.size))
    for i, v in enumerate(raw):
        out[i] = v
    return out
