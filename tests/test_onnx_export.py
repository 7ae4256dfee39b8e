"""ONNX export: the graph is valid, runs, and has the reference networks' parameters and shapes.

Expected parameter counts come from Keras Applications (`count_params()`, frozen in
tests/reference/keras_applications.csv) and expected feature-map shapes from Keras's own layer
records (tests/reference/keras_layers_1.0_224.json); the engine's per-layer figures are checked
against the graph's shape inference layer by layer.
"""

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from mobilecost.cli import app  # noqa: E402
from mobilecost.api import evaluate  # noqa: E402
from mobilecost.measure.onnx_graph import build_model, layer_shapes, parameter_count  # noqa: E402

REFERENCE = Path(__file__).resolve().parent / "reference"
TABLES = Path(__file__).resolve().parent.parent / "tables"
VARIANTS = ["mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small"]
runner = CliRunner()


def keras_total_params(variant, alpha, resolution):
    with (REFERENCE / "keras_applications.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            if (row["variant"], float(row["alpha"]), int(row["resolution"])) == (variant, alpha, resolution):
                return int(row["total_params"])
    raise LookupError((variant, alpha, resolution))


def check_layers_against_engine(model, frame):
    """Every layer's output tensor has the engine's (channels, side); fc outputs are (1, C)."""
    shapes = layer_shapes(model)
    for row in frame.itertuples(index=False):
        c, side = int(row.out_ch), int(row.out_side)
        expected = (1, c) if row.op in ("fc", "softmax") and len(shapes[row.name]) == 2 else (1, c, side, side)
        assert shapes[row.name] == expected, row.name


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("alpha,resolution", [(1.0, 224), (0.5, 96), (0.75, 128)])
def test_parameters_equal_keras_and_shapes_equal_engine(variant, alpha, resolution):
    model = build_model(variant, alpha, resolution, seed=1)
    onnx.checker.check_model(model, full_check=True)
    # Keras count_params() counts kernels, biases, BN gamma/beta and BN moving mean/variance:
    # all of them are initializers of the unfolded graph.
    assert parameter_count(model) == keras_total_params(variant, alpha, resolution)
    frame = evaluate(variant, alpha, resolution=resolution, convention="keras")
    assert parameter_count(model) == frame.attrs["totals"]["params"]
    check_layers_against_engine(model, frame)


@pytest.mark.parametrize("variant", ["mobilenet_v2", "mobilenet_v3_small"])
def test_folded_batch_norm_leaves_one_bias_per_channel(variant):
    frame = evaluate(variant, 0.75, resolution=96)
    totals = frame.attrs["totals"]
    folded = build_model(variant, 0.75, 96, fold_bn=True)
    # Folding y = gamma (x - mean) / sqrt(var + eps) + beta into a convolution scales its kernel
    # and leaves a shift per output channel: of the four BN vectors (2 in bn_affine, 2 in
    # bn_stats) one bias vector remains, i.e. bn_affine / 2 elements.
    assert parameter_count(folded) == totals["weights"] + totals["biases"] + totals["bn_affine"] // 2
    assert not [n for n in folded.graph.node if n.op_type == "BatchNormalization"]
    check_layers_against_engine(folded, frame)


def conv_feature_maps(model):
    """(H, W, C) of every Conv on a spatial map, in graph order, as Keras lists them (NHWC)."""
    shapes = layer_shapes(model)
    out = []
    for node in model.graph.node:
        if node.op_type != "Conv":
            continue
        source = node.input[0]
        in_side = shapes[source][2] if source in shapes else model.graph.input[0].type.tensor_type.shape.dim[2].dim_value
        if in_side > 1:
            n, c, h, w = shapes[node.output[0]]
            out.append((h, w, c))
    return out


@pytest.mark.parametrize("index", range(6))
def test_feature_maps_equal_keras_layer_records(index):
    record = json.loads((REFERENCE / "keras_layers_1.0_224.json").read_text())["models"][index]
    variant, alpha, resolution = record["variant"], record["alpha"], record["resolution"]
    semantics = "keras" if variant == "mobilenet_v1" else None  # Keras pads V1's strided dw bottom/right
    model = build_model(variant, alpha, resolution, semantics=semantics)
    keras_maps = [tuple(layer["output_shape"][1:]) for layer in record["layers"]
                  if layer["class"] in ("Conv2D", "DepthwiseConv2D") and layer["input_shape"][1] > 1]
    assert conv_feature_maps(model) == keras_maps
    assert parameter_count(model) == record["summary"]["total_params"]


def pads_of(model, name):
    node = next(n for n in model.graph.node if n.name == name)
    return next(list(a.ints) for a in node.attribute if a.name == "pads")


def test_padding_follows_the_tables_rule():
    # b2.dw of V1 is a 3x3 stride-2 depthwise conv. At an input of 127 the map reaching it is 64
    # (127 -> ceil(127/2) = 64 after conv1). TF 'SAME': out = ceil(64/2) = 32, total padding
    # (32-1)*2 + 3 - 64 = 1, split 0 before, 1 after. conv1 itself: out 64, total (64-1)*2+3-127 = 2.
    same = build_model("mobilenet_v1", 0.25, 127)
    assert pads_of(same, "conv1") == [1, 1, 1, 1]
    assert pads_of(same, "b2.dw") == [0, 0, 1, 1]
    assert pads_of(same, "b1.dw") == [1, 1, 1, 1]  # stride 1, 3x3: one on each side
    # Keras: ZeroPadding2D(((0, 1), (0, 1))) then 'valid' on every strided depthwise layer.
    keras = build_model("mobilenet_v1", 0.25, 127, semantics="keras")
    assert pads_of(keras, "b2.dw") == [0, 0, 1, 1]
    # 5x5 stride-2 depthwise of V3-Small b4 at 224: map 28 -> 14, total (14-1)*2+5-28 = 3 -> [1, 2].
    v3 = build_model("mobilenet_v3_small", 1.0, 224)
    assert pads_of(v3, "b4.dw") == [1, 1, 2, 2]


def test_names_follow_the_cost_tables():
    model = build_model("mobilenet_v3_small", 1.0, 96)
    nodes = {n.name: n for n in model.graph.node}
    inits = {t.name for t in model.graph.initializer}
    assert nodes["b4.se.reduce"].op_type == "Conv"
    assert nodes["b4.se.scale"].op_type == "Mul"
    assert nodes["b4.se.pool"].op_type == "GlobalAveragePool"
    assert nodes["b4.dw"].op_type == "Conv"
    assert next(a.i for a in nodes["b4.dw"].attribute if a.name == "group") == 96  # 96 expanded channels
    assert nodes["b4.se.expand.act"].op_type == "HardSigmoid"
    assert nodes["stem.act"].op_type == "HardSwish"
    assert nodes["b3.add"].op_type == "Add"
    assert {"b4.se.reduce.weight", "b4.se.reduce.bias", "b4.dw.bn.mean", "b4.dw.bn.var"} <= inits
    v1 = build_model("mobilenet_v1", 0.25, 64)
    assert {n.op_type for n in v1.graph.node} >= {"Clip", "Gemm", "Softmax"}


def test_runs_in_onnxruntime_and_softmax_sums_to_one():
    model = build_model("mobilenet_v1", 0.5, 96, seed=7)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).normal(size=(1, 3, 96, 96)).astype(np.float32)
    (y,) = session.run(None, {"input": x})
    assert y.shape == (1, 1000)
    assert np.all(y >= 0) and abs(float(y.sum()) - 1.0) < 1e-5


def test_folding_keeps_the_function():
    x = np.random.default_rng(1).normal(size=(1, 3, 64, 64)).astype(np.float32)
    outputs = []
    for fold in (False, True):
        model = build_model("mobilenet_v3_small", 0.5, 64, seed=3, fold_bn=fold)
        session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        outputs.append(session.run(None, {"input": x})[0])
    assert outputs[0].shape == (1, 1000)
    scale = float(np.abs(outputs[0]).max())
    assert float(np.abs(outputs[0] - outputs[1]).max()) <= 1e-4 * max(scale, 1.0)


def test_user_table(tmp_path):
    # MobileNetV2 with the 64-channel stage repeated twice instead of four times: two inverted
    # residual blocks fewer, each (at alpha 1) 64 -> 384 expand, 3x3 dw, 384 -> 64 project.
    text = (TABLES / "mobilenet_v2.yaml").read_text()
    text = text.replace("name: mobilenet_v2", "name: my_v2").replace("c: 64,   n: 4", "c: 64,   n: 2")
    path = tmp_path / "my_v2.yaml"
    path.write_text(text)
    model = build_model(str(path), 1.0, 96)
    # per block: weights 64*384 + 9*384 + 384*64 = 52,608; BN (4 vectors) 4*384 + 4*384 + 4*64 = 3,328
    assert parameter_count(model) == keras_total_params("mobilenet_v2", 1.0, 96) - 2 * (52608 + 3328)
    check_layers_against_engine(model, evaluate(str(path), 1.0, resolution=96, convention="keras"))


def test_cli_writes_a_model(tmp_path):
    out = tmp_path / "m.onnx"
    result = runner.invoke(app, ["onnx", str(TABLES / "mobilenet_v3_small.yaml"), "--alpha", "0.75",
                                 "--resolution", "96", "--seed", "2", "--fold-bn", "-o", str(out)])
    assert result.exit_code == 0, result.output
    model = onnx.load(str(out))
    onnx.checker.check_model(model, full_check=True)
    assert [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim] == [1, 3, 96, 96]


def test_cli_bad_input_is_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / "m.onnx"
    result = runner.invoke(app, ["onnx", "mobilenet_v2", "--alpha", "-1", "-o", str(out)])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("mobilecost: error:") and "--alpha" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_without_onnx_the_command_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # makes `import onnx` raise ImportError
    result = runner.invoke(app, ["onnx", "mobilenet_v1", "-o", str(tmp_path / "m.onnx")])
    assert result.exit_code == 2
    assert "pip install 'mobilecost[measure]'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_mobile_mqa_graph_computes_multi_query_attention():
    """The exported Mobile MQA block against attention written out in numpy: per head h,
    softmax(Q_h K^T / sqrt(d)) V over the key positions, with one key and one value head shared by all
    query heads (arXiv:2404.10518 Sec. 3.3); shapes and parameters as the engine counts them."""
    model = build_model("mobilenet_v4_hybrid_medium", 1.0, 224, seed=5)
    frame = evaluate("mobilenet_v4_hybrid_medium", 1.0, resolution=224, convention="keras")
    check_layers_against_engine(model, frame)
    assert parameter_count(model) == frame.attrs["totals"]["params"]
    block = frame.loc[frame["op"] == "attention_scores", "block"].iloc[0]
    names = [f"{block}.{part}" for part in ("query", "key", "value", "context")]
    for name in names:
        model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(2).normal(size=(1, 3, 224, 224)).astype(np.float32)
    q, k, v, context = session.run(names, {"input": x})
    heads, d = 4, 64  # the table's row: heads 4, key_dim 64
    side, kv_side = q.shape[-1], k.shape[-1]
    q = q.reshape(heads, d, side * side).astype(np.float64)
    k = k.reshape(d, kv_side * kv_side).astype(np.float64)
    v = v.reshape(d, kv_side * kv_side).astype(np.float64)
    expected = np.empty((heads, d, side * side))
    for h in range(heads):
        logits = q[h].T @ k / np.sqrt(d)  # (queries, keys)
        weights = np.exp(logits - logits.max(axis=1, keepdims=True))
        weights /= weights.sum(axis=1, keepdims=True)
        expected[h] = (weights @ v.T).T  # (d, queries)
    got = context.reshape(heads, d, side * side)
    assert np.abs(got - expected).max() <= 1e-3 * max(np.abs(expected).max(), 1.0)
