"""One counting rule per primitive op, in one table (as fvcore's per-op handles).

A rule receives the layer and its symbolic shapes and returns the op's own work:
``macs`` (multiply-accumulates), ``weights`` (kernel elements) and ``ew_ops`` (per-element
work that is not a multiply-accumulate: pooling adds, SE scaling, residual adds, softmax).
What every layer shares -- bias, batch norm, activation, output size -- the engine adds once.
An op with no rule is an error, never a silent zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sympy as sp

from ..errors import MobilecostError


@dataclass(frozen=True)
class Shapes:
    in_side: sp.Expr
    in_ch: sp.Expr
    out_side: sp.Expr
    out_ch: sp.Expr


Rule = Callable[["object", Shapes], dict]
RULES: dict[str, Rule] = {}


def rule(*ops: str):
    def register(fn: Rule) -> Rule:
        for op in ops:
            RULES[op] = fn
        return fn

    return register


@rule("conv", "pointwise")
def dense_convolution(layer, s: Shapes) -> dict:
    kernel = layer.kernel**2 * s.in_ch * s.out_ch
    return {"weights": kernel, "macs": s.out_side**2 * kernel}


@rule("depthwise")
def depthwise_convolution(layer, s: Shapes) -> dict:
    kernel = layer.kernel**2 * s.out_ch
    return {"weights": kernel, "macs": s.out_side**2 * kernel}


@rule("fc")
def fully_connected(layer, s: Shapes) -> dict:
    # Applied to a pooled 1x1 map; a larger map would be flattened first.
    weights = s.in_side**2 * s.in_ch * s.out_ch
    return {"weights": weights, "macs": weights}


@rule("global_pool")
def global_average_pool(layer, s: Shapes) -> dict:
    return {"ew_ops": s.in_side**2 * s.in_ch}


@rule("scale", "add")
def elementwise_binary(layer, s: Shapes) -> dict:
    return {"ew_ops": s.out_side**2 * s.out_ch}


@rule("softmax")
def softmax(layer, s: Shapes) -> dict:
    return {"ew_ops": s.out_ch}


def op_cost(layer, shapes: Shapes) -> dict:
    try:
        fn = RULES[layer.op]
    except KeyError:
        raise MobilecostError(f"no counting rule for op {layer.op!r}", field=layer.name) from None
    return fn(layer, shapes)
