"""The papers' algebra (ideal mode) against closed forms derived by hand from the papers' tables."""

import sympy as sp

from mobilecost import total_expression
from mobilecost.api import costs_for
from mobilecost.count.rounding import ALPHA, RHO


def test_v1_ideal_macs_closed_form_by_hand():
    # MobileNets Table 1 at alpha = rho = 1, side D and channels in -> out for every layer:
    # standard 3x3 conv: 3*3*3*32 at 112^2; depthwise 3x3 layers: 9*C*D^2 with D the *output* side;
    # pointwise: Cin*Cout*D^2; FC 1024x1000.
    dw = [(32, 112), (64, 56), (128, 56), (128, 28), (256, 28), (256, 14)] + [(512, 14)] * 5 + [(512, 7), (1024, 7)]
    pw = [(32, 64, 112), (64, 128, 56), (128, 128, 56), (128, 256, 28), (256, 256, 28), (256, 512, 14)] \
        + [(512, 512, 14)] * 5 + [(512, 1024, 7), (1024, 1024, 7)]
    a = sum(cin * cout * d * d for cin, cout, d in pw)  # alpha^2 rho^2
    b = 3 * 3 * 3 * 32 * 112 * 112 + sum(9 * c * d * d for c, d in dw)  # alpha rho^2
    c = 1024 * 1000  # alpha: the classifier does not depend on the input side
    expected = a * ALPHA**2 * RHO**2 + b * ALPHA * RHO**2 + c * ALPHA
    got = total_expression(costs_for("mobilenet_v1", "ideal"), "macs")
    assert sp.expand(got - expected) == 0
    assert (a, b, c) == (539_492_352, 28_224_000, 1_024_000)


def test_v1_ideal_params_are_quadratic_in_alpha_and_free_of_rho():
    expr = total_expression(costs_for("mobilenet_v1", "ideal"), "params", convention="paper")
    poly = sp.Poly(sp.expand(expr), ALPHA, RHO)
    assert poly.degree(RHO) == 0 and poly.degree(ALPHA) == 2
    # At alpha = 1 the ideal and exact counts coincide: 4,210,088 (4.2 M in the paper).
    assert expr.subs(ALPHA, 1) == 4_210_088


def test_exact_equals_ideal_where_no_rounding_happens():
    ideal = costs_for("mobilenet_v2", "ideal")
    for metric in ("macs", "weights"):
        assert total_expression(ideal, metric).subs({ALPHA: 1, RHO: 1}) == \
            costs_for("mobilenet_v2").total(metric).subs({ALPHA: 1, RHO: 1}).doit()


def test_exact_formulas_print_as_latex():
    """A squared output side, ceil_div(...)**2, prints as a power in LaTeX (it used to raise a TypeError)."""
    from mobilecost.analysis.formulas import total_formula

    tex = total_formula("mobilenet_v1", "macs", "exact", latex=True)
    assert tex.startswith(r"\mathrm{macs}(\alpha, \rho) = ")
    assert r"\right\rceil\right)^{2}" in tex and r"\left\lfloor 224 \rho \right\rceil" in tex
