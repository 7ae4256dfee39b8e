"""Decoded layers: each layer's block and role, read off the papers' tables by hand."""

import pytest
from pydantic import ValidationError

from mobilecost.api import costs_for
from mobilecost.numeric.checked import compiled_for
from mobilecost.numeric.plan import build_plan
from mobilecost.count.rounding import ALPHA, RHO
from mobilecost.spec.layers import FIELDS, decode
from mobilecost.spec.loader import load_variant
from mobilecost.spec.models import V3Row, parse_v3_operator


def _blocks(variant):
    blocks: dict[str, list[str]] = {}
    for layer in decode(load_variant(variant)):
        blocks.setdefault(layer.block, []).append(str(layer.role))
    return blocks


def test_v1_separable_pairs_and_head():
    # MobileNets Table 1: conv s2, then (conv dw, conv 1x1) pairs, avg pool, fc, softmax.
    blocks = _blocks("mobilenet_v1")
    assert blocks["conv1"] == ["stem"]
    assert blocks["b1"] == ["dw", "pw"]
    assert blocks["b13"] == ["dw", "pw"]
    assert len([b for b in blocks if b.startswith("b")]) == 13
    assert list(blocks)[-3:] == ["pool", "classifier", "softmax"]
    assert [blocks[b] for b in list(blocks)[-3:]] == [["pool"], ["classifier"], ["softmax"]]


def test_v2_bottlenecks():
    # MobileNetV2 Table 2: the first bottleneck has t = 1 (no expansion layer); 32 -> 16 channels at
    # stride 1 gives a shortcut add that the widths then rule out; the second (t = 6, s = 2) has none.
    blocks = _blocks("mobilenet_v2")
    assert list(blocks)[0] == "conv1" and blocks["conv1"] == ["stem"]
    assert blocks["b1"] == ["dw", "project", "add"]
    assert blocks["b2"] == ["expand", "dw", "project"]
    assert blocks["b3"] == ["expand", "dw", "project", "add"]
    assert [blocks[b] for b in list(blocks)[-3:]] == [["conv"], ["pool"], ["classifier"]]


def test_v3_small_squeeze_excite_blocks():
    # MobileNetV3 Table 2: bneck 3x3 exp 16 -> 16 with SE, s 2 (exp = input width: no expansion);
    # bneck exp 72 -> 24, no SE, s 2; bneck exp 88 -> 24, s 1 (a shortcut).
    blocks = _blocks("mobilenet_v3_small")
    se = ["se.pool", "se.reduce", "se.expand", "se.scale"]
    assert blocks["stem"] == ["stem"]
    assert blocks["b1"] == ["dw", *se, "project"]
    assert blocks["b2"] == ["expand", "dw", "project"]
    assert blocks["b3"] == ["expand", "dw", "project", "add"]
    assert [blocks[b] for b in ("last_conv", "pool", "head", "classifier")] == [["conv"], ["pool"], ["conv"],
                                                                               ["classifier"]]


def test_sliced_schedule_fuses_blocks_with_expansion_and_no_squeeze_excite():
    # V2: 17 bottlenecks (n = 1+2+3+4+3+3+1), all but the t = 1 first one expand.
    # V3-Large Table 1: the bnecks without SE that expand are exp 64, 72, 240, 200, 184, 184.
    for variant, fused in (("mobilenet_v2", 16), ("mobilenet_v3_large", 6)):
        plan = build_plan(compiled_for(costs_for(variant).spec), "v2-sliced")
        assert sum(step.slices is not None for step in plan.steps) == fused


def test_shortcut_presence_is_a_field_of_the_cost_not_a_hidden_expression():
    # MobileNetV2 Table 2: the first bottleneck maps 32 -> 16 channels at stride 1. At alpha = 1 the
    # widths differ (no shortcut); at alpha = 0.1 both round up to the divisor: make_divisible(3.2, 8)
    # = make_divisible(floor(1.6), 8) = 8, and the shortcut exists. The third maps 24 -> 24: always.
    costs = {lc.layer.name: lc for lc in costs_for("mobilenet_v2").layers}
    first = costs["b1.add"]
    assert first.present.subs(ALPHA, 1) == 0 and first.present.subs(ALPHA, 0.1) == 1
    assert first.exprs["ew_ops"].subs({ALPHA: 1, RHO: 1}) == 0
    assert first.exprs["ew_ops"].subs({ALPHA: 0.1, RHO: 1}) == 112 * 112 * 8
    assert costs["b3.add"].present == 1
    assert costs["b3.project"].present == 1
    assert all(set(lc.exprs) == set(FIELDS) for lc in costs.values())


def test_v3_operator_column_is_parsed_at_validation():
    # MobileNetV3 Table 2's operator strings.
    rows = load_variant("mobilenet_v3_small").layers
    assert rows[0].parsed == ("conv2d", 3, False, 3)  # conv2d, 3x3
    assert rows[4].parsed == ("bneck", 5, False, 5)  # bneck, 5x5
    assert rows[13].parsed == ("pool", 7, False, 7)  # pool, 7x7
    assert rows[14].parsed == ("conv2d", 1, True, 1)  # conv2d 1x1, NBN
    assert parse_v3_operator("bneck, 5x3") == ("bneck", 5, False, 3)  # 5 high, 3 wide
    assert parse_v3_operator("conv2d") == ("conv2d", None, False, None)
    assert parse_v3_operator("maxpool, 3x3") is None
    with pytest.raises(ValidationError, match="expected one of 'conv2d'"):
        V3Row(input="7^2x96", operator="bneck 5x5")
