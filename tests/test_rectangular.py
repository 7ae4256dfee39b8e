"""Rectangular inputs (height x width): counted against torchvision at rectangles, and refused cleanly
when malformed.

Expected figures: tests/reference/torchvision_rectangular.csv and keras_rectangular.csv, frozen by
tests/reference/generate_rectangular_counts.py (torch 2.14.1, torchvision 0.29.1: forward hooks on a
1 x 3 x height x width input; Keras 3.15.1, numpy backend: MobileNet V1 built at input_shape=(H, W, 3),
its stride-2 convolutions padded bottom-right per axis)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mobilecost.api import evaluate, sweep
from mobilecost.cli import app
from mobilecost.errors import MobilecostError

REFERENCE = Path(__file__).parent / "reference"
TABLES = Path(__file__).parent.parent / "tables"


def _reference(name="torchvision_rectangular.csv"):
    with open(REFERENCE / name, encoding="utf-8") as handle:
        rows = list(csv.DictReader(line for line in handle if not line.startswith("#")))
    return [(r["variant"], float(r["alpha"]), int(r["height"]), int(r["width"]), int(r["params"]), int(r["macs"]))
            for r in rows]


REFERENCE_ROWS = _reference()
KERAS_ROWS = _reference("keras_rectangular.csv")


@pytest.mark.parametrize("variant,alpha,height,width,params,macs", REFERENCE_ROWS)
def test_torchvision_rectangular_macs_and_params(variant, alpha, height, width, params, macs):
    # V3's tables follow the paper's widths; torchvision's rounding below alpha 1 is its "torchvision" semantics.
    semantics = "torchvision" if variant.startswith("mobilenet_v3") else None
    frame = evaluate(variant, alpha, resolution=(height, width), semantics=semantics, convention="torchvision")
    assert frame.attrs["totals"]["macs"] == macs
    assert frame.attrs["totals"]["params"] == params
    assert (frame.attrs["height"], frame.attrs["width"]) == (height, width)


@pytest.mark.parametrize("variant,alpha,height,width,params,macs", KERAS_ROWS)
def test_keras_mobilenet_v1_rectangular(variant, alpha, height, width, params, macs):
    totals = evaluate(variant, alpha, resolution=f"{height}x{width}", semantics="keras",
                      convention="keras").attrs["totals"]
    assert (totals["macs"], totals["params"]) == (macs, params)


def test_reference_covers_both_orientations():
    shapes = {(h, w) for _, _, h, w, _, _ in REFERENCE_ROWS}
    assert {(240, 320), (320, 240)} <= shapes


def test_sweep_of_pairs_matches_reference():
    """A sweep over 240x320 and 512x1024 (different aspect) is refused; one over a shape and its double is not."""
    want = {(h, w): m for v, a, h, w, _, m in REFERENCE_ROWS if v == "mobilenet_v2" and a == 1.0}
    frame = sweep("mobilenet_v2", [1.0], resolutions=[(240, 320), (480, 640)])
    assert list(frame["height"]) == [240, 480] and list(frame["width"]) == [240 * 4 // 3, 640]
    assert int(frame["macs"].iloc[0]) == want[(240, 320)]
    assert "resolution" not in frame.columns
    with pytest.raises(MobilecostError, match="share their aspect ratio"):
        sweep("mobilenet_v2", [1.0], resolutions=[(240, 320), (512, 1024)])


def test_square_pair_is_the_square_side():
    square = evaluate("mobilenet_v1", resolution=192).attrs
    pair = evaluate("mobilenet_v1", resolution="192x192").attrs
    assert pair["totals"] == square["totals"] and "width" not in pair


def v2_240x320(tmp_path) -> Path:
    """MobileNetV2's table stating input {height: 240, width: 320}, its rows' sides the heights."""
    text = (TABLES / "mobilenet_v2.yaml").read_text()
    text = text.replace("input: {size: 224, channels: 3}", "input: {height: 240, width: 320, channels: 3}")
    for old, new in (("224^2", "240^2"), ("112^2", "120^2"), ("56^2", "60^2"), ("28^2", "30^2"), ("14^2", "15^2"),
                     ("7^2", "8^2")):
        text = text.replace(f"input: {old}", f"input: {new}")
    path = tmp_path / "v2_240x320.yaml"
    path.write_text(text)
    return path


def test_a_rectangular_table_scales_both_sides_with_rho(tmp_path):
    """A table stating input {height: 240, width: 320}: rho 1 is torchvision's 240x320, and rho 2
    doubles both sides (the rows' input column states each map's height as its side)."""
    path = v2_240x320(tmp_path)
    want = {(h, w): m for v, a, h, w, _, m in REFERENCE_ROWS if v == "mobilenet_v2" and a == 1.0}
    at_one = evaluate(str(path)).attrs
    assert (at_one["height"], at_one["width"], at_one["totals"]["macs"]) == (240, 320, want[(240, 320)])
    doubled = evaluate(str(path), rho=2.0).attrs
    assert (doubled["height"], doubled["width"]) == (480, 640)
    assert doubled["totals"]["macs"] == evaluate("mobilenet_v2", resolution="480x640").attrs["totals"]["macs"]


@pytest.mark.parametrize("given", ["0x5", "5x", "axb", "1e9x1e9", "240x", "x320", "240x320x3"])
def test_bad_shapes_are_one_line_exit_2(given):
    result = CliRunner().invoke(app, ["report", "mobilenet_v2", "--resolution", given])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1 and "--resolution" in result.output


def test_report_json_and_csv_name_both_sides():
    runner = CliRunner()
    doc = json.loads(runner.invoke(app, ["report", "mobilenet_v3_large", "-r", "97x225", "-f", "json"]).stdout)
    assert (doc["height"], doc["width"]) == (97, 225)
    # conv stem, stride 2, 'same' padding: ceil(97/2) x ceil(225/2)
    assert (doc["layers"][0]["out_side"], doc["layers"][0]["out_width"]) == (49, 113)
    header = runner.invoke(app, ["report", "mobilenet_v2", "-r", "240x320", "-f", "csv"]).stdout.splitlines()[0]
    assert header.startswith("name,op,kernel,stride,in_side,in_width,in_ch,out_side,out_width,out_ch,")
    square = runner.invoke(app, ["report", "mobilenet_v2", "-f", "csv"]).stdout.splitlines()[0]
    assert "width" not in square


def _v2_240x320_macs():
    return next(m for v, a, h, w, _, m in REFERENCE_ROWS if (v, a, h, w) == ("mobilenet_v2", 1.0, 240, 320))


def test_memory_latency_and_check_take_hxw():
    runner = CliRunner()
    memory = runner.invoke(app, ["memory", "mobilenet_v2", "-r", "240x320"])
    assert memory.exit_code == 0 and "input 240x320" in memory.stdout
    # the first step holds the 240 x 320 x 3 input and conv1's ceil(240/2) x ceil(320/2) x 32 output
    assert "input 230,400, conv1 614,400" in memory.stdout
    latency = json.loads(runner.invoke(app, ["latency", "mobilenet_v2", "-d", "pixel4_a76_tflite_fp32_1t",
                                             "-r", "240x320", "-f", "json"]).stdout)
    assert (latency["height"], latency["width"], latency["totals"]["macs"]) == (240, 320, _v2_240x320_macs())
    within = runner.invoke(app, ["check", "mobilenet_v2", "-r", "240x320", "--max-macs", "468M"])
    assert within.exit_code == 0 and "at 240x320" in within.output
    over = runner.invoke(app, ["check", "mobilenet_v2", "-r", "240x320", "--max-macs", "467M"])
    assert over.exit_code == 1


def test_export_csv_json_xlsx_take_hxw(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    result = CliRunner().invoke(app, ["export", "mobilenet_v2", "-a", "1", "-r", "240x320,480x640",
                                      "--csv", str(tmp_path / "csv"), "--json", str(tmp_path / "r.json"),
                                      "--xlsx", str(tmp_path / "r.xlsx")])
    assert result.exit_code == 0, result.output
    summary = (tmp_path / "csv" / "summary.csv").read_text().splitlines()
    assert summary[0].startswith("variant,alpha,rho,height,width,macs,")
    assert summary[1].startswith(f"mobilenet_v2,1.0,1.0,240,320,{_v2_240x320_macs()},")
    layers = json.loads((tmp_path / "r.json").read_text())["layers"]["mobilenet_v2"]["layers"]
    assert (layers[0]["in_side"], layers[0]["in_width"], layers[0]["out_width"]) == (240, 320, 160)
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx")["mobilenet_v2"]
    assert sheet["A4"].value == "input height (pixels)" and sheet["B4"].value == 240


def test_square_only_outputs_refuse_hxw():
    pytest.importorskip("onnx")
    runner = CliRunner()
    onnx = runner.invoke(app, ["onnx", "mobilenet_v2", "-r", "240x320", "-o", "unused.onnx"])
    assert onnx.exit_code == 2 and "square inputs only" in onnx.output
    measure = runner.invoke(app, ["measure", "mobilenet_v2", "-r", "240x320"])
    assert measure.exit_code == 2 and "square inputs only" in measure.output


def test_explain_and_review_page_refuse_rectangles(tmp_path):
    runner = CliRunner()
    explained = runner.invoke(app, ["explain", "mobilenet_v2", "-r", "240x320"])
    assert explained.exit_code == 2 and "square inputs" in explained.output
    text = (TABLES / "mobilenet_v1.yaml").read_text().replace("input: {size: 224, channels: 3}",
                                                             "input: {height: 224, width: 320, channels: 3}")
    path = tmp_path / "v1_rect.yaml"
    path.write_text(text)
    page = runner.invoke(app, ["export", str(path), "--html", str(tmp_path / "p.html")])
    assert page.exit_code == 2 and "rectangular input" in page.output
    assert not (tmp_path / "p.html").exists()


def test_table_input_height_and_size_must_agree(tmp_path):
    text = (TABLES / "mobilenet_v1.yaml").read_text().replace("input: {size: 224, channels: 3}",
                                                             "input: {size: 224, height: 240, channels: 3}")
    path = tmp_path / "v1_both.yaml"
    path.write_text(text)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and "size or height" in result.output
    assert len(result.output.strip().splitlines()) <= 2 and "Traceback" not in result.output


def test_a_side_on_a_rectangular_table_is_a_square_input_in_sweep_and_export_as_in_report(tmp_path):
    """`-r 97` on a table whose input is 224x320 names a 97x97 input in report, latency, memory and check.
    sweep and export once read it as a height, counted 97x139 and wrote it as 'resolution 97': the workbook
    and CSV disagreed with report for the same words. Expected: Keras Applications' MobileNetV2 at alpha 0.35,
    97x97 and 33x33 (tests/reference/keras_applications.csv)."""
    want = {(float(a), int(r)): int(m) for v, a, r, m in
            (line.split(",")[:3] + [line.split(",")[5]] for line in
             (REFERENCE / "keras_applications.csv").read_text().splitlines()[1:]) if v == "mobilenet_v2"}
    assert (want[(0.35, 97)], want[(0.35, 33)]) == (15426096, 3882480)
    path = tmp_path / "v2_224x320.yaml"
    path.write_text((TABLES / "mobilenet_v2.yaml").read_text().replace(
        "input: {size: 224, channels: 3}", "input: {height: 224, width: 320, channels: 3}"))
    frame = sweep(str(path), [0.35], resolutions=[97, 33])
    assert "height" not in frame.columns and list(frame["resolution"]) == [97, 33]
    assert list(frame["macs"]) == [want[(0.35, 97)], want[(0.35, 33)]]
    assert evaluate(str(path), 0.35, resolution=97).attrs["totals"]["macs"] == want[(0.35, 97)]
    result = CliRunner().invoke(app, ["export", str(path), "-a", "0.35", "-r", "97,33", "--csv", str(tmp_path / "csv"),
                                      "--json", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    rows = (tmp_path / "csv" / "summary.csv").read_text().splitlines()
    assert rows[0].startswith("variant,alpha,rho,resolution,macs,")
    assert [row.split(",")[3:5] for row in rows[1:]] == [["97", "15426096"], ["33", "3882480"]]
    layers = json.loads((tmp_path / "r.json").read_text())["layers"]["mobilenet_v2"]["layers"]
    assert (layers[0]["in_side"], "in_width" in layers[0]) == (97, False)
    # A rho keeps the table's aspect: both sides named.
    assert list(sweep(str(path), [0.35], rhos=[0.5])[["height", "width"]].iloc[0]) == [112, 160]


def test_without_a_side_sweep_and_export_count_a_rectangular_table_at_its_own_input(tmp_path):
    """Given no -r, report counts a table's own input; so do sweep and export on a rectangular table (on a square
    one they take 224, as ever). Expected: torchvision's MobileNetV2 at 240x320 (torchvision_rectangular.csv)."""
    want = {(h, w): m for v, a, h, w, _, m in REFERENCE_ROWS if v == "mobilenet_v2" and a == 1.0}[(240, 320)]
    assert want == 467729920
    path = v2_240x320(tmp_path)
    runner = CliRunner()
    swept = runner.invoke(app, ["sweep", str(path), "-a", "1.0", "-f", "csv"])
    assert swept.exit_code == 0, swept.output
    rows = list(csv.DictReader(swept.stdout.splitlines()))
    assert [(r["height"], r["width"], r["macs"]) for r in rows] == [("240", "320", str(want))]
    exported = runner.invoke(app, ["export", str(path), "--csv", str(tmp_path / "csv")])
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader((tmp_path / "csv" / "summary.csv").read_text().splitlines()))
    assert [(r["height"], r["width"], r["macs"]) for r in rows] == [("240", "320", str(want))]
    square = runner.invoke(app, ["sweep", "ssdlite320_mobilenet_v3_large", "-a", "1.0", "-f", "csv"])
    assert [r["resolution"] for r in csv.DictReader(square.stdout.splitlines())] == ["224"]
