"""Per-layer expressions as sums of (alpha-only factor) x (rho-only factor) terms, compiled once.

Every MobileNet count is such a sum: channels depend on alpha only, spatial sides on rho only. The
grid form of the numeric stage (values.values_on_grid) evaluates the alpha factors on the unique
alphas and the rho factors on the unique rhos, each with the reference code's own float operations.
The factor functions are generated from the symbolic costs once and kept in the compiled cache.
"""

from __future__ import annotations

import inspect

import numpy as np


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
    return alpha_parts, rho_parts, owner


def _factor_source(exprs) -> str:
    """Source defining alpha_factors(alpha), rho_factors(rho) and GROUPS (the terms of each expression),
    or SEPARABLE = False."""
    from ..count.rounding import ALPHA, RHO, numpy_function

    parts = _separated(exprs)
    if parts is None:
        return "SEPARABLE = False\n"
    alpha_parts, rho_parts, owner = parts
    groups = [[k for k, o in enumerate(owner) if o == i] for i in range(len(exprs))]
    sources = []
    for name, symbol, part in (("alpha_factors", ALPHA, alpha_parts), ("rho_factors", RHO, rho_parts)):
        sources.append(inspect.getsource(numpy_function(symbol, part)).replace("def _lambdifygenerated(", f"def {name}(", 1))
    return "\n".join(sources) + f"\nGROUPS = {groups!r}\nSEPARABLE = True\n"


def factor_functions(compiled, name: str, expressions):
    """(alpha_factors, rho_factors, groups) for the expressions ``expressions(costs)`` of a compiled table,
    or None when one does not separate; generated once per table, mode, semantics and `name`."""
    namespace = compiled.generated(f"factors-{name}", lambda costs: _factor_source(expressions(costs)))
    if not namespace["SEPARABLE"]:
        return None
    if "GROUP_ARRAYS" not in namespace:  # once per process: the term indices as arrays
        namespace["GROUP_ARRAYS"] = [np.asarray(g, dtype=np.int64) for g in namespace["GROUPS"]]
    return namespace["alpha_factors"], namespace["rho_factors"], namespace["GROUP_ARRAYS"]


def separated_factors(compiled, name: str, expressions, alphas, rhos):
    """(alpha factors (terms, alphas), rho factors (terms, rhos), groups) with expression i equal to
    ``a[groups[i]].T @ r[groups[i]]`` on the grid; None when an expression does not separate."""
    found = factor_functions(compiled, name, expressions)
    if found is None:
        return None
    f_alpha, f_rho, groups = found
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
