"""The table language's newer columns and keys, each against an independent reference:

* torchvision's own counts, frozen in tests/reference/torchvision_table_language.json by
  tests/reference/generate_table_language_counts.py (torch 2.14.1, torchvision 0.29.1), for tables in
  tests/reference/tables/: MNASNet 1.0 (5x5 depthwise kernels, the v2 kernel column), EfficientNet-B0
  (SiLU, SE with SiLU inside and a sigmoid gate, repeats n), B1 and B2 (depth multipliers 1.1 and 1.2,
  B2 at width 1.1), MobileNetV2 with t = 2.5 and 2.3 (torchvision's int(round(inp * t)));
* hand derivations written below for what torchvision has no network for: non-square kernels and
  windowed pools;
* the formerly silent cases, now counted exactly or refused with file, line and field.
"""

import json
from pathlib import Path

import pytest
from conftest import one_line_error
from typer.testing import CliRunner

from mobilecost.api import evaluate
from mobilecost.cli import app
from mobilecost.errors import MobilecostError
from mobilecost.numeric.checked import validate_table

REFERENCE = Path(__file__).resolve().parent / "reference"
TABLES = REFERENCE / "tables"
runner = CliRunner()
WEIGHT_OPS = ("conv", "pointwise", "depthwise", "fc")

# reference model -> (table, depth multiplier written into it, alpha)
REFERENCE_TABLES = {
    "mnasnet1_0": ("torchvision_mnasnet1_0.yaml", None, 1.0),
    "efficientnet_b0": ("torchvision_efficientnet_b0.yaml", None, 1.0),
    "efficientnet_b1": ("torchvision_efficientnet_b0.yaml", 1.1, 1.0),
    "efficientnet_b2": ("torchvision_efficientnet_b0.yaml", 1.2, 1.1),
    "mobilenet_v2_t2.5": ("torchvision_mobilenet_v2_fractional.yaml", None, 1.0),
    "mobilenet_v2_t2.5_0.75": ("torchvision_mobilenet_v2_fractional.yaml", None, 0.75),
}
SHIPPED = TABLES.parent.parent.parent / "tables"


def torchvision_models():
    return json.loads((REFERENCE / "torchvision_table_language.json").read_text())["models"]


def table_for(model: str, tmp_path: Path) -> tuple[str, float]:
    if model == "mobilenet_v3_large_dilated":  # the shipped table as an output-stride-16 backbone
        text = (SHIPPED / "mobilenet_v3_large.yaml").read_text().replace("padding: same\n", "padding: same\noutput_stride: 16\n")
        return write(tmp_path, text.replace("name: mobilenet_v3_large", "name: v3_os16"), "os16.yaml"), 1.0
    name, depth, alpha = REFERENCE_TABLES[model]
    if depth is None:
        return str(TABLES / name), alpha
    text = (TABLES / name).read_text()
    text = text.replace("name: torchvision_efficientnet_b0", f"name: efficientnet_depth_{depth}".replace(".", "_"))
    text = text.replace("se_gate: sigmoid\n", f"se_gate: sigmoid\ndepth_multiplier: {depth}\n")
    path = tmp_path / f"{model}.yaml"
    path.write_text(text)
    return str(path), alpha


def write(tmp_path: Path, text: str, name: str = "t.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def assert_refused(path: str, *fragments):
    one_line_error(runner.invoke(app, ["validate", path]), *fragments)


# -- torchvision, to the unit ---------------------------------------------------------------------

@pytest.mark.parametrize("model", sorted({m["model"] for m in torchvision_models()}))
def test_totals_and_every_layer_equal_torchvision(model, tmp_path):
    for ref in (m for m in torchvision_models() if m["model"] == model):
        path, alpha = table_for(model, tmp_path)
        semantics = "torchvision" if model.startswith("mobilenet_v3") else None
        frame = evaluate(path, alpha=alpha, resolution=ref["resolution"], convention="torchvision", semantics=semantics)
        totals = frame.attrs["totals"]
        assert (totals["params"], totals["macs"]) == (ref["params"], ref["macs"]), (model, ref["resolution"])
        ours = [(int(r.macs), int(r.out_ch), int(r.out_side)) for r in frame.itertuples() if r.op in WEIGHT_OPS]
        theirs = [(layer["macs"], layer["out_shape"][1], layer["out_shape"][2] if len(layer["out_shape"]) == 4 else 1)
                  for layer in ref["layers"]]
        assert ours == theirs, (model, ref["resolution"])


def test_reference_kernels_activations_and_repeats_are_the_tables_own():
    """What the references exercise is in the tables, not coincidence: 5x5 depthwise kernels in
    MNASNet, SiLU (swish) in EfficientNet's convolutions and SE, fractional t."""
    mnasnet = evaluate(str(TABLES / "torchvision_mnasnet1_0.yaml"))
    assert {int(r.kernel) for r in mnasnet.itertuples() if r.op == "depthwise"} == {3, 5}
    b0 = evaluate(str(TABLES / "torchvision_efficientnet_b0.yaml"))
    acts = {r.name: r.act for r in b0.itertuples()}
    assert acts["stem"] == acts["b2.expand"] == acts["b2.dw"] == acts["b2.se.reduce"] == "swish"
    assert acts["b2.se.expand"] == "sigmoid" and acts["b2.project"] == ""
    # 16 blocks: 1 + 2 + 2 + 3 + 3 + 4 + 1 (EfficientNet-B0, arXiv:1905.11946 Table 1)
    assert sum(1 for r in b0.itertuples() if r.name.endswith(".dw")) == 16


def test_depth_multiplier_repeats_rows_as_ceil_n_d(tmp_path):
    path, _ = table_for("efficientnet_b1", tmp_path)
    frame = evaluate(path)
    # ceil(n * 1.1) of n = 1, 2, 2, 3, 3, 4, 1: 2 + 3 + 3 + 4 + 4 + 5 + 2
    assert sum(1 for r in frame.itertuples() if r.name.endswith(".dw")) == 23


def test_fractional_expansion_follows_the_named_rounding(tmp_path):
    """torchvision: 24 x 2.5 = 60 channels (int(round())); make_divisible(60, 8) = 64; 96 x 2.3 = 220.8 -> 221."""
    path = TABLES / "torchvision_mobilenet_v2_fractional.yaml"
    frame = evaluate(str(path))
    expanded = [int(r.out_ch) for r in frame.itertuples() if r.name.endswith(".expand")]
    assert 60 in expanded and 221 in expanded and 64 not in expanded
    divisible = write(tmp_path, path.read_text().replace("expansion_rounding: round", "expansion_rounding: make_divisible"))
    expanded = [int(r.out_ch) for r in evaluate(divisible).itertuples() if r.name.endswith(".expand")]
    assert 64 in expanded and 224 in expanded and 60 not in expanded


# -- non-square kernels, by hand ------------------------------------------------------------------

NONSQUARE = """name: nonsquare
title: Non-square kernels
source: hand
format: v3
input: {size: 32, channels: 3}
classes: 10
width: {rounding: make_divisible, divisor: 8}
padding: PADDING
layers:
  - {input: 32^2x3,  operator: "conv2d, 3x3", exp: -, out: 16, se: -, nl: RE, s: 2}
  - {input: 16^2x16, operator: "bneck, 5x3", exp: 32, out: 16, se: -, nl: RE, s: 2}
  - {input: 8^2x16,  operator: "pool, 8x8", exp: -, out: -, se: -, nl: -, s: 1}
  - {input: 1^2x16,  operator: "conv2d 1x1, NBN", exp: -, out: k, se: -, nl: -, s: 1}
"""


def test_a_non_square_kernel_is_counted_as_kh_times_kw(tmp_path):
    frame = evaluate(write(tmp_path, NONSQUARE.replace("PADDING", "same")))
    rows = {r.name: r for r in frame.itertuples()}
    # 5 high, 3 wide, over 32 channels: 480 weights (a 5x5 kernel would have 800); 'same' padding
    # keeps ceil(16 / 2) = 8 along both axes: 8 * 8 * 480 = 30,720 MACs.
    assert (int(rows["b1.dw"].weights), int(rows["b1.dw"].macs), int(rows["b1.dw"].out_side)) == (480, 30_720, 8)
    assert rows["b1.dw"].kernel == "5x3"
    assert (int(rows["b1.expand"].macs), int(rows["b1.project"].macs)) == (16 * 16 * 16 * 32, 8 * 8 * 32 * 16)


def test_a_non_square_kernel_that_would_make_a_non_square_map_is_refused(tmp_path):
    text = NONSQUARE.replace("PADDING", "{depthwise: bottom_right}")
    path = write(tmp_path, text)
    assert_refused(path, f"{path}:{line_of(text, 'bneck, 5x3')}", "operator", "5x3", "non-square")


def test_v1_and_v2_kernels_may_be_non_square(tmp_path):
    v2 = """name: v2k
title: v2 kernel column
source: hand
format: v2
input: {size: 32, channels: 3}
classes: 10
width: {rounding: make_divisible, divisor: 8}
layers:
  - {input: 32^2x3,  operator: conv2d, c: 16, s: 2}
  - {input: 16^2x16, operator: bottleneck, t: 2, c: 16, n: 1, s: 1, kernel: 7x3}
  - {input: 16^2x16, operator: avgpool 16x16}
  - {input: 1x1x16,  operator: conv2d 1x1, c: k}
"""
    rows = {r.name: r for r in evaluate(write(tmp_path, v2)).itertuples()}
    assert (int(rows["b1.dw"].weights), int(rows["b1.dw"].macs)) == (7 * 3 * 32, 16 * 16 * 7 * 3 * 32)
    assert "b1.add" in rows  # stride 1, 16 -> 16: the shortcut is kept
    v1 = (SHIPPED / "mobilenet_v1.yaml").read_text().replace("filter: 3x3x32,  ", "filter: 1x3x32,  ", 1)
    rows = {r.name: r for r in evaluate(write(tmp_path, v1.replace("name: mobilenet_v1", "name: v1k"), "v1.yaml")).itertuples()}
    # the first depthwise, 1 high and 3 wide, on 112x112x32
    assert (int(rows["b1.dw"].weights), int(rows["b1.dw"].macs), rows["b1.dw"].kernel) == (96, 112 * 112 * 96, "1x3")


# -- pooling windows, by hand ---------------------------------------------------------------------

POOLED = """name: pooled
title: Windowed pool
source: hand
format: v3
input: {size: 32, channels: 3}
classes: 10
width: {rounding: make_divisible, divisor: 8}
padding: PADDING
layers:
  - {input: 32^2x3,  operator: "conv2d, 3x3", exp: -, out: 16, se: -, nl: RE, s: 2}
  - {input: 16^2x16, operator: "conv2d, 1x1", exp: -, out: 32, se: -, nl: RE, s: 1}
  - {input: 16^2x32, operator: "pool, 3x3", exp: -, out: -, se: -, nl: -, s: 2, name: window}
  - {input: SIDE^2x32, operator: "pool, 7x7", exp: -, out: -, se: -, nl: -, s: 1, name: pool}
  - {input: 1^2x32,  operator: "conv2d 1x1, NBN", exp: -, out: k, se: -, nl: -, s: 1}
"""


@pytest.mark.parametrize("padding,side", [("same", 8), ("{pool: valid}", 7), ("{pool: same}", 8)])
def test_a_pool_window_smaller_than_its_map_has_its_own_cost_and_size(tmp_path, padding, side):
    """'valid' (the default of torch AvgPool2d and Keras AveragePooling2D): floor((16 - 3) / 2) + 1 = 7;
    'same': ceil(16 / 2) = 8. Each output element adds its 3 x 3 window: side^2 * 32 * 9."""
    if padding == "same":  # the table's padding string sets convolutions only: the pool stays 'valid'
        side = 7
    text = POOLED.replace("PADDING", padding).replace("SIDE", str(side)).replace('"pool, 7x7"', f'"pool, {side}x{side}"')
    rows = {r.name: r for r in evaluate(write(tmp_path, text)).itertuples()}
    assert rows["window"].op == "avg_pool" and rows["pool"].op == "global_pool"
    assert (int(rows["window"].out_side), int(rows["window"].ew_ops)) == (side, side * side * 32 * 9)
    assert int(rows["pool"].ew_ops) == side * side * 32


def test_a_window_larger_than_the_map_at_some_resolution_is_refused(tmp_path):
    path = write(tmp_path, POOLED.replace("PADDING", "same").replace("SIDE", "7"))
    # 4 pixels: the stem leaves 2x2, smaller than the 3x3 window (the total stride, 4, allows it)
    result = runner.invoke(app, ["report", path, "--resolution", "4", "-f", "json"])
    assert result.exit_code == 2 and "window" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    result = runner.invoke(app, ["sweep", path, "--alpha", "1", "--resolution", "4,32"])
    assert result.exit_code == 2 and "window" in result.stderr


def test_formerly_silent_pool_and_kernel_cases_are_refused_with_place(tmp_path):
    text = POOLED.replace("PADDING", "same").replace("SIDE", "7").replace('"pool, 3x3", exp: -, out: -, se: -, nl: -, s: 2',
                                                                           '"pool, 3x3", exp: -, out: -, se: -, nl: -, s: -')
    path = write(tmp_path, text)
    assert_refused(path, f"{path}:{line_of(text, 'pool, 3x3')}", ": s:", "windowed")
    text = POOLED.replace("PADDING", "same").replace("SIDE", "7").replace('"pool, 3x3"', '"pool, 3x30"')
    path = write(tmp_path, text)
    assert_refused(path, f"{path}:{line_of(text, 'pool, 3x30')}", "operator", "one axis")
    v2 = (TABLES / "torchvision_mnasnet1_0.yaml").read_text()
    bad = v2.replace("operator: conv2d 1x1,  t: -, c: 1280, n: 1, s: 1,", "operator: conv2d 1x1,  t: -, c: 1280, n: 1, s: 1, kernel: 3,")
    path = write(tmp_path, bad)
    assert_refused(path, f"{path}:{line_of(bad, 'kernel: 3,')}", "kernel", "contradicts")
    bad = v2.replace("operator: avgpool 7x7, t: -, c: -,    n: -, s: -,", "operator: avgpool 7x7, t: -, c: -,    n: -, s: -, kernel: 3,")
    path = write(tmp_path, bad)
    assert_refused(path, f"{path}:{line_of(bad, 'kernel: 3,')}", "kernel")
    bad = v2.replace("kernel: 5x5}", "kernel: 5x}", 1)
    path = write(tmp_path, bad)
    assert_refused(path, f"{path}:{line_of(bad, 'kernel: 5x}')}", "kernel", "5x3")


def test_a_seven_by_seven_pool_on_a_larger_map_stays_global_and_the_input_column_catches_a_window(tmp_path):
    """'pool, 7x7' is the papers' global pool (tables written for 224 keep it at other sizes); where a table
    means a window instead, the next row's input column disagrees and validation says where."""
    text = POOLED.replace("PADDING", "same").replace("SIDE", "7").replace('"pool, 3x3", exp: -, out: -, se: -, nl: -, s: 2',
                                                                           '"pool, 5x5", exp: -, out: -, se: -, nl: -, s: 1')
    path = write(tmp_path, text)
    # a 5x5 window, stride 1, on 16x16: 12x12, not the 7x7 the next row says
    assert_refused(path, f"{path}:{line_of(text, 'SIDE'.replace('SIDE', '7^2x32'))}", "input", "12x12x32")


def test_v2_avgpool_of_any_side_is_global_where_it_covers_the_map(tmp_path):
    text = """name: small
title: small
source: hand
format: v2
input: {size: 32, channels: 3}
classes: 10
width: {rounding: make_divisible, divisor: 8}
layers:
  - {input: 32^2x3,  operator: conv2d, c: 16, s: 2}
  - {input: 16^2x16, operator: bottleneck, t: 6, c: 24, n: 1, s: 2}
  - {input: 8^2x24,  operator: bottleneck, t: 6, c: 32, n: 1, s: 2}
  - {input: 4^2x32,  operator: POOL, c: -, n: -, s: -, name: pool}
  - {input: 1x1x32,  operator: conv2d 1x1, c: k}
"""
    four = evaluate(write(tmp_path, text.replace("POOL", "avgpool 4x4"), "four.yaml"))
    seven = evaluate(write(tmp_path, text.replace("POOL", "avgpool 7x7").replace("name: small", "name: seven"), "seven.yaml"))
    assert four.set_index("name").loc["pool", "op"] == "global_pool"
    assert four.attrs["totals"] == seven.attrs["totals"]
    assert int(four.set_index("name").loc["pool", "ew_ops"]) == 4 * 4 * 32


# -- activations ----------------------------------------------------------------------------------

ACTIVATED = """name: activated
title: every activation
source: hand
format: v3
input: {size: 32, channels: 3}
classes: 10
se_act: GELU
se_gate: hsigmoid
width: {rounding: make_divisible, divisor: 8}
layers:
  - {input: 32^2x3,  operator: "conv2d, 3x3", exp: -, out: 16, se: -, nl: SiLU, s: 2}
  - {input: 16^2x16, operator: "bneck, 3x3", exp: 32, out: 16, se: ✓, nl: HS, s: 1}
  - {input: 16^2x16, operator: "bneck, 5x5", exp: 48, out: 24, se: -, nl: sigmoid, s: 2}
  - {input: 8^2x24,  operator: "conv2d, 1x1", exp: -, out: 32, se: -, nl: hsigmoid, s: 1}
  - {input: 8^2x32,  operator: "conv2d, 1x1", exp: -, out: 32, se: -, nl: relu6, s: 1}
  - {input: 8^2x32,  operator: "pool, 8x8", exp: -, out: -, se: -, nl: -, s: 1}
  - {input: 1^2x32,  operator: "conv2d 1x1, NBN", exp: -, out: k, se: -, nl: -, s: 1}
"""


def test_each_activation_is_one_evaluation_per_output_element(tmp_path):
    frame = evaluate(write(tmp_path, ACTIVATED))
    rows = {r.name: r for r in frame.itertuples()}
    assert rows["conv1"].act == "swish" and rows["b1.se.reduce"].act == "gelu" and rows["b1.se.expand"].act == "hsigmoid"
    assert rows["b2.dw"].act == "sigmoid" and rows["conv4"].act == "hsigmoid" and rows["conv5"].act == "relu6"
    # stem: 16 x 16 x 16 outputs, one SiLU each; the SE squeeze: make_divisible(32 / 4, 8) = 8, one GELU each
    assert int(rows["conv1"].act_ops) == 16 * 16 * 16 and int(rows["b1.se.reduce"].act_ops) == 8
    assert int(rows["b1.project"].act_ops) == 0


def test_activation_names_outside_the_list_are_refused_at_their_row(tmp_path):
    text = ACTIVATED.replace("nl: sigmoid", "nl: mish")
    path = write(tmp_path, text)
    assert_refused(path, f"{path}:{line_of(text, 'nl: mish')}", "nl")
    text = ACTIVATED.replace("se_act: GELU", "se_act: tanh")
    path = write(tmp_path, text)
    assert_refused(path, f"{path}:{line_of(text, 'se_act')}", "se_act")


def test_validate_accepts_every_reference_table():
    for path in sorted(TABLES.glob("*.yaml")):
        assert "ok" in validate_table(str(path))


def test_a_fractional_width_needs_an_input_ratio_expansion(tmp_path):
    text = (TABLES / "torchvision_mobilenet_v2_fractional.yaml").read_text()
    text = text.replace("expansion: input_ratio", "expansion: absolute").replace("t: 2.3, c: 96", "t: 2.3, c: 96")
    path = write(tmp_path, text)
    # 64 x 2.3 = 147.2 channels at alpha 1: not a whole width to scale
    assert_refused(path, f"{path}:{line_of(text, 't: 2.3')}", "t:", "input_ratio")


def test_repeats_and_depth_multiplier_are_refused_where_they_do_not_apply(tmp_path):
    text = ACTIVATED.replace('out: 32, se: -, nl: relu6, s: 1}', 'out: 32, se: -, nl: relu6, s: 1, n: 2}')
    path = write(tmp_path, text)
    assert_refused(path, f"{path}:{line_of(text, 'n: 2}')}", "n", "bneck")
    text = ACTIVATED.replace("se_gate: hsigmoid", "se_gate: hsigmoid\ndepth_multiplier: 0")
    path = write(tmp_path, text)
    assert_refused(path, f"{path}:{line_of(text, 'depth_multiplier')}", "depth_multiplier")
    with pytest.raises(MobilecostError):
        evaluate(write(tmp_path, text, "again.yaml"))


# -- ONNX: the operators each table asks for, run in onnxruntime ---------------------------------

def _onnx_run(path, resolution):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    import numpy as np

    from mobilecost.measure.onnx_graph import build_model, layer_shapes

    model = build_model(path, 1.0, resolution, seed=1)
    onnx.checker.check_model(model, full_check=True)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    image = np.random.default_rng(0).normal(size=(1, 3, resolution, resolution)).astype(np.float32)
    output = session.run(None, {"input": image})[0]
    assert np.all(np.isfinite(output))
    return model, layer_shapes(model), output


def test_onnx_export_of_every_activation_runs_with_its_operators(tmp_path):
    model, shapes, output = _onnx_run(write(tmp_path, ACTIVATED), 32)
    ops = {node.name: node.op_type for node in model.graph.node}
    assert ops["conv1.sigmoid"] == "Sigmoid" and ops["conv1.act"] == "Mul"  # SiLU = x * sigmoid(x)
    assert ops["b1.dw.act"] == "HardSwish" and ops["b1.se.reduce.act"] == "Gelu"
    assert ops["b1.se.expand.act"] == ops["conv4.act"] == "HardSigmoid" and ops["b2.dw.act"] == "Sigmoid"
    assert ops["conv5.act"] == "Clip"
    assert model.opset_import[0].version == 20  # Gelu is an operator from opset 20
    assert output.shape == (1, 10)


def test_onnx_export_of_efficientnet_b0_has_silu_and_a_sigmoid_gate():
    model, shapes, _ = _onnx_run(str(TABLES / "torchvision_efficientnet_b0.yaml"), 64)
    ops = {node.name: node.op_type for node in model.graph.node}
    assert ops["b2.dw.sigmoid"] == "Sigmoid" and ops["b2.dw.act"] == "Mul"
    assert ops["b2.se.reduce.act"] == "Mul" and ops["b2.se.expand.act"] == "Sigmoid"
    assert "HardSwish" not in ops.values() and model.opset_import[0].version == 17


def test_onnx_export_of_non_square_kernels_and_windowed_pools_matches_the_engine(tmp_path):
    model, shapes, _ = _onnx_run(write(tmp_path, NONSQUARE.replace("PADDING", "same")), 32)
    conv = next(node for node in model.graph.node if node.name == "b1.dw")
    kernel = next(a for a in conv.attribute if a.name == "kernel_shape")
    assert list(kernel.ints) == [5, 3] and shapes["b1.dw"] == (1, 32, 8, 8)
    text = POOLED.replace("PADDING", "same").replace("SIDE", "7")
    model, shapes, _ = _onnx_run(write(tmp_path, text, "pooled.yaml"), 32)
    assert {node.name: node.op_type for node in model.graph.node}["window"] == "AveragePool"
    assert shapes["window"] == (1, 32, 7, 7)


# -- the workbook's live formulas: Python's round() and unpadded windows ---------------------------

def test_workbook_formulas_recalculate_round_half_even_and_windows_to_the_references(tmp_path):
    """LibreOffice recalculates the fractional-t table at alpha 0.75, 160 pixels (torchvision's counts)
    and the windowed-pool table (hand counts above)."""
    openpyxl = pytest.importorskip("openpyxl")
    from test_workbook import _header, _totals, recalculate

    from mobilecost.outputs.workbook import ALPHA_CELL, SIDE_CELL, export_review

    fractional = str(TABLES / "torchvision_mobilenet_v2_fractional.yaml")
    pooled = write(tmp_path, POOLED.replace("PADDING", "same").replace("SIDE", "7"), "pooled.yaml")
    source = tmp_path / "book.xlsx"
    export_review([fractional, pooled], alphas=[1.0], resolutions=[224], xlsx=source)
    wb = openpyxl.load_workbook(source)
    sheet = next(name for name in wb.sheetnames if name.startswith("torchvision_mobilenet_v2"))  # names are cut at 31
    wb[sheet][ALPHA_CELL] = 0.75
    wb[sheet][SIDE_CELL] = 160
    wb["pooled"][SIDE_CELL] = 32  # the table is written for 32 pixels
    copy = tmp_path / "copy.xlsx"
    wb.save(copy)
    (tmp_path / "out").mkdir()
    recalculate([copy], tmp_path / "out")
    formulas, values = openpyxl.load_workbook(source), openpyxl.load_workbook(tmp_path / "out" / "copy.xlsx", data_only=True)
    ref = next(m for m in torchvision_models() if m["model"] == "mobilenet_v2_t2.5_0.75")
    totals = _totals(values[sheet], _header(formulas[sheet]))
    assert (totals["macs"], totals["weights"] + totals["biases"] + totals["bn_affine"]) == (ref["macs"], ref["params"])
    totals = _totals(values["pooled"], _header(formulas["pooled"]))
    assert totals["ew_ops"] == evaluate(pooled, resolution=32).attrs["totals"]["ew_ops"]


def test_a_depth_multiplier_may_not_push_repeats_past_the_bound(tmp_path):
    text = (TABLES / "torchvision_efficientnet_b0.yaml").read_text()
    text = text.replace("se_gate: sigmoid\n", "se_gate: sigmoid\ndepth_multiplier: 10\n").replace("s: 2, n: 4}", "s: 2, n: 11}")
    path = write(tmp_path, text)
    # ceil(11 * 10) = 110 blocks in one row: more than a row's 100 repeats
    assert_refused(path, f"{path}:{line_of(text, 'n: 11}')}", "n", "110")


# -- dilation, output stride, receptive fields ----------------------------------------------------

DILATED = """name: dilated
title: Dilation
source: hand
format: v3
input: {size: 64, channels: 3}
classes: 10
width: {rounding: make_divisible, divisor: 8}
OUTPUT_STRIDE
layers:
  - {input: 64^2x3,  operator: "conv2d, 3x3", exp: -, out: 16, se: -, nl: RE, s: 2}
  - {input: 32^2x16, operator: "bneck, 3x3", exp: 32, out: 16, se: -, nl: RE, s: 2}
  - {input: 16^2x16, operator: "bneck, 3x3", exp: 32, out: 16, se: -, nl: RE, s: 2}
  - {input: 8^2x16,  operator: "bneck, 5x5", exp: 32, out: 16, se: -, nl: RE, s: 1, dilation: 2}
  - {input: 8^2x16,  operator: "pool, 8x8", exp: -, out: -, se: -, nl: -, s: 1}
  - {input: 1^2x16,  operator: "conv2d 1x1, NBN", exp: -, out: k, se: -, nl: -, s: 1}
"""


def test_dilation_and_output_stride_by_hand(tmp_path):
    """As written (output stride 8): fields 3, 7 (= 3 + 2*2), 15 (= 7 + 2*4), 79 (= 15 + (2*4 + 1 - 1)*8).
    Output stride 4: the third block runs at stride 1 with rate 1 (field 7 + 2*4 = 15, jump 4) and the
    fourth at rate 2 * 2 = 4 (span 17): 15 + 16*4 = 79; its maps are 16x16, so the third block's
    depthwise does 16*16*9*32 MACs instead of 8*8*9*32, and the written 8^2 inputs read 16^2."""
    from mobilecost.analysis.receptive import receptive_fields
    from mobilecost.spec.loader import load_variant

    written = write(tmp_path, DILATED.replace("OUTPUT_STRIDE", ""), "os8.yaml")
    os4 = write(tmp_path, DILATED.replace("OUTPUT_STRIDE", "output_stride: 4").replace("name: dilated", "name: os4"),
                "os4.yaml")
    fields = {f.name: (f.jump, f.height, f.width) for f in receptive_fields(load_variant(written))}
    assert [fields[n] for n in ("conv1", "b1.dw", "b2.dw", "b3.dw", "b3.project")] == [
        (2, 3, 3), (4, 7, 7), (8, 15, 15), (8, 79, 79), (8, 79, 79)]
    assert fields["pool"] == (8, None, None)
    fields = {f.name: (f.jump, f.height) for f in receptive_fields(load_variant(os4))}
    assert [fields[n] for n in ("b1.dw", "b2.dw", "b3.dw")] == [(4, 7), (4, 15), (4, 79)]
    a, b = ({r.name: r for r in evaluate(p).itertuples()} for p in (written, os4))
    assert (int(a["b2.dw"].macs), int(b["b2.dw"].macs)) == (8 * 8 * 9 * 32, 16 * 16 * 9 * 32)
    assert (int(a["b3.dw"].out_side), int(b["b3.dw"].out_side)) == (8, 16)
    # the dilated depthwise counts 5 x 5 taps, as an undilated one
    assert int(a["b3.dw"].macs) == 8 * 8 * 25 * 32 and int(a["b3.dw"].weights) == 25 * 32
    assert a["b3.dw"].kernel == 5


def test_onnx_export_of_a_dilated_backbone_runs_with_its_dilations(tmp_path):
    path = write(tmp_path, DILATED.replace("OUTPUT_STRIDE", "output_stride: 4").replace("name: dilated", "name: os4"))
    model, shapes, _ = _onnx_run(path, 64)
    dw = next(node for node in model.graph.node if node.name == "b3.dw")
    assert list(next(a for a in dw.attribute if a.name == "dilations").ints) == [4, 4]
    assert shapes["b3.dw"] == (1, 32, 16, 16)


def test_output_stride_and_dilation_are_refused_where_they_make_no_sense(tmp_path):
    path = write(tmp_path, DILATED.replace("OUTPUT_STRIDE", "output_stride: 12"))
    assert_refused(path, "output_stride", "12")
    text = DILATED.replace("OUTPUT_STRIDE", "").replace('"pool, 8x8", exp: -, out: -, se: -, nl: -, s: 1}',
                                                        '"pool, 8x8", exp: -, out: -, se: -, nl: -, s: 1, dilation: 2}')
    path = write(tmp_path, text, "pooldil.yaml")
    assert_refused(path, f"{path}:{line_of(text, 'pool, 8x8')}", "dilation")


def test_the_api_gives_receptive_fields_at_an_output_stride():
    """MobileNetV2 (no SE): the stem 3x3/2 sees 3 pixels, b1's 3x3 depthwise 3 + 2*2 = 7; at output stride
    8 the jump stops at 8 and the last conv's field equals the as-written one (TF-slim's rule keeps fields)."""
    from mobilecost.api import receptive_field

    written = receptive_field("mobilenet_v2").set_index("name")
    assert (written.loc["conv1", "rf_height"], written.loc["b1.dw", "rf_height"]) == (3, 7)
    assert written.loc["last_conv", "jump"] == 32
    os8 = receptive_field("mobilenet_v2", output_stride=8).set_index("name")
    assert os8.loc["last_conv", "jump"] == 8
    assert os8.loc["last_conv", "rf_height"] == written.loc["last_conv", "rf_height"]
