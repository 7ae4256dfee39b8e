"""Counts beyond float64's exact range are exact at one configuration and refused over a grid.

float64 stops counting whole numbers exactly at 2**53 (9,007,199,254,740,992). One configuration is
evaluated with the reference code's own integer arithmetic (Python integers, no bound); a sweep's
grid is evaluated in float64 and refuses a count it cannot hold exactly, instead of printing it
rounded or wrapped. Expected figures are derived here by hand from MobileNetV2 Table 2.
"""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from mobilecost.cli import app
from mobilecost.errors import MobilecostError
from mobilecost.numeric.checked import compiled_for
from mobilecost.numeric.values import values_at
from mobilecost.spec.layers import FIELDS
from mobilecost.spec.loader import load_variant

runner = CliRunner()

# MobileNetV2 (arXiv:1801.04381) Table 2: t, c, n, s of the bottleneck rows, after a 3x3 stride-2 conv to 32.
V2_ROWS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


def v2_macs_when_every_width_is_exact(alpha: int) -> int:
    """MACs at 224x224 for a whole alpha > 1 with 8 | 16 * alpha: every make_divisible(c * alpha, 8) is then
    c * alpha itself, the expanded width t * (input width), and the 1280-wide last conv scales too (alpha > 1)."""
    side, channels = 112, 32 * alpha
    macs = side * side * 3 * 3 * 3 * channels  # conv2d 3x3, stride 2, 3 -> 32 alpha
    for t, c, n, s in V2_ROWS:
        for repeat in range(n):
            stride = s if repeat == 0 else 1
            expanded = t * channels
            if t != 1:
                macs += side * side * channels * expanded  # 1x1 expansion
            side = -(-side // stride)
            macs += side * side * 3 * 3 * expanded  # 3x3 depthwise
            macs += side * side * expanded * c * alpha  # 1x1 linear projection
            channels = c * alpha
    macs += side * side * channels * 1280 * alpha  # conv2d 1x1 to 1280 alpha (7x7)
    return macs + 1280 * alpha * 1000  # avgpool, then the 1000-class classifier


def test_hand_derivation_agrees_with_keras_where_both_apply():
    # At alpha = 1 the 1280 head is not scaled either way: Keras Applications counts 300,774,272 MACs.
    assert v2_macs_when_every_width_is_exact(1) == 300_774_272


def test_one_configuration_is_exact_far_beyond_2_to_the_53():
    expected = v2_macs_when_every_width_is_exact(1_000_000)
    assert expected == 267_939_872_834_432_000_000 and expected > 2**53
    compiled = compiled_for(load_variant("mobilenet_v2"))
    values = compiled.point_function(1_000_000.0, 1.0)
    assert sum(values[FIELDS.index("macs")::len(FIELDS)]) == expected
    result = runner.invoke(app, ["report", "mobilenet_v2", "--alpha", "1000000", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["macs"] == expected


def test_point_evaluator_equals_the_vectorised_one_at_awkward_configurations():
    for variant in ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small", "mnasnet_a1"):
        for mode in ("exact", "ideal"):
            compiled = compiled_for(load_variant(variant), mode)
            point = compiled.point_function
            for alpha in (0.2, 0.35, 0.5, 0.5001, 0.77, 1.0, 1.3):
                for resolution in (33, 97, 161, 224, 321):
                    arrays = values_at(compiled, alpha, resolution / 224)
                    got = np.array(point(alpha, resolution / 224), dtype=float).reshape(len(compiled.layers), len(FIELDS))
                    for j, field in enumerate(FIELDS):
                        np.testing.assert_array_equal(got[:, j], np.asarray(arrays[field])[:, 0], err_msg=f"{variant} {field}")


def test_a_grid_refuses_counts_it_cannot_hold_exactly():
    with pytest.raises(MobilecostError, match="2\\*\\*53"):
        from mobilecost import sweep

        sweep("mobilenet_v2", [1_000_000.0], [224])
    result = runner.invoke(app, ["check", "mobilenet_v2", "--alpha", "200000", "--max-macs", "1M"])
    assert result.exit_code != 0 and "within" not in result.output


@pytest.mark.parametrize("args, field", [
    (["--alpha", "1e308"], "--alpha"),
    (["--alpha", "1e308", "--mode", "ideal"], "--alpha"),
    (["--rho", "1e300"], "--rho"),
    (["--resolution", "1000000000"], "--resolution"),
])
def test_configurations_beyond_the_stated_bounds_are_one_line(args, field):
    result = runner.invoke(app, ["report", "mobilenet_v1", *args])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"mobilecost: error: {field}: ") and "Traceback" not in result.output


def test_the_largest_alpha_accepted_is_still_exact():
    # alpha = 10**9: every make_divisible(c * alpha, 8) is c * alpha (10**9 is a multiple of 8).
    result = runner.invoke(app, ["report", "mobilenet_v2", "--alpha", "1000000000", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["macs"] == v2_macs_when_every_width_is_exact(10**9)


def test_grid_boundary_at_2_to_the_53_on_both_sides():
    """Just below 2**53 a sweep's count equals sympy's exact evaluation of the same expressions; just above,
    the sweep refuses. (MobileNetV2's MACs grow about as 2.7e8 * alpha**2 at 224: 2**53 near alpha 5,800.)"""
    import sympy as sp

    from mobilecost import sweep
    from mobilecost.count.rounding import ALPHA, RHO
    from mobilecost.numeric.checked import costs_for

    exact = costs_for("mobilenet_v2").total("macs").subs({ALPHA: sp.Integer(5000), RHO: sp.Integer(1)})
    assert exact.is_Integer and int(exact) < 2**53
    assert int(sweep("mobilenet_v2", [5000.0], [224])["macs"].iloc[0]) == int(exact)
    above = costs_for("mobilenet_v2").total("macs").subs({ALPHA: sp.Integer(6000), RHO: sp.Integer(1)})
    assert above.is_Integer and int(above) >= 2**53
    with pytest.raises(MobilecostError, match="2\\*\\*53"):
        sweep("mobilenet_v2", [6000.0], [224])
