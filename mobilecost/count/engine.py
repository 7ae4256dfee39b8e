"""Symbolic engine: a validated table -> per-layer costs as exact expressions in alpha and rho.

Two modes:

* ``exact`` -- the reference implementations' arithmetic: channels rounded by the table's width
  rule, input side ``round(size * rho)`` (or an explicit resolution), strided sides ``ceil(H/s)``
  (or the table's padding alternative);
* ``ideal`` -- the papers' algebra: ``alpha*M`` channels and ``rho*D`` sides, no rounding; its
  totals are the closed forms the papers reason with.

Built once per (table, mode, semantics) and cached.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..errors import MobilecostError, quoted
from ..spec.layers import COST_FIELDS, FIELDS, SHAPE_FIELDS, Layer, decode  # noqa: F401
from ..spec.loader import row_location, table_digest
from ..spec.roles import Role
from .ops import OpKind, Shapes, Side, activation_of, op_cost, record_of
from .rounding import ALPHA, RHO, ceil_div, pad_bottom_right, round_half_up, valid_window
from .widths import WidthContext, channels
from ..spec.models import VariantSpec

MODES = ("exact", "ideal")


@dataclass(frozen=True)
class LayerCost:
    layer: Layer
    exprs: dict  # field -> sympy expression in ALPHA, RHO
    # 1 where the layer exists, 0 where not: a shortcut add exists only where its inputs' widths agree.
    present: sp.Expr = sp.Integer(1)


@dataclass(frozen=True)
class CostTable:
    spec: VariantSpec
    mode: str
    semantics: str
    layers: tuple[LayerCost, ...]

    def total(self, field: str) -> sp.Expr:
        return sp.Add(*(lc.exprs[field] for lc in self.layers))


def build_costs(spec: VariantSpec, mode: str = "exact", semantics: str | None = None) -> CostTable:
    if mode not in MODES:
        raise MobilecostError(f"unknown mode {quoted(mode)}; use exact or ideal", field="--mode")
    semantics = semantics or "default"
    return _build(table_digest(spec), spec, mode, semantics)


_CACHE: dict = {}


def _build(digest: str, spec: VariantSpec, mode: str, semantics: str) -> CostTable:
    key = (digest, mode, semantics)
    if key not in _CACHE:
        read = spec.with_semantics(semantics)
        _CACHE[key] = CostTable(spec, mode, semantics, _propagate(read, decode(read), mode == "exact"))
    return _CACHE[key]


def _out_side(spec: VariantSpec, layer: Layer, h, exact: bool, known, w=None) -> tuple[sp.Expr, sp.Expr | None]:
    """The output's height and width (width None where every map is square, as when the table's input
    is). On a square table a non-square kernel must give the same side along both axes (with `same`
    padding it does); on a rectangular one each axis takes its own kernel extent. An upsampling join
    takes its second input's size, or multiplies its input's by its factor."""
    record = record_of(layer)
    if record.side is Side.one:
        return sp.Integer(1), (None if w is None else sp.Integer(1))
    if record.side is Side.upsampled:
        if len(layer.inputs) > 1:
            other = known[layer.inputs[1]]
            return other[0], (None if w is None else other[2])
        return h * layer.stride, (None if w is None else w * layer.stride)
    if record.side is Side.kept:
        return h, w
    rule = getattr(spec.padding, record.padding)
    k_height, k_width = layer.kernel_span
    height = _axis_side(h, k_height, layer.stride, rule, exact)
    if w is not None:
        return height, _axis_side(w, k_width, layer.stride, rule, exact)
    if height != _axis_side(h, k_width, layer.stride, rule, exact):
        kh, kw = layer.kernel_hw
        raise MobilecostError(
            f"a {kh}x{kw} kernel with stride {layer.stride} and '{rule}' padding gives a non-square output "
            f"for {layer.name}; only 'same' padding keeps a non-square kernel's output square",
            where=row_location(spec, layer.row), field=_kernel_field(spec, layer))
    return height, None


def _axis_side(h, k: int, stride: int, rule: str, exact: bool) -> sp.Expr:
    """The output side along one axis of a window spanning k pixels (a dilated kernel's span)."""
    if rule == "valid":
        return valid_window(h, k, stride) if exact else (h - k) / stride + 1
    if stride == 1:
        return h
    if not exact:
        return h / stride
    if rule == "bottom_right":
        return pad_bottom_right(h, k, stride)
    return ceil_div(h, stride)


def _kernel_field(spec: VariantSpec, layer: Layer) -> str:
    """The table column that gave the layer its kernel."""
    if spec.format == "v1":
        return "filter"
    if spec.format == "v2" and layer.role.value != "pool":
        return "kernel"
    return "operator"


def _propagate(spec: VariantSpec, layers: tuple[Layer, ...], exact: bool) -> tuple[LayerCost, ...]:
    def scaled(size):
        return round_half_up(size * RHO) if exact else size * RHO

    # known: layer -> (height, channels, width); a square table's width is None in its shapes and its
    # height in `known`, so that every count keeps the form side**2 it has always had.
    side0 = scaled(spec.input.size)
    width0 = None if spec.input.width is None else scaled(spec.input.width)
    known = {"input": (side0, sp.Integer(spec.input.channels), side0 if width0 is None else width0)}
    square = width0 is None
    result = []
    for layer in layers:
        in_side, in_ch, in_width = known[layer.inputs[0]]
        in_width = None if square else in_width
        out_ch = channels(layer.width, WidthContext(spec.width, exact, spec.classes, in_ch, known))
        if layer.role is Role.join:
            _check_join(spec, layer, known)
        out_side, out_width = _out_side(spec, layer, in_side, exact, known, in_width)
        known[layer.name] = (out_side, out_ch, out_side if square else out_width)
        other = known[layer.inputs[1]] if len(layer.inputs) > 1 else (None, None, None)
        shapes = Shapes(in_side, in_ch, out_side, out_ch, other[0], other[1],
                        in_width, out_width, None if square else other[2])
        own = op_cost(layer, shapes)
        act_out = shapes.out_area * out_ch
        zero = sp.Integer(0)
        exprs = {
            "in_side": in_side, "in_ch": in_ch, "out_side": out_side, "out_ch": out_ch,
            "macs": own.get("macs", zero),
            "weights": own.get("weights", zero),
            "biases": out_ch if layer.bias else zero,
            "bn_affine": 2 * out_ch if layer.bn else zero,
            "bn_stats": 2 * out_ch if layer.bn else zero,
            "act_in": shapes.in_area * in_ch,
            "act_out": act_out,
            "bn_ops": act_out if layer.bn else zero,
            "act_ops": act_out * activation_of(layer).per_element if layer.act else zero,
            "ew_ops": own.get("ew_ops", zero),
            "attn_macs": own.get("attn_macs", zero),
        }
        present = _widths_agree(in_ch, known[layer.inputs[1]][1], exact) if layer.residual else sp.Integer(1)
        if present != 1:
            exprs.update({field: present * exprs[field] for field in COST_FIELDS})
        # A rectangular map's widths beside its heights (in_side, out_side); a square map's side again.
        exprs.update({"in_width": in_side, "out_width": out_side} if square else
                     {"in_width": in_width, "out_width": out_width})
        result.append(LayerCost(layer, exprs, present))
    return tuple(result)


def _widths_agree(a, b, exact: bool) -> sp.Expr:
    """1 where both inputs of a shortcut add have the same width, else 0 (the add is not built)."""
    if not exact or (a.is_Number and b.is_Number):
        return sp.Integer(1 if sp.simplify(a.subs(ALPHA, 1) - b.subs(ALPHA, 1)) == 0 else 0)
    if a == b:
        return sp.Integer(1)
    return sp.Piecewise((1, sp.Eq(a, b)), (0, True))


# Where two branches meet, their shapes are compared when the table is read at alpha 1 and these rho:
# the table's own input first (the one an error names), then others where rounding could part the sides.
# Every configuration evaluated is checked again (numeric/joins.py).
_JOIN_CHECK_POINTS = tuple((1, rho) for rho in (1, sp.Rational(1, 2), sp.Rational(7, 10), sp.Rational(9, 8),
                                                 sp.Rational(3, 10)))


def _check_join(spec: VariantSpec, layer: Layer, known: dict) -> None:
    """A join's inputs agree: concat in side, add in side and width, multiply in width and in side
    unless its second input is 1x1 (broadcast); an upsample's sizing input is no smaller than its input."""
    first, *others = layer.inputs
    for other in others:
        checks = []
        if layer.op is OpKind.upsample:
            checks.append((lambda a, b: b[0] >= a[0] and b[2] >= a[2], "is smaller than"))
        else:
            broadcast = layer.op is OpKind.multiply
            checks.append((lambda a, b, broadcast=broadcast: (a[0], a[2]) == (b[0], b[2])
                           or (broadcast and (b[0], b[2]) == (1, 1)),
                           "has another side than"))
            if layer.op is not OpKind.concat:
                checks.append((lambda a, b: a[1] == b[1], "has another width than"))
        for agree, verb in checks:
            for alpha, rho in _JOIN_CHECK_POINTS:
                a = tuple(sp.sympify(x).subs({ALPHA: alpha, RHO: rho}) for x in known[first])
                b = tuple(sp.sympify(x).subs({ALPHA: alpha, RHO: rho}) for x in known[other])
                if not agree(a, b):
                    at = "alpha = rho = 1" if (alpha, rho) == (1, 1) else f"alpha {float(alpha):g}, rho {float(rho):g}"
                    raise MobilecostError(
                        f"{layer.op.value}: {quoted(other)} ({_shape(b)}) {verb} {quoted(first)} ({_shape(a)}) "
                        f"at {at}", where=row_location(spec, layer.row), field="from")


def _shape(shape) -> str:
    side, ch, width = shape
    return f"{side}x{width}x{ch}"
