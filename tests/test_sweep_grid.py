"""The grid path of `sweep` (alpha factors x rho factors as a matrix product) is exact.

Expected figures: every row of tests/reference/keras_applications.csv (Keras Applications 3.15.1) and
tests/reference/torchvision.csv (torchvision 0.29.1); the peak activation memory of MobileNetV1 1.0-224
derived by hand in test_check.py (112*112*(32+64) elements).
"""

from collections import defaultdict

import numpy as np
import pytest

from mobilecost import sweep
from mobilecost.api import compiled_for, costs_for
from mobilecost.numeric.liveness import peak_live
from mobilecost.numeric.plan import build_plan
from mobilecost.numeric.values import values_at, values_on_grid
from mobilecost.spec.layers import COST_FIELDS


def _by_variant(rows):
    groups = defaultdict(list)
    for row in rows:
        groups[row["variant"]].append(row)
    return groups


@pytest.mark.parametrize("variant", ["mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small"])
def test_sweep_reproduces_every_keras_row(keras_rows, variant):
    rows = _by_variant(keras_rows)[variant]
    semantics = "keras" if variant == "mobilenet_v1" else None  # Keras V1 pads stride-2 depthwise bottom/right
    alphas = sorted({float(r["alpha"]) for r in rows})
    resolutions = sorted({int(r["resolution"]) for r in rows})
    frame = sweep(variant, alphas, resolutions, semantics=semantics, convention="keras").set_index(["alpha", "resolution"])
    for r in rows:
        got = frame.loc[(float(r["alpha"]), int(r["resolution"]))]
        where = (variant, r["alpha"], r["resolution"])
        assert got["macs"] == int(r["macs"]), where
        assert got["params"] == int(r["total_params"]), where
        assert got["weights"] + got["biases"] + got["bn_affine"] == int(r["trainable_params"]), where
    assert len(rows) >= 68


def test_sweep_reproduces_every_torchvision_row(torchvision_rows):
    for variant, rows in _by_variant(torchvision_rows).items():
        semantics = "torchvision" if variant.startswith("mobilenet_v3") else None
        alphas = sorted({float(r["alpha"]) for r in rows})
        resolutions = sorted({int(r["resolution"]) for r in rows})
        frame = sweep(variant, alphas, resolutions, semantics=semantics, convention="torchvision")
        frame = frame.set_index(["alpha", "resolution"])
        for r in rows:
            got = frame.loc[(float(r["alpha"]), int(r["resolution"]))]
            assert (got["macs"], got["params"]) == (int(r["macs"]), int(r["params"])), r


@pytest.mark.parametrize("mode", ["exact", "ideal"])
@pytest.mark.parametrize("variant", ["mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small"])
def test_grid_equals_point_by_point_evaluation(variant, mode):
    # Awkward points: alphas between rounding steps, odd resolutions.
    alphas = np.array([0.2, 0.33, 0.35, 0.5001, 0.77, 1.0, 1.13, 1.4])
    rhos = np.array([33, 97, 113, 127, 160, 199, 225, 321]) / 224
    costs = costs_for(variant, mode)
    compiled = compiled_for(costs.spec, mode)
    grid = values_on_grid(compiled, alphas, rhos)
    assert grid.grid is not None and not isinstance(grid["macs"], np.ndarray)  # the factor form, not a fallback
    a, r = np.meshgrid(alphas, rhos, indexing="ij")
    points = values_at(compiled, a.ravel(), r.ravel()).totals(COST_FIELDS)
    for field, values in grid.totals(COST_FIELDS).items():
        assert values.shape == (alphas.size, rhos.size)
        if mode == "exact":
            assert np.array_equal(values.ravel(), points[field]), field
        else:
            np.testing.assert_allclose(values.ravel(), points[field], rtol=1e-12)


def test_grid_peak_memory_equals_the_memory_model_and_a_hand_count():
    alphas = np.array([0.25, 0.5, 0.75, 1.0])
    resolutions = np.array([97, 128, 224])
    frame = sweep("mobilenet_v3_large", alphas, resolutions, dtype="int8")
    compiled = compiled_for(costs_for("mobilenet_v3_large").spec)
    a, r = np.meshgrid(alphas, resolutions / 224, indexing="ij")
    expected, _ = peak_live(build_plan(compiled), values_at(compiled, a.ravel(), r.ravel()))
    assert np.array_equal(frame["act_peak_bytes"].to_numpy(), expected.astype(np.int64))
    v1 = sweep("mobilenet_v1", [1.0], [224], dtype="fp32")
    assert v1["act_peak_bytes"].iloc[0] == 112 * 112 * (32 + 64) * 4
