"""Peak live activation memory against live sets derived by hand."""

import numpy as np
import pytest
from typer.testing import CliRunner

from mobilecost.cli import app
from mobilecost.errors import MobilecostError
from mobilecost.api import compiled_for, live_activations, sweep
from mobilecost.spec.loader import load_variant
from mobilecost.numeric.liveness import peak_live
from mobilecost.numeric.plan import build_plan
from mobilecost.numeric.values import values_at

runner = CliRunner()

# A tiny inverted-residual network of our own, on an 8x8 map (every tensor is 64 elements per channel):
#   input 8x8x3 = 192, conv1 8 ch = 512, expand 16 ch = 1024, dw 1024, project 8 ch = 512, add 512.
TINY = """
name: tiny
title: Tiny
source: "a test table"
format: v2
input: {size: 8, channels: 3}
classes: 10
width: {rounding: make_divisible, divisor: 8, expansion: input_ratio}
layers:
  - {input: 8^2x3,   operator: conv2d,      t: -, c: 8, n: 1, s: 1, name: conv1}
  - {input: 8^2x8,   operator: bottleneck,  t: 2, c: 8, n: 2, s: 1}
  - {input: 8^2x8,   operator: avgpool 7x7, t: -, c: -, n: 1, s: -, name: pool}
  - {input: 1x1x8,   operator: conv2d 1x1,  t: -, c: k, n: -, s: -, name: classifier}
"""


@pytest.fixture()
def tiny(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return load_variant(str(path))


def _live(variant, alpha=1.0, rho=1.0, **schedule):
    ls = live_activations(variant, alpha, rho, **schedule)
    return {s.name: (sorted(t for t, _ in m), v) for s, m, v in zip(ls.plan.steps, ls.members, ls.step_live)}, ls


def test_tiny_sequential_live_sets_hold_the_shortcut(tiny):
    live, ls = _live(tiny)
    # Hand-derived: the block input (conv1) stays live until b1.add reads it.
    assert live["conv1"] == (["conv1", "input"], 192 + 512)
    assert live["b1.expand"] == (["b1.expand", "conv1"], 512 + 1024)
    assert live["b1.dw"] == (["b1.dw", "b1.expand", "conv1"], 512 + 1024 + 1024)
    assert live["b1.project"] == (["b1.dw", "b1.project", "conv1"], 512 + 1024 + 512)
    assert live["b1.add"] == (["b1.add", "b1.project", "conv1"], 3 * 512)
    assert live["b2.dw"] == (["b1.add", "b2.dw", "b2.expand"], 512 + 2048)
    assert ls.peak_elems == 2560 and ls.plan.steps[ls.peak_step].name == "b1.dw"


def test_tiny_sliced_schedule_never_holds_the_expanded_tensor(tiny):
    live, ls = _live(tiny, schedule="v2-sliced")
    assert [s.slices for s in ls.plan.steps if s.slices] == [2, 2]  # t = 2 slices per block
    # Block b1 as one step: conv1 (input, held) + project output + one 8-channel slice of expand and of dw.
    assert live["b1"][1] == 512 + 512 + (8 * 64 + 8 * 64)
    assert ls.peak_elems == 2048
    assert _live(tiny, schedule="v2-sliced", slices=4)[0]["b1"][1] == 512 + 512 + (4 * 64 + 4 * 64)


def test_mobilenet_v2_224_fp16_peak():
    # MobileNetV2 Table 2: block 2 expands 16 -> 96 channels at 112x112, its stride-2 depthwise gives 56x56x96.
    ls = live_activations("mobilenet_v2", dtype="fp16")
    assert ls.plan.steps[ls.peak_step].name == "b2.dw"
    assert sorted(t for t, _ in ls.members[ls.peak_step]) == ["b2.dw", "b2.expand"]
    assert ls.peak_elems == 112 * 112 * 96 + 56 * 56 * 96 == 1_505_280
    assert ls.peak_elems * ls.bytes_per_element == 3_010_560


def test_mobilenet_v1_peak_in_both_modes():
    ls = live_activations("mobilenet_v1")
    # MobileNets Table 1: the first pointwise reads 112x112x32 and writes 112x112x64.
    assert ls.plan.steps[ls.peak_step].name == "b1.pw"
    assert ls.peak_elems == 112 * 112 * (32 + 64)
    # The papers' algebra at alpha = 0.5: the same step holds 112x112x(16 + 32).
    compiled = compiled_for(load_variant("mobilenet_v1"), "ideal")
    values, where = peak_live(build_plan(compiled), values_at(compiled, np.array([0.5, 1.0]), np.array([1.0, 1.0])))
    assert list(values) == [112 * 112 * 48, 112 * 112 * 96] and list(where) == [list(where)[0]] * 2


def test_sweep_has_peak_and_weight_bytes():
    frame = sweep("mobilenet_v2", [1.0], [224], dtype="fp16")
    assert int(frame["act_peak_bytes"].iloc[0]) == 3_010_560
    assert int(frame["weight_bytes"].iloc[0]) == 2 * (frame["weights"].iloc[0] + frame["biases"].iloc[0])
    with pytest.raises(MobilecostError):
        sweep("mobilenet_v2", [1.0], [224], dtype="fp8")


def test_memory_cli(tiny, tmp_path):
    result = runner.invoke(app, ["memory", "mobilenet_v2", "--dtype", "fp16"])
    assert result.exit_code == 0, result.output
    assert "peak live activations: 1,505,280 elements = 3,010,560 bytes" in result.output
    assert "not a peak" in result.output
    result = runner.invoke(app, ["memory", str(tmp_path / "tiny.yaml"), "--schedule", "v2-sliced"])
    assert result.exit_code == 0 and "slice count used: 2" in result.output
    result = runner.invoke(app, ["memory", "mobilenet_v2", "--slices", "0", "--schedule", "v2-sliced"])
    assert result.exit_code == 2 and "--slices" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("variant", ["mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small"])
def test_report_columns_agree_with_the_memory_plan(variant):
    from mobilecost.api import evaluate

    for alpha in (0.35, 1.0, 1.3):
        frame = evaluate(variant, alpha, dtype="fp16")
        ls = live_activations(variant, alpha, dtype="fp16")
        assert frame.attrs["memory"]["act_peak_bytes"] == ls.peak_elems * 2
        assert frame.attrs["memory"]["peak_layer"] == ls.plan.steps[ls.peak_step].name
        assert frame["live_bytes"].max() == ls.peak_elems * 2
        assert (frame["weight_bytes"] == 2 * (frame["weights"] + frame["biases"])).all()


def test_report_shows_the_peak():
    result = runner.invoke(app, ["report", "mobilenet_v2", "--format", "markdown"])
    assert result.exit_code == 0
    assert "Peak live activations: 6,021,120 bytes (fp32) at b2.dw" in result.output  # 1,505,280 x 4


def test_slices_without_the_sliced_schedule_is_refused():
    # The sequential schedule slices nothing: a slice count there would be silently ignored.
    result = runner.invoke(app, ["memory", "mobilenet_v2", "--slices", "4"])
    assert result.exit_code == 2
    assert result.stderr == "mobilecost: error: --slices: a slice count applies to --schedule v2-sliced only\n"


BIG_TABLE = """\
name: bignet
title: BigNet
source: "test_memory: counts past 2**53"
format: v1
input: {size: 224, channels: 3}
classes: 10
activation: relu6
width: {rounding: truncate, min_channels: 8}
padding: same
layers:
  - {type: conv,     s: 1, filter: 3x3x3x999999,  input: 224x224x3,      name: conv1}
  - {type: conv dw,  s: 1, filter: 3x3x999999,    input: 224x224x999999}
  - {type: avg pool, s: 1, filter: 224x224,       input: 224x224x999999}
  - {type: fc,       s: 1, filter: 999999x10,     input: 1x1x999999}
"""


def test_memory_prints_counts_past_2_53_exactly(tmp_path):
    # At 99999x99999, stride 1, 'same': each of conv1 and the depthwise outputs 99999 * 99999 * 999999
    # = 9,999,790,001,199,999 elements; the peak is both at once: 19,999,580,002,399,998 elements,
    # x 4 bytes = 79,998,320,009,599,992. As floats they printed 9,999,790,001,200,000.0, the peak
    # 1.99995800024e+16, and a bogus "None slices: -2 per slice" from the rounding of a difference.
    import json

    (tmp_path / "big.yaml").write_text(BIG_TABLE)
    result = runner.invoke(app, ["memory", str(tmp_path / "big.yaml"), "-r", "99999", "-f", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["peak_elements"] == 19_999_580_002_399_998 and data["peak_bytes"] == 79_998_320_009_599_992
    assert [(x["tensor"], x["elements"]) for x in data["peak_live"]] == [
        ("conv1", 9_999_790_001_199_999), ("b1.dw", 9_999_790_001_199_999)]
    assert all(step["scratch_elements"] == 0 for step in data["steps"])
    text = runner.invoke(app, ["memory", str(tmp_path / "big.yaml"), "-r", "99999", "--width", "0"]).stdout
    assert "peak live activations: 19,999,580,002,399,998 elements = 79,998,320,009,599,992 bytes" in text
    assert "bytes (79,998,320,009,600.0 KB) at step b1.dw" in text  # 79,998,320,009,599.992 KB
    assert "slices" not in text and "999.0" not in text and "000.0 " not in text
