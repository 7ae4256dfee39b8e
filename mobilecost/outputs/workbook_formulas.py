"""Print the engine's sympy expressions as spreadsheet formulas (Excel / LibreOffice syntax).

The printer covers the functions of ``rounding.py`` and performs the same floating-point
operations in the same order as their numpy twins, so a recalculating spreadsheet reproduces the
engine's exact-mode integers:

* ``make_divisible(v, d)``  -> ``MAX(d, INT(INT(v + d/2)/d)*d)`` plus ``d`` when that is below ``0.9*v``
  (``IF``), the TF-slim / Keras / torchvision rule;
* ``truncate(v, m)``        -> ``MAX(INT(v), m)``;
* ``scale_by(c, q)``        -> ``c*(p/q)`` with the reference's float literal as an exact ratio;
* ``ceil_div(h, s)``        -> ``CEILING(h/s, 1)``;
* ``pad_bottom_right(h, k, s)`` -> ``INT((h+1-k)/s)+1``;
* ``valid_window(h, k, s)`` -> ``INT((h-k)/s)+1`` (``NA()`` where the window exceeds the map);
* ``round_half_even(x)``   -> ``ROUND(x, 0)``, halves to the even neighbour (``2*ROUND(x/2, 0)``);
* ``round_half_up(x)``, ``floor(x)`` -> ``INT(x + 0.5)``, ``INT(x)``;
* ``Piecewise`` -> nested ``IF``; relations -> ``=``, ``<=``, ``<``, ...

Sub-expressions that already have a cell (a producer layer's output width, the input side) are
printed as that cell's address, so each row's formula reads like the layer's own arithmetic:
``=9*K12*J12^2`` rather than the whole network above it.
"""

from __future__ import annotations

import sympy as sp

from ..errors import MobilecostError
from ..count.rounding import ALPHA, RHO

_RELATIONS = {
    sp.Eq: "=", sp.Ne: "<>", sp.Le: "<=", sp.Lt: "<", sp.Ge: ">=", sp.Gt: ">",
}


def _number(value) -> str:
    if isinstance(value, sp.Integer):
        return str(int(value))
    if isinstance(value, sp.Rational):
        return f"({int(value.p)}/{int(value.q)})"
    if isinstance(value, sp.Float):
        return repr(float(value))
    raise MobilecostError(f"cannot write the number {value} into a spreadsheet formula")


def _half(d: int) -> str:
    return str(d // 2) if d % 2 == 0 else repr(d / 2)


class SheetPrinter:
    """Turns expressions in alpha and rho into formula text.

    ``cells`` maps expressions to cell addresses (e.g. ``ALPHA -> "$B$2"``); a printed
    expression found there is written as the address.
    """

    def __init__(self, cells: dict):
        self.cells = dict(cells)

    def formula(self, expr, extra: dict | None = None) -> str:
        saved = self.cells
        if extra:
            self.cells = {**saved, **extra}
        try:
            return "=" + self._print(sp.sympify(expr))
        finally:
            self.cells = saved

    # -- dispatch -----------------------------------------------------------------------------
    def _print(self, e) -> str:
        if e in self.cells:
            return self.cells[e]
        if e.is_Number:
            return _number(e)
        if e is sp.true:
            return "TRUE()"
        if e is sp.false:
            return "FALSE()"
        if isinstance(e, sp.Symbol):
            raise MobilecostError(f"no cell holds the symbol {e}")
        method = getattr(self, f"_print_{type(e).__name__}", None)
        if method is None and isinstance(e, sp.Function):
            method = getattr(self, f"_print_{e.func.__name__}", None)
        if method is None:
            for relation, symbol in _RELATIONS.items():
                if isinstance(e, relation):
                    return f"{self._atom(e.lhs)}{symbol}{self._atom(e.rhs)}"
            raise MobilecostError(f"no spreadsheet formula for {type(e).__name__} in {e}")
        return method(e)

    def _atom(self, e) -> str:
        """Printed so that it can stand as a factor of a product."""
        text = self._print(e)
        if isinstance(e, sp.Add) and e not in self.cells:
            return f"({text})"
        if e.is_Number and e < 0:
            return f"({text})"
        return text

    # -- arithmetic ----------------------------------------------------------------------------
    def _print_Mul(self, e) -> str:
        coeff, rest = e.as_coeff_Mul()
        factors = [self._atom(a) for a in sp.Mul.make_args(rest)]
        if coeff == -1:
            return "-" + "*".join(factors)
        if coeff != 1:
            factors.insert(0, self._atom(coeff))
        return "*".join(factors)

    def _print_Add(self, e) -> str:
        terms = [self._print(a) for a in e.as_ordered_terms()]
        text = terms[0]
        for term in terms[1:]:
            text += term if term.startswith("-") else "+" + term
        return text

    def _print_Pow(self, e) -> str:
        base, exp = e.args
        if not (exp.is_Integer and exp > 0):
            raise MobilecostError(f"no spreadsheet formula for the power {e}")
        b = self._print(base)
        if not (base in self.cells or isinstance(base, (sp.Function, sp.Symbol))):
            b = f"({b})"
        return f"{b}^{int(exp)}"

    def _print_Piecewise(self, e) -> str:
        expr, cond = e.args[-1]
        text = self._print(expr) if cond is sp.true else f"IF({self._print(cond)},{self._print(expr)},NA())"
        for expr, cond in reversed(e.args[:-1]):
            text = f"IF({self._print(cond)},{self._print(expr)},{text})"
        return text

    # -- rounding rules (rounding.py) ------------------------------------------------------------
    def _print_make_divisible(self, e) -> str:
        v, d = e.args
        d = int(d)
        value = self._print(v)
        kept = f"MAX({d},INT(INT({value}+{_half(d)})/{d})*{d})"
        return f"({kept}+IF({kept}<0.9*({value}),{d},0))"

    def _print_truncate(self, e) -> str:
        v, m = e.args
        return f"MAX(INT({self._print(v)}),{self._print(m)})"

    def _print_scale_by(self, e) -> str:
        c, q = e.args
        return f"{self._atom(c)}*{self._atom(q)}"

    def _print_ceil_div(self, e) -> str:
        h, s = e.args
        return f"CEILING({self._atom(h)}/{self._atom(s)},1)"

    def _print_pad_bottom_right(self, e) -> str:
        h, k, s = e.args
        return f"(INT(({self._print(h)}+1-{self._atom(k)})/{self._atom(s)})+1)"

    def _print_valid_window(self, e) -> str:
        h, k, s = e.args
        value = self._print(h)
        return f"IF({value}<{self._atom(k)},NA(),INT(({value}-{self._atom(k)})/{self._atom(s)})+1)"

    def _print_round_half_even(self, e) -> str:
        value = self._print(e.args[0])  # a width: positive; ROUND rounds halves away from zero
        return f"IF(({value})-INT({value})=0.5,2*ROUND(({value})/2,0),ROUND({value},0))"

    def _print_round_half_up(self, e) -> str:
        return f"INT({self._print(e.args[0])}+0.5)"

    def _print_floor(self, e) -> str:
        return f"INT({self._print(e.args[0])})"


def input_cells(size: int, alpha_cell: str, rho_cell: str, side_cell: str | None = None) -> dict:
    """The base map: alpha and rho input cells, and the input side's own cell if there is one."""
    from ..count.rounding import round_half_up

    cells = {ALPHA: alpha_cell, RHO: rho_cell}
    if side_cell:
        cells[round_half_up(size * RHO)] = side_cell
    return cells
