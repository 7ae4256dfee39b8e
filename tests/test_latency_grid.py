"""The latency model on a grid gives the point-by-point numbers.

The model is one function of the numeric stage's per-layer values (checked against hand-derived figures
in test_latency.py). On a grid those values are alpha factors x rho factors, and the model's maxima and
bandwidth choices keep that form wherever the grid's bounds decide them, so most layers are summed as
one matrix product. The grid and the point-by-point evaluation must agree to float rounding over grids
wide enough that layers switch between cache and DRAM bandwidth, between compute and memory bound, and
(exact mode) shortcuts appear and vanish with alpha inside the grid.
"""

import shutil
from pathlib import Path

import numpy as np
import pytest

import mobilecost.numeric.factors
from mobilecost.latency.devices import load_device
from mobilecost.api import compiled_for, costs_for, sweep
from mobilecost.latency.model import PARAMS, layer_terms, layer_times, theta_of, total_latency
from mobilecost.numeric.columns import GridColumn
from mobilecost.numeric.values import values_at, values_on_grid

VARIANTS = ["mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small"]
CPU, GPU = "pixel4_a76_tflite_fp32_1t", "jetson_nano_gpu_ncnn_fp16"
BLOCKS = "generic_cpu_onnxruntime"  # depthwise layers off its 4-channel blocks at some alphas of the grid only; 1x1 convolutions padded
TABLES = Path(__file__).resolve().parent.parent / "tables"
ALPHAS = np.round(np.linspace(0.1, 2.0, 25), 6)
RESOLUTIONS = np.arange(32, 481, 32)  # 32 is the networks' total stride


def point_by_point(profile, costs, alphas, rhos, theta=None):
    a, r = np.meshgrid(alphas, rhos, indexing="ij")
    values = values_at(compiled_for(costs.spec, costs.mode), a.ravel(), r.ravel())
    return total_latency(profile, values, theta).reshape(a.shape)


def grid_latency(profile, costs, alphas, rhos, theta=None):
    values = values_on_grid(compiled_for(costs.spec, costs.mode), alphas, rhos)
    return total_latency(profile, values, theta)


def max_relative(got, want):
    return float(np.max(np.abs(got - want) / np.abs(want)))


@pytest.mark.parametrize("device", [CPU, GPU, BLOCKS])
@pytest.mark.parametrize("mode", ["exact", "ideal"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_grid_matches_point_by_point(variant, mode, device):
    profile, costs = load_device(device), costs_for(variant, mode)
    rhos = RESOLUTIONS / 224
    got = grid_latency(profile, costs, ALPHAS, rhos)
    want = point_by_point(profile, costs, ALPHAS, rhos)
    assert got.shape == (ALPHAS.size, RESOLUTIONS.size)
    assert max_relative(got, want) < 1e-9


def test_the_grid_spans_every_branch_of_the_model():
    """What the comparisons above cover: layers whose bandwidth, bound or presence changes inside the grid."""
    profile, costs = load_device(CPU), costs_for("mobilenet_v2")
    a, r = np.meshgrid(ALPHAS, RESOLUTIONS / 224, indexing="ij")
    fields = values_at(compiled_for(costs.spec), a.ravel(), r.ravel())
    ops = [lc.layer.op for lc in costs.layers]
    terms = layer_terms(profile, fields)
    times = layer_times(terms, theta_of(profile))
    mac = np.array([op in ("conv", "pointwise", "depthwise", "fc") for op in ops])
    # A convolution moves its input, output, weights and biases; fp32 on this profile.
    nbytes = (fields["act_in"] + fields["act_out"] + fields["weights"] + fields["biases"]) * 4
    cache = nbytes <= profile.memory.cache_bytes
    switches = lambda flags: int((flags.any(axis=1) & (~flags).any(axis=1)).sum())  # noqa: E731
    assert switches(cache[mac]) > 0  # cache at small sizes, DRAM at large ones
    compute_bound = times["compute_ms"] >= times["memory_ms"]
    assert switches(compute_bound[mac]) > 0
    assert switches(fields["act_out"] > 0) > 0  # a residual add absent where rounded widths differ


def test_custom_parameters_and_point_by_point_fallback(monkeypatch):
    profile, costs = load_device(CPU), costs_for("mobilenet_v3_large")
    rhos = RESOLUTIONS / 224
    # Slow depthwise and memory, fast pointwise: moves layers across the compute/memory boundary.
    scale = np.ones(len(PARAMS))
    scale[:9] = [1.0, 0.3, 4.0, 1.0, 3.0, 2.0, 0.5, 1.0, 2.0]
    theta = theta_of(profile) * scale + np.eye(len(PARAMS))[PARAMS.index("fixed_ms")] * 0.3
    want = point_by_point(profile, costs, ALPHAS, rhos, theta)
    values = values_on_grid(compiled_for(costs.spec), ALPHAS, rhos)
    assert isinstance(values["macs"], GridColumn)
    assert max_relative(total_latency(profile, values, theta), want) < 1e-9
    # When the counts do not separate, the grid is evaluated point by point and agrees all the same.
    monkeypatch.setattr(mobilecost.numeric.factors, "factor_functions", lambda *args: None)
    values = values_on_grid(compiled_for(costs.spec), ALPHAS, rhos)
    assert values["macs"].term.size == 0 and len(values["macs"].dense) == len(costs.layers)  # every layer evaluated
    assert max_relative(total_latency(profile, values, theta), want) < 1e-9


def test_sweep_with_a_users_table_and_profile(tmp_path):
    table = tmp_path / "mine.yaml"
    shutil.copy(TABLES / "mobilenet_v3_small.yaml", table)
    device = tmp_path / "dev.yaml"
    shutil.copy(TABLES / "devices" / "generic_gpu.yaml", device)
    resolutions = [96, 128, 160, 192, 224, 320]
    frame = sweep(str(table), ALPHAS, resolutions, device=str(device))
    assert list(frame["alpha"]) == list(np.repeat(ALPHAS, len(resolutions)))  # alpha-major, as without a device
    assert list(frame["resolution"]) == resolutions * ALPHAS.size
    compiled = compiled_for(costs_for(str(table)).spec)
    want = total_latency(load_device(str(device)), values_at(compiled, frame["alpha"].to_numpy(), frame["rho"].to_numpy()))
    assert max_relative(frame["latency_ms"].to_numpy(), want) < 1e-9
    plain = sweep(str(table), ALPHAS, resolutions)
    assert frame.drop(columns=["latency_ms", "latency_ms_low", "latency_ms_high"]).equals(plain)


def test_sweep_command_renders_a_large_grid_in_blocks_as_one_piece():
    from typer.testing import CliRunner

    from mobilecost.cli import app
    from mobilecost.api import parse_grid
    from mobilecost.outputs.report import render_sweep

    # 116 alphas x 225 resolutions = 26,100 configurations with a device: over the 20,000 at which the
    # command renders in blocks behind a progress bar. stdout must be the library's CSV, byte for byte.
    args = ["--alpha", "0.25:1.4:0.01", "--resolution", "96:320:1", "--device", CPU]
    result = CliRunner().invoke(app, ["sweep", "mobilenet_v3_small", *args])
    assert result.exit_code == 0, result.stderr
    alphas, resolutions = parse_grid("0.25:1.4:0.01", "--alpha"), parse_grid("96:320:1", "--resolution", integer=True)
    assert alphas.size * resolutions.size == 26_100
    frame = sweep("mobilenet_v3_small", alphas, resolutions, device=CPU)
    assert result.stdout == render_sweep(frame, "csv")
    assert result.stdout.count("variant,alpha") == 1  # one header
    assert result.stderr.startswith("latency_ms: simulated latency on pixel4")


def test_grid_maximum_and_threshold_equal_the_dense_arithmetic():
    """`maximum` decides layers from bounds along each alpha and each rho, and from the branches of a
    thresholded column, without evaluating them; the result must be the point-by-point maximum. Layer 0:
    x - y = s^2 (c - 1) > 0 everywhere though x's and y's grid ranges overlap; layer 1: y > x everywhere;
    layer 2: the sign of x - y changes inside the grid; layer 3: y straddles the threshold."""
    from mobilecost.numeric.columns import GridFactors, divide_by_threshold, maximum, total

    alphas, rhos = np.linspace(0.5, 2.0, 7), np.linspace(0.4, 1.6, 9)
    c, s2 = alphas * 3.0, rhos**2
    factors = GridFactors(np.vstack([c, c + 0.5, np.ones_like(c)]), np.vstack([s2, s2, s2]))
    # terms (counted from 1; 0 is the constant): 1 = c s^2, 2 = (c + 0.5) s^2, 3 = s^2
    x = GridColumn(factors, 4, [0, 1, 2, 3], [1, 1, 1, 1], [1.0, 1.0, 1.0, 40.0])
    y = GridColumn(factors, 4, [0, 1, 1, 2, 3], [3, 2, 3, 0, 2], [1.0, 1.0, 0.5, 3.0, 1.0])
    dense = lambda col: np.stack([sum(cf * np.outer(factors.a[t], factors.r[t])
                                      for o, t, cf in zip(col.owner, col.term, col.coef) if o == i)
                                  for i in range(col.layers)])
    xs, ys = dense(x), dense(y)
    assert (xs[0] > ys[0]).all() and (ys[1] > xs[1]).all() and ((xs[2] > ys[2]).any() and (xs[2] < ys[2]).any())
    lo_x, hi_x = x.bounds()
    lo_y, hi_y = y.bounds()
    assert lo_x[0] < hi_y[0] and lo_y[1] < hi_x[1]  # the whole-grid bounds alone do not decide layers 0 and 1
    direct = maximum(x, y)
    assert not direct.dense.keys() - {2}  # only the layer whose sign changes is evaluated point by point
    assert np.allclose(np.stack([direct.layers_values([i])[i] for i in range(4)]), np.maximum(xs, ys), rtol=1e-12, atol=0)
    threshold = float(np.median(ys[3]))
    y_bw = divide_by_threshold(y, threshold, 2.0, 5.0)
    y_bw_dense = ys / np.where(ys <= threshold, 2.0, 5.0)
    want = np.maximum(xs, y_bw_dense)
    assert all(part.pieces is not None for pairs in y_bw.dense.values() for _, part in pairs)
    got = maximum(x, y_bw)
    assert 3 not in got.dense  # x is above both branches of y: decided without evaluating y
    assert np.allclose(np.stack([got.layers_values([i])[i] for i in range(4)]), want, rtol=1e-12, atol=0)
    assert np.allclose(total(got), want.sum(axis=0), rtol=1e-12, atol=0)


def test_the_grid_has_depthwise_layers_on_and_off_the_channel_blocks():
    """What the comparison on BLOCKS covers: depthwise layers whose channels are whole blocks of 4 at some alphas
    of the grid and not at others (evaluated point by point on the grid); and, on a grid of alphas where a layer
    is off the blocks everywhere, that layer kept as terms, with the same latency as point by point."""
    costs, profile = costs_for("mobilenet_v1"), load_device(BLOCKS)
    fields = values_at(compiled_for(costs.spec), ALPHAS, np.ones_like(ALPHAS))
    depthwise = np.array([lc.layer.op == "depthwise" for lc in costs.layers])
    off = fields["out_ch"][depthwise] % 4 != 0  # depthwise layers x alphas
    assert (off.any(axis=1) & ~off.all(axis=1)).sum() > 0
    terms = layer_terms(profile, values_on_grid(compiled_for(costs.spec), ALPHAS, RESOLUTIONS / 224))
    assert len(terms.unblocked_ms.dense) > 0
    alphas = np.array([0.35, 0.36])  # depthwise on 11, 22, 44, 89, 179, 358 and 11, 23, 46, 92, 184, 368 channels
    terms = layer_terms(profile, values_on_grid(compiled_for(costs.spec), alphas, RESOLUTIONS / 224))
    assert terms.unblocked_ms.term.size > 0 and len(terms.unblocked_ms.dense) > 0
    got = grid_latency(profile, costs, alphas, RESOLUTIONS / 224)
    assert max_relative(got, point_by_point(profile, costs, alphas, RESOLUTIONS / 224)) < 1e-9
