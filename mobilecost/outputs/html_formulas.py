"""Print the engine's sympy expressions as JavaScript, for the design-review page (``html.py``).

The printer is sympy's Python code printer (the family that writes the plain-Python evaluator,
``rounding.python_function``) with JavaScript syntax, so the page performs the same floating-point
operations in the same order as ``exact_rules``. Each rule of ``rounding.py`` has a JavaScript twin in ``JS_RULES``:

* ``make_divisible(v, d)`` -> ``max(d, trunc(v + d/2) // d * d)``, plus ``d`` below ``0.9*v``;
* ``truncate(v, m)``       -> ``max(trunc(v), m)``;
* ``scale_by(c, q)``       -> ``c * q`` (``q`` printed as ``p/q``, the reference's float literal);
* ``ceil_div(h, s)``       -> ``-floor(-h / s)``  (SAME padding, ``ceil(H/s)``);
* ``pad_bottom_right(h, k, s)`` -> ``floor((h + 1 - k) / s) + 1``;
* ``valid_window(h, k, s)`` -> ``floor((h - k) / s) + 1``, refused where the window is larger than the map;
* ``round_half_even(x)``   -> Python's ``round``: the nearer whole number, the even one at a tie
  (``x - floor(x)`` is exact in float64, so the tie test is exact);
* ``round_half_up(x)``, ``floor(x)`` -> ``floor(x + 0.5)``, ``floor(x)``.

Python's integers are exact at any size; JavaScript numbers are float64, exact for whole numbers up
to 2**53. Every intermediate and every result passes through ``safe``, which throws where a value
passes 2**53 - 1, so the page shows an exact count or refuses it, never a rounded one. (Below 2**53
``floor(a / d)`` of whole numbers equals Python's ``a // d``: the quotient's rounding error, at most
``a/d * 2**-53``, is smaller than its distance ``1/d`` to the next whole number.)
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.printing.lambdarepr import LambdaPrinter

from ..errors import MobilecostError

JS_RULES = """\
const LIMIT = Number.MAX_SAFE_INTEGER;  // 2**53 - 1: above it a float64 no longer holds every whole number
class Refused extends Error {}
function safe(v) {
  if (!(Math.abs(v) <= LIMIT)) throw new Refused("a count passes 2**53 (" + v.toExponential(3) + "): " +
    "this page computes in float64 and refuses rather than round; mobilecost report counts it exactly");
  return v;
}
function make_divisible(v, d) {
  safe(v);
  let kept = Math.max(d, Math.floor(Math.trunc(v + d / 2) / d) * d);
  if (kept < 0.9 * v) kept += d;
  return safe(kept);
}
function truncate(v, m) { return Math.max(Math.trunc(safe(v)), m); }
function scale_by(c, q) { return safe(c * q); }
function ceil_div(h, s) { return -Math.floor(-safe(h) / s); }
function pad_bottom_right(h, k, s) { return Math.floor((safe(h) + 1 - k) / s) + 1; }
function valid_window(h, k, s) {
  if (safe(h) < k) throw new Refused("a " + k + "-pixel pooling window is larger than its " + h + "-pixel input at this resolution");
  return Math.floor((h - k) / s) + 1;
}
function round_half_even(x) {
  const f = Math.floor(safe(x)), d = x - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : (f % 2 === 0 ? f : f + 1);
}
function round_half_up(x) { return Math.floor(safe(x) + 0.5); }
"""

# The functions a generated function may call: the rules above and what the printer writes as Math.*.
_JS_CALLABLE = frozenset(re.findall(r"^function (\w+)\(", JS_RULES, flags=re.M)) | {"floor", "ceiling", "Max", "Min", "Piecewise"}

# What a generated function may contain: names, numbers, operators; no quotes, no text from a table.
_PLAIN_CODE = re.compile(r"[A-Za-z0-9_ .,*+\-/()<>=!?:;\[\]{}\n&|]*")


class JavascriptPrinter(LambdaPrinter):
    """The plain-Python evaluator's printer with JavaScript syntax."""

    def __init__(self):
        super().__init__({"allow_unknown_functions": True, "fully_qualified_modules": False})

    def _print_Pow(self, e):
        base, exp = e.args
        if not (exp.is_Integer and exp > 0):
            raise MobilecostError(f"no JavaScript for the power {e}")
        return f"({self._print(base)})**{int(exp)}"

    def _print_Piecewise(self, e):
        expr, cond = e.args[-1]
        text = self._print(expr) if cond is sp.true else "NaN"
        for expr, cond in reversed(e.args[:-1]):
            text = f"(({self._print(cond)}) ? ({self._print(expr)}) : ({text}))"
        return text

    def _print_Relational(self, e):
        op = {"==": "===", "!=": "!=="}.get(e.rel_op, e.rel_op)
        return f"({self._print(e.lhs)} {op} {self._print(e.rhs)})"

    def _print_And(self, e):
        return "(" + " && ".join(self._print(a) for a in e.args) + ")"

    def _print_Or(self, e):
        return "(" + " || ".join(self._print(a) for a in e.args) + ")"

    def _print_Not(self, e):
        return f"(!{self._print(e.args[0])})"

    def _print_BooleanTrue(self, e):
        return "true"

    def _print_BooleanFalse(self, e):
        return "false"

    def _print_floor(self, e):
        return f"Math.floor({self._print(e.args[0])})"

    def _print_ceiling(self, e):
        return f"Math.ceil({self._print(e.args[0])})"

    def _print_Max(self, e):
        return "Math.max(" + ", ".join(self._print(a) for a in e.args) + ")"

    def _print_Min(self, e):
        return "Math.min(" + ", ".join(self._print(a) for a in e.args) + ")"

    def _print_Float(self, e):
        return repr(float(e))


def js_function(exprs) -> str:
    """A JavaScript function expression ``function (alpha, rho) {...}`` returning `exprs` in order,
    every intermediate and result checked by ``safe`` (``JS_RULES`` defines the names it calls)."""
    from ..count.rounding import ALPHA, RHO

    exprs = [sp.sympify(e) for e in exprs]
    missing = {type(a).__name__ for e in exprs for a in sp.preorder_traversal(e) if isinstance(a, sp.Function)} - _JS_CALLABLE
    if missing:
        raise MobilecostError(f"the page has no JavaScript twin of {', '.join(sorted(missing))}: it cannot count this "
                              "table (report, sweep and the workbook can)", field="--html")
    printer = JavascriptPrinter()
    shared, reduced = sp.cse([sp.sympify(e) for e in exprs], symbols=sp.numbered_symbols("x"))
    lines = ["function (alpha, rho) {"]
    for symbol, expr in shared:
        lines.append(f"  const {symbol} = safe({printer.doprint(expr)});")
    values = ", ".join(f"safe({printer.doprint(e)})" if not e.is_Number else printer.doprint(e) for e in reduced)
    lines.append(f"  return [{values}];")
    lines.append("}")
    code = "\n".join(lines)
    free = {s.name for e in exprs for s in sp.sympify(e).free_symbols}
    if not free <= {ALPHA.name, RHO.name} or not _PLAIN_CODE.fullmatch(code):
        raise MobilecostError("the generated page code holds something other than arithmetic in alpha and rho")
    return code
