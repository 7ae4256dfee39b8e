"""Closed forms: totals as formulas in alpha and rho."""

from __future__ import annotations

import sympy as sp

from ..conventions import CONVENTIONS, check_convention
from ..count.engine import COST_FIELDS
from ..errors import MobilecostError, quoted


METRICS = (*COST_FIELDS, "params")


def total_expression(costs, metric: str, convention: str = "paper") -> sp.Expr:
    if metric == "params":
        expr = sp.Add(*(costs.total(part) for part in CONVENTIONS[check_convention(convention)]))
    elif metric in COST_FIELDS:
        expr = costs.total(metric)
    else:
        raise MobilecostError(f"unknown metric {quoted(metric)}; use one of {', '.join(METRICS)}", field="--metric")
    if costs.mode == "ideal":
        expr = sp.expand(expr)
    return expr


def total_formula(variant, metric="macs", mode="ideal", semantics=None, convention="paper", latex=False) -> str:
    from ..numeric.checked import costs_for

    costs = costs_for(variant, mode, semantics)
    expr = total_expression(costs, metric, convention)
    body = sp.latex(expr) if latex else sp.sstr(expr)
    name = f"{metric}" + (f" [{convention}]" if metric == "params" else "")
    return f"{name}(alpha, rho) = {body}" if not latex else f"\\mathrm{{{metric}}}(\\alpha, \\rho) = {body}"
