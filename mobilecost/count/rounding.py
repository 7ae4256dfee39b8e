"""The reference implementations' rounding rules, as sympy functions with exact numeric twins.

Each rule is a sympy ``Function`` (so formulas stay readable: ``make_divisible(32*alpha, 8)``)
paired with a numpy implementation that performs the *same floating-point operations in the
same order* as the reference code, so that compiled evaluation agrees with it to the unit:

* ``make_divisible(v, d)`` -- TF-slim ``_make_divisible`` / Keras ``_depth`` / torchvision
  ``_make_divisible``: ``max(d, int(v + d/2) // d * d)``, plus ``d`` when that falls below 90 % of v.
* ``truncate(v, m)`` -- TF-slim V1 ``depth``: ``max(int(v), m)``; Keras V1 ``int(filters * alpha)``.
* ``scale_by(c, q)`` -- ``c * q`` with ``q`` kept as the exact binary value of the reference's float
  literal (e.g. Keras's expansion ``2.3``), so printing cannot reorder the multiplication.
* ``ceil_div(h, s)``, ``pad_bottom_right(h, k, s)``, ``valid_window(h, k, s)`` -- output sides of
  strided layers and of unpadded windows (floor((h - k) / s) + 1; refused where the window is larger
  than the map, as torch and Keras refuse it).
* ``round_half_even(v)`` -- Python's ``round()``: torchvision MobileNetV2's ``int(round(inp * t))``.
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

from . import exact_rules

ALPHA = sp.Symbol("alpha", positive=True)
RHO = sp.Symbol("rho", positive=True)


def _power(tex: str, exp) -> str:
    """A function's LaTeX raised to `exp` (sympy passes the exponent of a power of a function to its printer)."""
    return tex if exp is None else r"\left(%s\right)^{%s}" % (tex, exp)


class make_divisible(sp.Function):  # noqa: N801 - named as in the reference code
    nargs = 2

    @classmethod
    def eval(cls, v, d):
        if v.is_Number and d.is_Integer:
            return sp.Integer(exact_rules.make_divisible(float(v), int(d)))
        return None

    def _latex(self, printer, exp=None):
        v, d = self.args
        return _power(r"\operatorname{md}_{%s}\left(%s\right)" % (printer._print(d), printer._print(v)), exp)


class truncate(sp.Function):  # noqa: N801
    nargs = 2

    @classmethod
    def eval(cls, v, m):
        if v.is_Number and m.is_Integer:
            return sp.Integer(max(int(float(v)), int(m)))
        return None

    def _latex(self, printer, exp=None):
        v, m = self.args
        return _power(r"\max\left(%s, \lfloor %s \rfloor\right)" % (printer._print(m), printer._print(v)), exp)


class scale_by(sp.Function):  # noqa: N801
    nargs = 2

    @classmethod
    def eval(cls, c, q):
        if q == 1:
            return c
        if c.is_Number and q.is_Number:
            # The reference code multiplies two floats; so does this, rounding included.
            product = float(c) * float(q)
            return sp.Integer(int(product)) if product.is_integer() else sp.Float(product, 17)
        return None

    def _latex(self, printer, exp=None):
        c, q = self.args
        return _power(r"%s \cdot %s" % (printer._print(q), printer.parenthesize(c, 50)), exp)


class ceil_div(sp.Function):  # noqa: N801
    nargs = 2

    @classmethod
    def eval(cls, h, s):
        if s == 1:
            return h
        if h.is_Integer and s.is_Integer:
            return sp.Integer(-(-int(h) // int(s)))
        return None

    def _latex(self, printer, exp=None):
        h, s = self.args
        return _power(r"\left\lceil \frac{%s}{%s} \right\rceil" % (printer._print(h), printer._print(s)), exp)


class pad_bottom_right(sp.Function):  # noqa: N801
    nargs = 3

    @classmethod
    def eval(cls, h, k, s):
        if h.is_Integer and k.is_Integer and s.is_Integer:
            return sp.Integer((int(h) + 1 - int(k)) // int(s) + 1)
        return None

    def _latex(self, printer, exp=None):
        h, k, s = self.args
        return _power(r"\left\lfloor \frac{%s + 1 - %s}{%s} \right\rfloor + 1" % tuple(map(printer._print, (h, k, s))), exp)


class valid_window(sp.Function):  # noqa: N801
    nargs = 3

    @classmethod
    def eval(cls, h, k, s):
        if h.is_Integer and k.is_Integer and s.is_Integer:
            return sp.Integer(exact_rules.valid_window(int(h), int(k), int(s)))
        return None

    def _latex(self, printer):
        h, k, s = self.args
        return r"\left\lfloor \frac{%s - %s}{%s} \right\rfloor + 1" % tuple(map(printer._print, (h, k, s)))


class round_half_even(sp.Function):  # noqa: N801
    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return sp.Integer(exact_rules.round_half_even(float(x)))
        return None

    def _latex(self, printer):
        return r"\operatorname{round}\left(%s\right)" % printer._print(self.args[0])


class round_half_up(sp.Function):  # noqa: N801
    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return sp.Integer(exact_rules.round_half_up(float(x)))
        return None

    def _latex(self, printer, exp=None):
        return _power(r"\left\lfloor %s \right\rceil" % printer._print(self.args[0]), exp)


def exact_fraction(value: float) -> sp.Rational:
    """The exact binary value of a float (or a small ratio) as a sympy Rational."""
    frac = Fraction(value).limit_denominator(1000)
    if float(frac) != float(value):
        frac = Fraction(value)
    return sp.Rational(frac.numerator, frac.denominator)


from .float_rules import NUMPY_FUNCTIONS  # noqa: E402,F401  (the numeric twins)


def numpy_function(args, exprs, cse: bool = True):
    """A numpy function of `args` evaluating `exprs`, each rule above by its numeric twin."""
    return sp.lambdify(args, exprs, modules=[NUMPY_FUNCTIONS, "numpy"], cse=cse)


def python_function(args, exprs, cse: bool = True):
    """A plain-Python function of `args` evaluating `exprs` at one point, each rule above by its exact
    twin (exact_rules.py): whole numbers come out as Python integers."""
    return sp.lambdify(args, exprs, modules=[exact_rules.PYTHON_FUNCTIONS, "math"], cse=cse)
