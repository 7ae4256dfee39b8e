"""Head tables: a backbone table tapped by reference, parallel branches and their joins.

Expected figures are derived by hand in the comments below, or frozen from torchvision
(tests/reference/torchvision_detection.csv, torchvision 0.29.1, generate_detection_counts.py)."""

import json
import textwrap

import pytest
from typer.testing import CliRunner

from mobilecost.api import evaluate, live_activations, sweep
from mobilecost.cli import app
from mobilecost.errors import MobilecostError
from mobilecost.spec.loader import load_variant

from conftest import REFERENCE, one_line_error, read_csv

runner = CliRunner()

BACKBONE = """\
name: tiny_backbone
title: Tiny backbone
source: hand-written test table
format: v1
input: {size: 8, channels: 3}
classes: 10
activation: relu
width: {rounding: truncate}
layers:
  - {type: conv,    s: 2, filter: 3x3x3x8,   input: 8x8x3, name: stem}
  - {type: conv dw, s: 1, filter: 3x3x8,     input: 4x4x8}
  - {type: conv,    s: 1, filter: 1x1x8x16,  input: 4x4x8}
  - {type: conv dw, s: 2, filter: 3x3x16,    input: 4x4x16}
  - {type: conv,    s: 1, filter: 1x1x16x16, input: 2x2x16}
  - {type: avg pool, input: 2x2x16}
  - {type: fc, filter: 16x10, input: 1x1x16}
"""

HEAD = """\
name: tiny_head
title: Tiny branching head
source: hand-written test table
format: head
backbone: {table: tiny_backbone.yaml, until: b2.pw}
head_widths: scaled
layers:
  - {name: up,   operator: upsample, from: [b2.pw, b1.pw]}
  - {name: mix,  operator: add, from: [b1.pw, up]}
  - {name: gp,   operator: pool, from: b2.pw}
  - {name: gate, operator: conv2d 1x1, out: 16, bias: ✓}
  - {name: mul,  operator: multiply, from: [mix, gate]}
  - {name: cat,  operator: concat, from: [mul, b1.pw]}
  - {name: pred, operator: conv2d 1x1, out: 5, bias: ✓}
  - {name: aux,  operator: conv2d 3x3, from: b2.pw, out: 4, bias: ✓}
"""


@pytest.fixture
def tiny(tmp_path):
    (tmp_path / "tiny_backbone.yaml").write_text(BACKBONE)
    path = tmp_path / "tiny_head.yaml"
    path.write_text(HEAD)
    return path


def write_head(tmp_path, rows: str, backbone: str = "{table: tiny_backbone.yaml, until: b2.pw}"):
    (tmp_path / "tiny_backbone.yaml").write_text(BACKBONE)
    path = tmp_path / "bad_head.yaml"
    path.write_text(HEAD.split("backbone:")[0] + f"backbone: {backbone}\nlayers:\n" + textwrap.dedent(rows))
    return path


def test_tiny_branching_table_counts_by_hand(tiny):
    frame = evaluate(str(tiny))
    by_name = {row["name"]: row for row in frame.to_dict("records")}
    # Backbone (v1 rows, 8x8x3 input, 'same' padding):
    #   stem 3x3 s2 3->8 on a 4x4 output: 216 weights, 16 * 216 = 3456 MACs
    #   b1.dw 3x3 on 8 channels, 4x4: 72 weights, 1152 MACs;  b1.pw 8->16, 4x4: 128 weights, 2048 MACs
    #   b2.dw 3x3 s2 on 16, 2x2: 144 weights, 576 MACs;       b2.pw 16->16, 2x2: 256 weights, 1024 MACs
    #   -> 816 weights, 8256 MACs, batch norm gamma/beta 2 * (8 + 8 + 16 + 16 + 16) = 128
    # Head:
    #   up: b2.pw (2x2x16) upsampled to b1.pw's side: 4x4x16, 256 element ops
    #   mix: b1.pw + up: 4x4x16, 256 adds;  gp: global pool of b2.pw: 1x1x16, 2 * 2 * 16 = 64 adds
    #   gate: 1x1 16->16 with bias: 256 weights, 16 biases, 256 MACs
    #   mul: mix (4x4x16) times gate (1x1x16, broadcast): 256 products;  cat: [mul, b1.pw] -> 4x4x32, no ops
    #   pred: 1x1 32->5 with bias on 4x4: 160 weights, 5 biases, 16 * 160 = 2560 MACs
    #   aux: 3x3 16->4 with bias on b2.pw (2x2): 576 weights, 4 biases, 4 * 576 = 2304 MACs
    expected = {"up": (4, 16, 0), "mix": (4, 16, 0), "gp": (1, 16, 0), "gate": (1, 16, 256), "mul": (4, 16, 0),
                "cat": (4, 32, 0), "pred": (4, 5, 2560), "aux": (2, 4, 2304)}
    for name, (side, channels, macs) in expected.items():
        assert (by_name[name]["out_side"], by_name[name]["out_ch"], by_name[name]["macs"]) == (side, channels, macs)
    assert [by_name[n]["ew_ops"] for n in ("up", "mix", "gp", "mul", "cat")] == [256, 256, 64, 256, 0]
    totals = frame.attrs["totals"]
    assert totals["macs"] == 8256 + 256 + 2560 + 2304 == 13376
    assert totals["weights"] == 816 + 256 + 160 + 576 == 1808
    assert totals["biases"] == 16 + 5 + 4 and totals["bn_affine"] == 128
    parts = frame.attrs["parts"]
    assert parts["backbone"] == {"layers": 5, "macs": 8256, "params": 816, "table": "tiny_backbone"}
    assert parts["head"] == {"layers": 8, "macs": 5120, "params": 992 + 25}


def test_tiny_branching_table_live_sets_follow_branches(tiny):
    # Elements: input 192, stem 128, b1.dw 128, b1.pw 256, b2.dw 64, b2.pw 64, up 256, mix 256, gp 16,
    # gate 16, mul 256, cat 512, pred 80, aux 16. b1.pw lives until cat (its last reader), b2.pw until aux,
    # and the outputs pred and aux (read by no layer) until the last step. At cat the live set is
    # b1.pw 256 + b2.pw 64 + mul 256 + cat 512 = 1088, the peak (at mul: 256 + 64 + 256 + 16 + 256 = 848).
    live = live_activations(str(tiny), dtype="fp32")
    steps = dict(zip([step.name for step in live.plan.steps], live.step_live))
    members = dict(zip([step.name for step in live.plan.steps], live.all_members))
    assert {t for t, _ in members["cat"]} == {"b1.pw", "b2.pw", "mul", "cat"}
    assert {t for t, _ in members["aux"]} == {"b2.pw", "pred", "aux"}
    assert steps["mul"] == 848 and steps["cat"] == 1088 and steps["pred"] == 64 + 512 + 80
    assert steps["aux"] == 64 + 80 + 16
    assert max(steps.values()) == 1088
    assert evaluate(str(tiny)).attrs["memory"]["peak_layer"] == "cat"


def test_tiny_head_validates_and_every_output_kind(tiny, tmp_path):
    result = runner.invoke(app, ["validate", str(tiny)])
    assert result.exit_code == 0 and "ok" in result.output, result.output
    report = json.loads(runner.invoke(app, ["report", str(tiny), "-f", "json"]).output)
    assert report["totals"]["macs"] == 13376 and report["parts"]["head"]["macs"] == 5120
    text = runner.invoke(app, ["report", str(tiny)]).output
    assert "backbone tiny_backbone: 8,256 MACs" in text
    # head_widths: scaled -- at alpha 0.5 the head's convolutions follow the backbone's truncation:
    # gate int(16 * 0.5) = 8 like mix, pred int(5 * 0.5) = 2.
    half = {row["name"]: row for row in evaluate(str(tiny), alpha=0.5).to_dict("records")}
    assert (half["gate"]["out_ch"], half["mix"]["out_ch"], half["pred"]["out_ch"]) == (8, 8, 2)
    grid = sweep(str(tiny), [0.5, 1.0], [8, 16])
    assert len(grid) == 4 and set(grid.loc[(grid["alpha"] == 1.0) & (grid["resolution"] == 8), "macs"]) == {13376}
    formula = runner.invoke(app, ["formula", str(tiny), "--metric", "macs"])
    assert formula.exit_code == 0, formula.output
    out = tmp_path / "out"
    out.mkdir()
    for fmt in ("csv", "json", "xlsx"):
        target = out / (f"book.{fmt}" if fmt == "xlsx" else fmt)
        result = runner.invoke(app, ["export", str(tiny), f"--{fmt}", str(target), "-r", "8,16", "-a", "0.5,1.0"])
        assert result.exit_code == 0, result.output
        assert target.exists(), fmt
    layers_csv = next((out / "csv").glob("layers_*.csv")).read_text()
    assert "mul," in layers_csv and "aux," in layers_csv


def test_a_join_the_rounded_widths_break_is_refused(tmp_path):
    # head_widths: fixed keeps the gate at 16 channels while the backbone's b1.pw (and so mix) has
    # int(16 * 0.5) = 8 at alpha 0.5: that network cannot be built, and is refused rather than counted.
    (tmp_path / "tiny_backbone.yaml").write_text(BACKBONE)
    path = tmp_path / "fixed_head.yaml"
    path.write_text(HEAD.replace("head_widths: scaled", "head_widths: fixed"))
    assert evaluate(str(path)).attrs["totals"]["macs"] == 13376
    refused = runner.invoke(app, ["report", str(path), "--alpha", "0.5"])
    assert refused.exit_code == 2
    assert "mul (multiply) cannot join 'gate' (1x1x16) and 'mix' (4x4x8) at alpha 0.5" in refused.stderr
    with pytest.raises(MobilecostError, match="cannot join"):
        sweep(str(path), [0.5, 1.0], [8])


@pytest.mark.parametrize("rows,fragments", [
    ("  - {name: cat, operator: concat, from: [b1.pw, b2.pw]}\n",
     ["bad_head.yaml:7", "from", "concat", "'b2.pw' (2x2x16) has another side than 'b1.pw' (4x4x16)"]),
    ("  - {name: x, operator: conv2d 1x1, from: b9.pw, out: 4}\n",
     ["bad_head.yaml:7", "from", "unknown layer 'b9.pw'"]),
    ("  - {name: x, operator: add, from: [b1.pw, y]}\n  - {name: y, operator: dwconv 3x3, from: x}\n",
     ["bad_head.yaml:7", "from", "unknown layer 'y'", "no cycles"]),
    ("  - {name: x, operator: conv2d 1x1, from: x, out: 4}\n", ["bad_head.yaml:7", "unknown layer 'x'"]),
    ("  - {name: x, operator: add, from: [b1.pw, b1.dw]}\n", ["bad_head.yaml:7", "has another width"]),
    ("  - {name: stem, operator: dwconv 3x3}\n", ["bad_head.yaml:7", "name", "already used by the backbone"]),
    ("  - {name: x, operator: concat, from: b1.pw}\n", ["bad_head.yaml:7", "from", "concat reads 2 to 64 inputs"]),
    ("  - {name: x, operator: conv3d 1x1}\n", ["bad_head.yaml:7", "operator"]),
    ("  - {name: x, operator: upsample, from: [b1.pw, b2.pw]}\n",
     ["bad_head.yaml:7", "from", "'b2.pw' (2x2x16) is smaller than 'b1.pw' (4x4x16)"]),
    ("  - {name: x, operator: upsample, from: b2.pw}\n", ["bad_head.yaml:7", "s", "one of the two"]),
])
def test_branching_mistakes_are_one_line_with_file_line_and_field(tmp_path, rows, fragments):
    path = write_head(tmp_path, rows)
    result = runner.invoke(app, ["report", str(path)])
    one_line_error(result, *fragments)


def test_backbone_mistakes(tmp_path):
    rows = "  - {name: x, operator: dwconv 3x3}\n"
    with pytest.raises(MobilecostError, match="has no layer 'b7.pw'"):
        evaluate(str(write_head(tmp_path, rows, "{table: tiny_backbone.yaml, until: b7.pw}")))
    with pytest.raises(MobilecostError, match="unknown semantics"):
        load_variant(str(write_head(tmp_path, rows, "{table: tiny_backbone.yaml, semantics: keras}")))
    with pytest.raises(MobilecostError, match="reduced_tail applies to a v3 table"):
        load_variant(str(write_head(tmp_path, rows, "{table: tiny_backbone.yaml, reduced_tail: 2}")))


def test_a_head_whose_backbone_leads_back_to_itself_is_one_line(tmp_path):
    rows = "  - {name: x, operator: dwconv 3x3}\n"
    path = write_head(tmp_path, rows, "{table: bad_head.yaml, until: b2.pw}")
    assert one_line_error(runner.invoke(app, ["validate", str(path)])) == (
        f"mobilecost: error: {path}:5: backbone.table: bad_head.yaml is a head table whose backbone leads back to "
        "this one; name a network table")
    other = tmp_path / "other_head.yaml"  # bad_head -> other_head -> bad_head
    other.write_text(path.read_text().replace("name: tiny_head", "name: other_head"))
    path.write_text(path.read_text().replace("table: bad_head.yaml", "table: other_head.yaml"))
    assert one_line_error(runner.invoke(app, ["report", str(path)])) == (
        f"mobilecost: error: {other}:5: backbone.table: bad_head.yaml is a head table whose backbone leads back to "
        "this one; name a network table")


@pytest.fixture(scope="module")
def torchvision_detection():
    return {int(row["resolution"]): row for row in read_csv(REFERENCE / "torchvision_detection.csv")}


@pytest.mark.parametrize("resolution", [320, 300])
def test_ssdlite320_mobilenet_v3_large_matches_torchvision(torchvision_detection, resolution):
    ref = {k: int(v) for k, v in torchvision_detection[resolution].items() if k != "variant"}
    frame = evaluate("ssdlite320_mobilenet_v3_large", resolution=resolution)
    totals = frame.attrs["totals"]
    for field in ("macs", "weights", "biases", "bn_affine", "bn_stats"):
        assert totals[field] == ref[field], field
    assert totals["weights"] + totals["biases"] + totals["bn_affine"] == ref["params"] == 3_440_060
    parts = frame.attrs["parts"]
    assert (parts["backbone"]["macs"], parts["head"]["macs"]) == (ref["backbone_macs"], ref["head_macs"])
    by_convention = evaluate("ssdlite320_mobilenet_v3_large", resolution=resolution, convention="torchvision")
    assert by_convention.attrs["parts"]["backbone"]["params"] == ref["backbone_params"]
    assert by_convention.attrs["parts"]["head"]["params"] == ref["head_params"]


def test_ssdlite_layers_match_torchvision_modules():
    # Every convolution of torchvision's model, in its execution order, against the table's layers.
    dump = json.loads((REFERENCE / "torchvision_detection_layers.json").read_text())
    modules = [m for m in dump["models"][0]["layers"]]
    frame = evaluate("ssdlite320_mobilenet_v3_large")
    convs = frame[frame["op"].isin(["conv", "pointwise", "depthwise"])]
    order = {"box": 0, "cls": 1}  # SSD runs the box regression head first, then the classification head
    ours = sorted(convs.to_dict("records"), key=lambda r: (r["name"][:3] in order, order.get(r["name"][:3], 0),
                                                            list(frame["name"]).index(r["name"])))
    assert [m["macs"] for m in modules] == [r["macs"] for r in ours]
    assert [m["output_shape"][1:] for m in modules] == [[r["out_ch"], r["out_side"], r["out_side"]] for r in ours]


def test_head_tables_export_to_onnx_and_run(tiny):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    import numpy as np

    from mobilecost.measure.onnx_graph import build_model, layer_shapes, parameter_count

    model = build_model(str(tiny), seed=1)
    frame = evaluate(str(tiny), convention="keras")  # weights, biases, BN gamma/beta and statistics
    assert parameter_count(model) == frame.attrs["totals"]["params"] == 1808 + 25 + 128 + 128
    shapes = layer_shapes(model)
    for row in frame.itertuples(index=False):
        assert shapes[row.name] == (1, int(row.out_ch), int(row.out_side), int(row.out_side)), row.name
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    outputs = session.run(None, {"input": np.zeros((1, 3, 8, 8), dtype=np.float32)})
    assert [o.name for o in session.get_outputs()] == ["pred", "aux"]
    assert [out.shape for out in outputs] == [(1, 5, 4, 4), (1, 4, 2, 2)]
    ssd = build_model("ssdlite320_mobilenet_v3_large", seed=1)
    assert len(ssd.graph.output) == 12
    assert parameter_count(ssd) == 3_399_816 + 7_300 + 32_944 + 32_944  # torchvision's, with BN statistics


def test_ssdlite_mobilenet_v2_against_the_papers_table_6():
    # arXiv:1801.04381 Table 6: SSDLite on MobileNetV2, 320x320: 0.8 B MAdds and 4.3 M parameters.
    frame = evaluate("ssdlite_mobilenet_v2")
    totals, parts = frame.attrs["totals"], frame.attrs["parts"]
    assert round(totals["macs"] / 1e9, 1) == 0.8
    # The backbone is the MobileNetV2 table tapped by reference: its layers up to last_conv, at 320
    # (10x10 after stride 32), which is the classifier network less its pooling and 1280 x 1000 classifier.
    whole = evaluate("mobilenet_v2", resolution=320)
    assert parts["backbone"]["macs"] == whole.attrs["totals"]["macs"] - 1280 * 1000
    # Parameters: 4.45 M (weights and biases) against the paper's 4.3 M, a residual of 3.5 % that the
    # paper's settings (Sec. 6.2) and the Object Detection API configuration do not explain.
    assert round(totals["params"] / 1e6, 2) == 4.45


def test_an_output_marked_in_the_table_lives_to_the_last_step(tmp_path):
    # mix is read by mul (step 9 of 13) but marked output: it stays live through aux, the last step
    # (64 + 80 + 16 + mix's 256 there).
    (tmp_path / "tiny_backbone.yaml").write_text(BACKBONE)
    path = tmp_path / "marked.yaml"
    path.write_text(HEAD.replace("{name: mix,  operator: add, from: [b1.pw, up]}",
                                 "{name: mix,  operator: add, from: [b1.pw, up], output: ✓}"))
    live = live_activations(str(path))
    steps = dict(zip([step.name for step in live.plan.steps], live.step_live))
    assert steps["aux"] == 64 + 80 + 16 + 256


def test_a_tapped_block_is_not_sliced():
    # MobileNetV2's SSDLite taps b14.expand (20x20x576 at 320): under the v2-sliced schedule that block
    # runs whole (the head reads its expanded tensor), and the tensor stays live for the head; b13 is sliced.
    live = live_activations("ssdlite_mobilenet_v2", schedule="v2-sliced")
    names = [step.name for step in live.plan.steps]
    assert "b13" in names and "b14.expand" in names and "b14" not in names
    members = dict(zip(names, live.all_members))
    assert "b14.expand" in {t for t, _ in members["b15"]} and "b14.expand" in {t for t, _ in members["extra4"]}


@pytest.mark.parametrize("header,fragments", [
    ("format: head\n", ["bad.yaml:4", "backbone", "a head table names its backbone"]),
    ("format: head\nbackbone: {table: tiny_backbone.yaml}\nwidth: {rounding: truncate}\n",
     ["bad.yaml:6", "width", "follows its backbone's width rules"]),
    ("format: head\nbackbone: {table: tiny_backbone.yaml, depth: 3}\n", ["bad.yaml:5", "backbone.depth", "unknown key"]),
    ("format: head\nbackbone: {table: tiny_head.yaml}\n", ["bad.yaml:5", "backbone.table", "itself a head table"]),
])
def test_head_header_mistakes(tiny, header, fragments):
    path = tiny.parent / "bad.yaml"
    path.write_text("name: bad\ntitle: Bad\nsource: test\n" + header + "layers:\n  - {operator: dwconv 3x3}\n")
    result = runner.invoke(app, ["validate", str(path)])
    one_line_error(result, *fragments)
