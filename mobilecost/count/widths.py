"""Width rules: a layer's output channels as an expression in alpha, one function per `Width` kind.

The decoders write a width down as the table gives it (a row's own #out, a block's expansion, a
projection, an SE squeeze); everything the table's ``width:`` policy decides is read here:

* which rows the policy names -- kept ``fixed``, scaled only ``above_one``, an ``input_ratio`` of
  their input -- and which rows simply scale (`resolved_kind`);
* whether a block's expansion is a ratio of its input or an absolute size (``expansion``);
* the rounding: in exact mode the reference implementations' (make_divisible, truncation, Keras
  V2's floor of block outputs, MnasNet's max(1, int(v)) SE squeeze); in ideal mode none, the
  papers' alpha*M.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sympy as sp

from ..errors import MobilecostError
from ..spec.layers import Width
from ..spec.models import WidthSpec
from .rounding import ALPHA, exact_fraction, make_divisible, round_half_even, scale_by, truncate


@dataclass(frozen=True)
class WidthContext:
    """What a width rule reads besides the layer: the table's policy, the mode, the widths so far."""

    policy: WidthSpec
    exact: bool
    classes: int
    in_ch: sp.Expr  # the layer's input channels
    known: dict  # layer name -> (height, channels, width) of every layer before this one

    def round(self, value, block_output: bool = False, rule: str | None = None) -> sp.Expr:
        if not self.exact:
            return value
        p = self.policy
        rule = rule or p.rounding
        if rule == "round":
            return round_half_even(value)
        if rule == "truncate":
            # A make_divisible table's truncated SE squeeze keeps at least 1 channel: MnasNet's max(1, int(v)).
            return truncate(value, p.minimum if p.rounding == "truncate" else 1)
        if block_output and p.truncate_first:
            value = sp.floor(value)
        return make_divisible(value, p.divisor)

    def ratio_of(self, channels, ratio: sp.Rational) -> sp.Expr:
        """channels * ratio, before rounding (exactly as the references compute it in exact mode)."""
        return scale_by(channels, ratio) if self.exact else channels * ratio


WidthRule = Callable[[Width, WidthContext], sp.Expr]
WIDTH_RULES: dict[str, WidthRule] = {}


def width_rule(kind: str):
    def register(fn: WidthRule) -> WidthRule:
        WIDTH_RULES[kind] = fn
        return fn

    return register


def resolved_kind(width: Width, policy: WidthSpec) -> str:
    """The rule a width follows under the policy: a table row's kind comes from the policy's lists
    of row names, a block's expansion from ``expansion``; every other kind is its own rule."""
    if width.kind == "row":
        for kind in ("fixed", "above_one", "input_ratio"):
            if width.row_name in getattr(policy, kind):
                return kind
        return "scaled"
    if width.kind == "expansion":
        return "expansion_ratio" if policy.expansion == "input_ratio" else "scaled"
    return width.kind


def channels(width: Width, context: WidthContext) -> sp.Expr:
    kind = resolved_kind(width, context.policy)
    try:
        rule = WIDTH_RULES[kind]
    except KeyError:
        raise MobilecostError(f"unknown width rule {kind!r}") from None
    return rule(width, context)


@width_rule("scaled")
def scaled(width: Width, at: WidthContext) -> sp.Expr:
    return at.round(sp.Integer(width.c) * ALPHA, width.block_output)


@width_rule("fixed")
def fixed(width: Width, at: WidthContext) -> sp.Expr:
    return sp.Integer(width.c)


@width_rule("above_one")
def above_one(width: Width, at: WidthContext) -> sp.Expr:
    c = sp.Integer(width.c)
    return sp.Piecewise((c, ALPHA <= 1), (at.round(c * ALPHA), True))


@width_rule("input_ratio")
def input_ratio(width: Width, at: WidthContext) -> sp.Expr:
    return at.round(at.ratio_of(at.in_ch, sp.Rational(width.c, width.of)))


@width_rule("expansion_ratio")
def expansion_ratio(width: Width, at: WidthContext) -> sp.Expr:
    """A block's expanded width: t * (rounded input channels), rounded by ``expansion_rounding``."""
    return at.round(at.ratio_of(at.in_ch, sp.Rational(width.c, width.of)), rule=at.policy.expansion_rounding)


@width_rule("squeeze")
def squeeze(width: Width, at: WidthContext) -> sp.Expr:
    """The SE squeeze: se_ratio of the expanded width (MobileNetV3) or of the block input (MnasNet)."""
    base = at.known[width.ref][1] if at.policy.se_of == "input" else at.in_ch
    return at.round(at.ratio_of(base, exact_fraction(at.policy.se_ratio)), rule=at.policy.se_rounding)


@width_rule("attention_map")
def attention_map(width: Width, at: WidthContext) -> sp.Expr:
    """Attention scores: c heads x the key positions (the side of layer ``ref``, squared) per query."""
    return sp.Integer(width.c) * at.known[width.ref][0] * at.known[width.ref][2]


@width_rule("like")
def like(width: Width, at: WidthContext) -> sp.Expr:
    return at.known[width.ref][1]


@width_rule("concat")
def concat(width: Width, at: WidthContext) -> sp.Expr:
    return sp.Add(*(at.known[ref][1] for ref in width.refs))


@width_rule("same")
def same(width: Width, at: WidthContext) -> sp.Expr:
    return at.in_ch


@width_rule("classes")
def classes(width: Width, at: WidthContext) -> sp.Expr:
    return sp.Integer(at.classes)
