"""Segmentation heads on MobileNetV3: LR-ASPP and DeepLabv3 as torchvision builds them.

Expected figures are frozen from torchvision 0.29.1 (tests/reference/torchvision_segmentation.csv and
torchvision_segmentation_layers.json, written by generate_segmentation_counts.py), or derived by hand
in the comments below."""

import json

import pytest
from typer.testing import CliRunner

from mobilecost.api import evaluate, sweep
from mobilecost.cli import app

from conftest import REFERENCE, one_line_error, read_csv

runner = CliRunner()
SEGMENTERS = ("lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_small")
# The same heads on the backbone at output stride 8 (torchvision's parts, see generate_segmentation_counts.py).
OUTPUT_STRIDE_8 = ("lraspp_mobilenet_v3_large_os8", "deeplabv3_mobilenet_v3_large_os8", "lraspp_mobilenet_v3_small_os8")
TABLES = REFERENCE.parent.parent / "tables"


@pytest.fixture(scope="module")
def torchvision_segmentation():
    return {(row["variant"], float(row["alpha"]), int(row["resolution"])): row
            for row in read_csv(REFERENCE / "torchvision_segmentation.csv")}


def table_of(variant, tmp_path):
    """A shipped table, or for ..._reduced_tail the V3-Small one with `reduced_tail: 2` in its backbone."""
    if not variant.endswith("_reduced_tail"):
        return variant
    text = (TABLES / "lraspp_mobilenet_v3_small.yaml").read_text()
    assert "output_stride: 16}" in text
    path = tmp_path / f"{variant}.yaml"
    path.write_text(text.replace("output_stride: 16}", "output_stride: 16, reduced_tail: 2}"))
    return str(path)


@pytest.mark.parametrize("variant", [*SEGMENTERS, "lraspp_mobilenet_v3_small_reduced_tail", *OUTPUT_STRIDE_8])
@pytest.mark.parametrize("alpha,resolution", [(1.0, 512), (1.0, 520), (1.0, 224), (0.75, 512)])
def test_segmenters_match_torchvision(torchvision_segmentation, variant, alpha, resolution, tmp_path):
    ref = {k: int(v) for k, v in torchvision_segmentation[(variant, alpha, resolution)].items()
           if k not in ("variant", "alpha")}
    variant = table_of(variant, tmp_path)
    frame = evaluate(variant, alpha=alpha, resolution=resolution)
    totals = frame.attrs["totals"]
    for field in ("macs", "weights", "biases", "bn_affine", "bn_stats"):
        assert totals[field] == ref[field], field
    assert totals["weights"] + totals["biases"] + totals["bn_affine"] == ref["params"]
    parts = frame.attrs["parts"]
    assert (parts["backbone"]["macs"], parts["head"]["macs"]) == (ref["backbone_macs"], ref["head_macs"])
    by_convention = evaluate(variant, alpha=alpha, resolution=resolution, convention="torchvision")
    assert by_convention.attrs["totals"]["params"] == ref["params"]
    assert by_convention.attrs["parts"]["backbone"]["params"] == ref["backbone_params"]
    assert by_convention.attrs["parts"]["head"]["params"] == ref["head_params"]


def test_the_published_weights_parameter_counts():
    # torchvision's weights metadata: LRASPP_MobileNet_V3_Large_Weights num_params 3,221,538 (the
    # same network as weights=None); DeepLabV3_MobileNet_V3_Large_Weights 11,029,328, which includes
    # the auxiliary FCNHead on the 40-channel stride-8 tap the table leaves out: 3x3 40->10 (3,600),
    # BN 10 (20), 1x1 10->21 with bias (231): 3,851 = 11,029,328 - 11,025,477.
    lraspp = evaluate("lraspp_mobilenet_v3_large", convention="torchvision").attrs["totals"]["params"]
    deeplab = evaluate("deeplabv3_mobilenet_v3_large", convention="torchvision").attrs["totals"]["params"]
    assert lraspp == 3_221_538
    assert deeplab + 40 * 10 * 9 + 2 * 10 + 10 * 21 + 21 == 11_029_328
    # Their `_ops` (G, at 520, the size of their transforms): LR-ASPP 2.086; DeepLabv3 10.452 with the
    # auxiliary head on the 65x65x40 tap: 65*65*9*40*10 + 65*65*10*21 = 16,097,250 MACs.
    assert round(evaluate("lraspp_mobilenet_v3_large", resolution=520).attrs["totals"]["macs"] / 1e9, 3) == 2.086
    deeplab_macs = evaluate("deeplabv3_mobilenet_v3_large", resolution=520).attrs["totals"]["macs"]
    assert round((deeplab_macs + 65 * 65 * 9 * 40 * 10 + 65 * 65 * 10 * 21) / 1e9, 3) == 10.452


@pytest.mark.parametrize("variant", [*SEGMENTERS, "lraspp_mobilenet_v3_small_reduced_tail", *OUTPUT_STRIDE_8])
def test_segmenter_layers_match_torchvision_modules(variant, tmp_path):
    # Every convolution of torchvision's model, in its execution order, against the table's layers.
    dump = json.loads((REFERENCE / "torchvision_segmentation_layers.json").read_text())
    model = next(m for m in dump["models"] if (m["variant"], m["alpha"], m["resolution"]) == (variant, 1.0, 512))
    frame = evaluate(table_of(variant, tmp_path))
    convs = frame[frame["op"].isin(["conv", "pointwise", "depthwise"])].to_dict("records")
    assert [m["macs"] for m in model["layers"]] == [r["macs"] for r in convs]
    assert [m["output_shape"][1:] for m in model["layers"]] == [[r["out_ch"], r["out_side"], r["out_side"]]
                                                               for r in convs]


def test_lraspp_taps_and_head_by_hand():
    rows = {row["name"]: row for row in evaluate("lraspp_mobilenet_v3_large").to_dict("records")}
    # At 512 with output stride 16: the low tap b4.project is 64x64x40 (stride 8), the high tap
    # last_conv 32x32x960 (the last stage dilated, not strided).
    assert (rows["b4.project"]["out_side"], rows["b4.project"]["out_ch"]) == (64, 40)
    assert (rows["last_conv"]["out_side"], rows["last_conv"]["out_ch"]) == (32, 960)
    # cbr 1x1 960->128 on 32x32: 32*32*960*128 = 125,829,120 MACs; the gate's 1x1 on the pooled 1x1x960:
    # 960*128 = 122,880 MACs; classifiers 1x1 with bias on 64x64: 40*21 and 128*21 per pixel.
    assert rows["cbr"]["macs"] == 125_829_120 and rows["scale"]["macs"] == 122_880
    assert rows["low_classifier"]["macs"] == 64 * 64 * 40 * 21
    assert rows["high_classifier"]["macs"] == 64 * 64 * 128 * 21
    # The sigmoid gate, the product, the sum and the upsamplings are element-wise work, not MACs:
    # one per output element for the product (32*32*128) and the sum (64*64*21).
    for name in ("gated", "gated_up", "logits", "out"):
        assert rows[name]["macs"] == 0, name
    assert rows["gated"]["ew_ops"] == 32 * 32 * 128 and rows["logits"]["ew_ops"] == 64 * 64 * 21
    assert (rows["gated_up"]["out_side"], rows["out"]["out_side"], rows["out"]["out_ch"]) == (64, 512, 21)


def test_atrous_head_rows_count_as_plain_convolutions_and_keep_the_side():
    rows = {row["name"]: row for row in evaluate("deeplabv3_mobilenet_v3_large").to_dict("records")}
    # A 3x3 at dilation 12, 24 or 36 on 32x32x960 to 256 (padding = dilation): side kept,
    # 32*32*9*960*256 = 2,264,924,160 MACs each, whatever the rate.
    for rate in (12, 24, 36):
        row = rows[f"aspp_rate{rate}"]
        assert (row["out_side"], row["macs"]) == (32, 2_264_924_160), rate
    # The concatenation of five 256-channel branches: 1280 channels, no arithmetic.
    assert (rows["aspp_concat"]["out_ch"], rows["aspp_concat"]["macs"]) == (1280, 0)
    assert rows["aspp_project"]["macs"] == 32 * 32 * 1280 * 256


def test_backbone_output_stride_is_the_dilated_backbone(tmp_path):
    # Without backbone.output_stride the same table reads MobileNetV3-Large at output stride 32:
    # last_conv is 16x16 at 512, and the stage after stride 16 has its depthwise convolutions strided.
    text = (TABLES / "lraspp_mobilenet_v3_large.yaml").read_text()
    plain = tmp_path / "lraspp_os32.yaml"
    plain.write_text(text.replace(", output_stride: 16}", "}"))
    rows = {row["name"]: row for row in evaluate(str(plain)).to_dict("records")}
    assert rows["last_conv"]["out_side"] == 16
    dilated = {row["name"]: row for row in evaluate("lraspp_mobilenet_v3_large").to_dict("records")}
    # The 5x5 depthwise of the block that would bring stride 32 (b13.dw, 672 channels) runs at stride 1:
    # 32*32*25*672 MACs instead of 16*16*25*672.
    assert dilated["b13.dw"]["macs"] == 32 * 32 * 25 * 672 and rows["b13.dw"]["macs"] == 16 * 16 * 25 * 672


def test_output_stride_8_by_hand():
    rows = {row["name"]: row for row in evaluate("lraspp_mobilenet_v3_large_os8").to_dict("records")}
    # At 512 and output stride 8 both taps are 64x64: b4.project (40 channels) and last_conv (960); the
    # 3x3 depthwise of b7 (240 channels), strided at output stride 16, runs at stride 1:
    # 64*64*9*240 MACs; cbr 1x1 960->128 on 64x64; the gated product is already at the low tap's side.
    assert (rows["last_conv"]["out_side"], rows["b4.project"]["out_side"]) == (64, 64)
    assert rows["b7.dw"]["macs"] == 64 * 64 * 9 * 240
    assert rows["cbr"]["macs"] == 64 * 64 * 960 * 128
    assert rows["gated_up"]["out_side"] == 64
    deeplab = {row["name"]: row for row in evaluate("deeplabv3_mobilenet_v3_large_os8").to_dict("records")}
    assert deeplab["aspp_rate12"]["macs"] == 64 * 64 * 9 * 960 * 256  # four times the output stride 16 count
    # V3-Small: both taps 64x64 too, b2.project (24 channels) and last_conv (576); the 5x5 depthwise of b4
    # (96 channels), the first strided block after stride 8, runs at stride 1: 64*64*25*96 MACs (32*32*25*96
    # at output stride 16), and b9's (288 channels, strided only at output stride 32) on 64x64 as well.
    small = {row["name"]: row for row in evaluate("lraspp_mobilenet_v3_small_os8").to_dict("records")}
    assert (small["last_conv"]["out_side"], small["b2.project"]["out_side"]) == (64, 64)
    assert small["b4.dw"]["macs"] == 64 * 64 * 25 * 96 and small["b9.dw"]["macs"] == 64 * 64 * 25 * 288
    assert small["cbr"]["macs"] == 64 * 64 * 576 * 128
    assert small["gated_up"]["out_side"] == 64


@pytest.mark.parametrize("edit,fragments", [
    (("output_stride: 16}", "output_stride: 12}"),
     ["lraspp_mobilenet_v3_large.yaml:", "backbone.output_stride", "not a product of the table's strides"]),
    (("output_stride: 16}", "output_stride: 0}"), ["lraspp_mobilenet_v3_large.yaml:", "backbone.output_stride"]),
    (("operator: multiply, from: [cbr, scale]}", "operator: multiply, from: [cbr, scale], dilation: 2}"),
     ["lraspp_mobilenet_v3_large.yaml:", "dilation", "applies to conv2d and dwconv rows, not multiply"]),
    (("operator: conv2d 1x1, out: 128, nl: sigmoid}", "operator: conv2d 1x1, out: 128, nl: sigmoid, dilation: 0}"),
     ["lraspp_mobilenet_v3_large.yaml:", "dilation"]),
])
def test_segmentation_mistakes_are_one_line(tmp_path, edit, fragments):
    text = (TABLES / "lraspp_mobilenet_v3_large.yaml").read_text()
    assert edit[0] in text
    path = tmp_path / "lraspp_mobilenet_v3_large.yaml"
    path.write_text(text.replace(edit[0], edit[1]))
    result = runner.invoke(app, ["report", str(path)])
    one_line_error(result, *fragments)


@pytest.mark.parametrize("variant", SEGMENTERS)
def test_every_output_kind_handles_a_segmenter(torchvision_segmentation, variant, tmp_path):
    result = runner.invoke(app, ["validate", variant])
    assert result.exit_code == 0 and "ok" in result.output, result.output
    report = json.loads(runner.invoke(app, ["report", variant, "-r", "224", "-f", "json"]).output)
    backbone = "mobilenet_v3_small" if variant.endswith("small") else "mobilenet_v3_large"
    macs = int(torchvision_segmentation[(variant, 1.0, 224)]["backbone_macs"])
    assert report["parts"]["backbone"] == {**report["parts"]["backbone"], "table": backbone, "macs": macs}
    text = runner.invoke(app, ["report", variant, "-r", "224"]).output
    assert f"backbone {backbone}: {macs:,} MACs" in text, text
    grid = sweep(variant, [0.75, 1.0], [224, 512])
    assert len(grid) == 4
    memory = runner.invoke(app, ["memory", variant, "-r", "224", "-f", "json"])
    assert memory.exit_code == 0, memory.output
    # The peak is at the last upsampling, which takes its side from the input (torchvision's forward
    # holds the input to the end for input.shape[-2:]): the input 3*224*224 = 150,528, the logits it
    # reads (LR-ASPP's at stride 8: 28*28*21 = 16,464; DeepLabv3's at stride 16: 14*14*21 = 4,116) and
    # the full-size output 224*224*21 = 1,053,696 elements.
    logits = 16_464 if variant.startswith("lraspp") else 4_116
    assert report["memory"]["peak_layer"] == "out"
    assert report["memory"]["act_peak_bytes"] == 4 * (150_528 + logits + 1_053_696)
    formula = runner.invoke(app, ["formula", variant, "--metric", "macs"])
    assert formula.exit_code == 0 and "alpha" in formula.output, formula.output
    latency = runner.invoke(app, ["latency", variant, "-r", "224", "-d", "pixel4_a76_tflite_fp32_1t"])
    assert latency.exit_code == 0, latency.output
    out = tmp_path / "out"
    out.mkdir()
    for fmt in ("csv", "json", "xlsx"):
        target = out / (f"book.{fmt}" if fmt == "xlsx" else fmt)
        result = runner.invoke(app, ["export", variant, f"--{fmt}", str(target), "-r", "224,512", "-a", "0.75,1.0"])
        assert result.exit_code == 0, result.output
        assert target.exists(), fmt
    figure = tmp_path / "layers.png"
    result = runner.invoke(app, ["plot", "layers", variant, "-r", "224", "-o", str(figure)])
    assert result.exit_code == 0 and figure.stat().st_size > 0, result.output


@pytest.mark.parametrize("variant", SEGMENTERS)
def test_segmenters_export_to_onnx_and_run(variant):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    import numpy as np

    from mobilecost.measure.onnx_graph import build_model, layer_shapes, parameter_count

    model = build_model(variant, resolution=224, seed=1)
    frame = evaluate(variant, resolution=224, convention="keras")  # with BN statistics
    assert parameter_count(model) == frame.attrs["totals"]["params"]
    shapes = layer_shapes(model)
    for row in frame.itertuples(index=False):
        assert shapes[row.name] == (1, int(row.out_ch), int(row.out_side), int(row.out_side)), row.name
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    outputs = session.run(None, {"input": np.zeros((1, 3, 224, 224), dtype=np.float32)})
    assert [o.name for o in session.get_outputs()] == ["out"] and outputs[0].shape == (1, 21, 224, 224)
