"""Exact counts against frozen outputs of the reference implementations.

Expected figures come from tests/reference/ (Keras Applications 3.15.1 and torchvision 0.29.1,
built with weights=None and counted layer by layer; see tests/reference/README.md) and from
published text (TF-slim's mobilenet_v1.py docstring).
"""

from collections import defaultdict

import numpy as np
import pytest

from mobilecost import evaluate
from mobilecost.api import costs_for
from mobilecost.numeric.checked import compiled_for
from mobilecost.numeric.values import values_at
from mobilecost.spec.layers import COST_FIELDS

WEIGHT_OPS = {"conv", "pointwise", "depthwise", "fc"}


def _grouped(rows, key):
    groups = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return groups


def _keras_semantics(variant: str, resolution: int):
    """Keras's V1 pads stride-2 depthwise layers bottom/right only; everywhere else it is SAME."""
    return "keras" if variant == "mobilenet_v1" else None


@pytest.mark.parametrize("semantics_rule", ["keras-alternative-for-v1", "default-where-maps-stay-even"])
def test_every_keras_configuration_exactly(keras_rows, semantics_rule):
    checked = 0
    for variant, rows in _grouped(keras_rows, lambda r: r["variant"]).items():
        if semantics_rule == "keras-alternative-for-v1":
            semantics = _keras_semantics(variant, 0)
        else:
            semantics = None
            # TF-slim/SAME and Keras's V1 padding agree while every map entering a stride-2 layer is even.
            rows = [r for r in rows if variant != "mobilenet_v1" or int(r["resolution"]) % 32 == 0]
        costs = costs_for(variant, "exact", semantics)
        alpha = np.array([float(r["alpha"]) for r in rows])
        rho = np.array([int(r["resolution"]) / 224 for r in rows])
        t = values_at(compiled_for(costs.spec, "exact", semantics), alpha, rho).totals(COST_FIELDS)
        trainable = t["weights"] + t["biases"] + t["bn_affine"]
        total = trainable + t["bn_stats"]
        for i, r in enumerate(rows):
            where = (variant, r["alpha"], r["resolution"])
            assert total[i] == int(r["total_params"]), where
            assert trainable[i] == int(r["trainable_params"]), where
            assert t["macs"][i] == int(r["macs"]), where
            checked += 1
    assert checked >= 200


def test_keras_v1_padding_differs_from_same_on_odd_maps(keras_rows):
    # Keras at 0.25 / 97: stride-2 depthwise layers give floor(H/2); SAME gives ceil(H/2) -> more MACs.
    row = next(r for r in keras_rows if r["variant"] == "mobilenet_v1" and r["alpha"] == "0.25" and r["resolution"] == "97")
    same = evaluate("mobilenet_v1", alpha=0.25, resolution=97).attrs["totals"]["macs"]
    keras = evaluate("mobilenet_v1", alpha=0.25, resolution=97, semantics="keras").attrs["totals"]["macs"]
    assert keras == int(row["macs"])
    assert same > keras


def test_torchvision_configurations_exactly(torchvision_rows):
    for r in torchvision_rows:
        semantics = "torchvision" if r["variant"].startswith("mobilenet_v3") else None
        t = evaluate(r["variant"], alpha=float(r["alpha"]), resolution=int(r["resolution"]),
                     semantics=semantics, convention="torchvision").attrs["totals"]
        assert t["params"] == int(r["params"]), r
        assert t["macs"] == int(r["macs"]), r


def test_v3_keras_and_torchvision_differ_at_075(torchvision_rows, keras_rows):
    keras = next(r for r in keras_rows if r["variant"] == "mobilenet_v3_large" and r["alpha"] == "0.75" and r["resolution"] == "224")
    tv = next(r for r in torchvision_rows if r["variant"] == "mobilenet_v3_large" and r["alpha"] == "0.75" and r["resolution"] == "224")
    default = evaluate("mobilenet_v3_large", alpha=0.75, convention="torchvision").attrs["totals"]
    alt = evaluate("mobilenet_v3_large", alpha=0.75, semantics="torchvision", convention="torchvision").attrs["totals"]
    assert default["params"] == int(keras["trainable_params"]) == 3_993_528
    assert alt["params"] == int(tv["params"]) == 3_377_576


def test_per_layer_shapes_and_macs_match_keras(keras_layers):
    for model in keras_layers:
        semantics = "keras" if model["variant"] == "mobilenet_v1" else None
        frame = evaluate(model["variant"], alpha=model["alpha"], resolution=model["resolution"], semantics=semantics)
        ours = [(int(r.macs), int(r.out_side), int(r.out_ch))
                for r in frame.itertuples() if r.op in WEIGHT_OPS]
        theirs = []
        for layer in model["layers"]:
            if layer["class"] in ("Conv2D", "DepthwiseConv2D", "Dense"):
                shape = layer["output_shape"]
                side = shape[1] if len(shape) == 4 else 1
                theirs.append((layer["macs"], side, shape[-1]))
        assert ours == theirs, model["variant"]


def test_tf_slim_docstring_body_figures():
    # tensorflow/models research/slim/nets/mobilenet_v1.py module docstring: the body without the
    # classifier, BN folded: 1.0/224 -> 3,185,088 params, 567,716,352 MACs; 0.75/128 -> 1,800,144, 106,002,432.
    for alpha, res, params, macs in [(1.0, 224, 3_185_088, 567_716_352), (0.75, 128, 1_800_144, 106_002_432)]:
        frame = evaluate("mobilenet_v1", alpha=alpha, resolution=res)
        body = frame[~frame["name"].isin(["classifier", "softmax", "pool"])]
        assert int(body["weights"].sum()) == params
        assert int(body["macs"].sum()) == macs


@pytest.mark.parametrize("variant,macs,params", [
    # Keras Applications published totals (model.summary of weights=None models; keras-io docs).
    ("mobilenet_v1", 568_740_352, 4_253_864),
    ("mobilenet_v2", 300_774_272, 3_538_984),
    ("mobilenet_v3_large", 216_589_760, 5_507_432),
    ("mobilenet_v3_small", 56_510_400, 2_554_968),
])
def test_headline_figures_keras_convention(variant, macs, params):
    t = evaluate(variant, convention="keras").attrs["totals"]
    assert (t["macs"], t["params"]) == (macs, params)


def test_paper_headline_figures_to_printed_precision():
    # MobileNets Table 1/6: 569 M mult-adds, 4.2 M parameters (BN folded, classifier bias counted).
    v1 = evaluate("mobilenet_v1").attrs["totals"]
    assert v1["params"] == 4_210_088 and round(v1["params"] / 1e6, 1) == 4.2
    assert round(v1["macs"] / 1e6) == 569
    # MobileNetV2: the paper prints 300 M (300.77 M truncated), torchvision's metadata 301 M (rounded);
    # TF-slim README: 3.47 M parameters.
    v2 = evaluate("mobilenet_v2").attrs["totals"]
    assert int(v2["macs"] / 1e6) == 300 and round(v2["macs"] / 1e6) == 301
    assert round(v2["params"] / 1e6, 2) == 3.47
    # MobileNetV3-Large: TF-slim README and Keras docs 217 M.
    assert round(evaluate("mobilenet_v3_large").attrs["totals"]["macs"] / 1e6) == 217
    # MobileNetV3-Small: later arXiv revision 56 M / 2.5 M (truncated), torchvision metadata 57 M (rounded).
    small = evaluate("mobilenet_v3_small").attrs["totals"]
    assert int(small["macs"] / 1e6) == 56 and round(small["macs"] / 1e6) == 57
    assert round(small["params"] / 1e6, 1) == 2.5
