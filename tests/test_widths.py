"""Width rules: every kind the decoders write has one rule, and the rules give hand-derived widths."""

import pytest

from mobilecost.api import costs_for
from mobilecost.count.rounding import ALPHA
from mobilecost.count.widths import WIDTH_RULES, resolved_kind
from mobilecost.spec.layers import Width, decode
from mobilecost.spec.loader import load_variant
from mobilecost.spec.files import list_variants
from mobilecost.spec.models import WidthSpec


@pytest.mark.parametrize("variant", list_variants())
def test_every_width_the_decoders_write_has_a_rule(variant):
    spec = load_variant(variant)
    for semantics in ("default", *spec.semantics):
        read = spec.with_semantics(semantics)
        assert {resolved_kind(layer.width, read.width) for layer in decode(read)} <= set(WIDTH_RULES)


def test_the_policy_decides_row_and_expansion_kinds():
    policy = WidthSpec(rounding="make_divisible", fixed=("stem",), above_one=("head",), input_ratio=("last",),
                       expansion="absolute")
    assert [resolved_kind(Width("row", 16, 3, row_name=name), policy) for name in ("stem", "head", "last", "")] == [
        "fixed", "above_one", "input_ratio", "scaled"]
    assert resolved_kind(Width("expansion", 72, 16), policy) == "scaled"
    assert resolved_kind(Width("expansion", 72, 16), policy.model_copy(update={"expansion": "input_ratio"})) == \
        "expansion_ratio"
    assert resolved_kind(Width("same"), policy) == "same"


def _out_ch(variant, name, alpha, semantics=None):
    costs = costs_for(variant, "exact", semantics)
    layer = next(lc for lc in costs.layers if lc.layer.name == name)
    return int(layer.exprs["out_ch"].subs(ALPHA, alpha))


def test_mobilenet_v3_small_widths_by_hand():
    # Keras Applications rules (make_divisible(v, 8): nearest multiple of 8, at least 8, at most 10 % down):
    # the stem stays 16 at any alpha; under torchvision's rules it scales: make_divisible(16 * 0.5) = 8.
    assert _out_ch("mobilenet_v3_small", "stem", 0.5) == 16
    assert _out_ch("mobilenet_v3_small", "stem", 0.5, "torchvision") == 8
    # The 1024-channel head scales only above alpha = 1: 1024 at 0.75, make_divisible(1280) = 1280 at 1.25.
    assert _out_ch("mobilenet_v3_small", "head", 0.75) == 1024
    assert _out_ch("mobilenet_v3_small", "head", 1.25) == 1280
    # The last 1x1 conv is 576/96 = 6x its input: at 0.75 its input is make_divisible(72) = 72 -> 432.
    assert _out_ch("mobilenet_v3_small", "last_conv", 0.75) == 432
    # First bneck's SE squeeze: 16 * 0.25 = 4 -> make_divisible(4, 8) = 8; its gate repeats the 16.
    assert _out_ch("mobilenet_v3_small", "b1.se.reduce", 1.0) == 8
    assert _out_ch("mobilenet_v3_small", "b1.se.expand", 1.0) == 16
