"""The papers' detection and segmentation tables: published rows, the head tables that count them, and the
reconciliation of the figures that differ. Expected counts are derived by hand below."""

import csv
import json

import pytest
from typer.testing import CliRunner

from mobilecost.analysis.explain import explain
from mobilecost.analysis.papers import paper_tables
from mobilecost.analysis.published import published_head_rows
from mobilecost.cli import app
from mobilecost.spec.files import list_variants
from mobilecost.spec.loader import load_variant, with_backbone

runner = CliRunner()


def _report(variant, *args):
    result = runner.invoke(app, ["report", variant, "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _row(frame, table, row, metric):
    hit = frame[(frame["table"] == table) & (frame["row"] == row) & (frame["metric"] == metric)]
    assert len(hit) == 1, (table, row, metric)
    return hit.iloc[0]


def test_every_published_head_row_has_its_source_and_a_shipped_table_or_none():
    rows = published_head_rows()
    assert {(h.paper, h.table) for h in rows} == {("mobilenet_v2", "Table 6"), ("mobilenet_v2", "Table 7"),
                                                 ("mobilenet_v3", "Table 6"), ("mobilenet_v3", "Table 7"),
                                                 ("mobilenet_v3", "Table 8")}
    for h in rows:
        arxiv = {"mobilenet_v2": "arXiv:1801.04381", "mobilenet_v3": "arXiv:1905.02244"}[h.paper]
        assert h.figure.source.startswith(arxiv) and h.figure.source.endswith(h.table)
        assert h.variant is None or h.variant in list_variants()
    # The papers' headline figures, as printed (MobileNetV2 Table 6; MobileNetV3 Table 6, V3 with the reduction).
    v2 = next(h for h in rows if h.paper == "mobilenet_v2" and h.row == "MNetV2 + SSDLite")
    assert (v2.figure.params_printed, v2.figure.macs_printed) == ("4.3", "0.8")
    v3 = next(h for h in rows if h.paper == "mobilenet_v3" and h.row == "V3†")
    assert (v3.figure.params_printed, v3.figure.macs_printed) == ("3.22", "0.51")


def _ssdlite_head(c4, c4_side, c5, c5_side, classes):
    """SSDLite's extra layers and predictors (arXiv:1801.04381 Sec. 6.2, TF Object Detection API settings),
    weights + biases (BN folded) and MACs, by hand: each weight times the output pixels it is applied at."""
    params = macs = 0

    def conv(c_in, c_out, side, bias=False):
        nonlocal params, macs
        params += c_in * c_out + (c_out if bias else 0)
        macs += c_in * c_out * side * side

    def dw(c, side):
        nonlocal params, macs
        params += 9 * c
        macs += 9 * c * side * side

    maps = [(c4, c4_side, 3), (c5, c5_side, 6)]
    c, side = c5, c5_side
    for depth in (512, 256, 256, 128):  # 1x1 to half the depth, 3x3 depthwise stride 2, 1x1 to the depth
        conv(c, depth // 2, side)
        side = (side + 1) // 2
        dw(depth // 2, side)
        conv(depth // 2, depth, side)
        c = depth
        maps.append((c, side, 6))
    for c, side, anchors in maps:  # box (4 offsets) and class scores, each after its own 3x3 depthwise
        for per_anchor in (4, classes):
            dw(c, side)
            conv(c, per_anchor * anchors, side, bias=True)
    return params, macs


def test_ssdlite_v3_small_head_by_hand():
    # Reduced tail: C4 = b9.expand, 288 channels at 20x20 (6 x 48 inputs); C5 = last_conv, 576 / 2 = 288 at 10x10.
    parts = _report("ssdlite_mobilenet_v3_small")["parts"]
    assert (parts["head"]["params"], parts["head"]["macs"]) == _ssdlite_head(288, 20, 288, 10, 90)


def test_ssdlite_v3_large_head_by_hand():
    # Reduced tail: C4 = b13.expand, 672 channels at 20x20 (6 x 112); C5 = last_conv, 960 / 2 = 480 at 10x10.
    parts = _report("ssdlite_mobilenet_v3_large")["parts"]
    assert (parts["head"]["params"], parts["head"]["macs"]) == _ssdlite_head(672, 20, 480, 10, 90)


def test_mobile_deeplabv3_head_by_hand():
    # MNet V2*, output stride 16 at 513: b17.project is 33x33x320. 1x1 to 256, image pooling (1x1 to 256 on the
    # pooled 1x1 map), projection of the 512 concatenated channels to 256, classifier 256 -> 21 with bias.
    parts = _report("mobile_deeplabv3_mobilenet_v2")["parts"]
    assert parts["head"]["params"] == 320 * 256 + 320 * 256 + 512 * 256 + 256 * 21 + 21
    assert parts["head"]["macs"] == 33 * 33 * (320 * 256 + 512 * 256 + 256 * 21) + 320 * 256


def test_v2_ssdlite_parameters_reconciled_by_80_coco_classes():
    walks = {(w.figure.label, w.metric): w for w in explain("ssdlite_mobilenet_v2").walks}
    params = walks["MNetV2 + SSDLite (mobilenet_v2 Table 6)", "params"]
    assert params.matched and "80 object classes and background" in params.reading.name
    # 91 -> 81 scores per anchor: 10 x (sum over the six maps of anchors x (channels + 1)), by hand.
    by_hand = 10 * (3 * 577 + 6 * 1281 + 6 * 513 + 6 * 257 + 6 * 257 + 6 * 129)
    assert params.reading.steps[0].delta == -by_hand == -163_530
    assert walks["MNetV2 + SSDLite (mobilenet_v2 Table 6)", "macs"].matched


def test_mobile_deeplabv3_reconciled():
    walks = {w.metric: w for w in explain("mobile_deeplabv3_mobilenet_v2").walks}
    assert walks["params"].matched and "BN gamma/beta" in walks["params"].reading.name  # 2,113,557: 2.11 M
    assert walks["params"].reading.value == 2_113_557


def test_paper_v3_prints_each_published_row_beside_the_count():
    frame = paper_tables("mobilenet_v3")
    # Table 6 without the reduced tail: V3-Small's MACs print as the paper's 0.21 B.
    small = _row(frame, "mobilenet_v3 Table 6", "V3-Small 320x320", "macs_B")
    assert small.published == 0.21 and "residual" not in small.note
    # A row no table counts is published only.
    mnas = _row(frame, "mobilenet_v3 Table 6", "MnasNet 320x320", "params_M")
    assert mnas.mobilecost != mnas.mobilecost and "published only" in mnas.note  # NaN: no count
    # Table 8: LR-ASPP V3-Large, reduced tail, 19 classes, at half resolution: 2.48 B as printed.
    half = _row(frame, "mobilenet_v3 Table 8", "V3 OS 16 (h) 512x1024", "macs_B")
    assert half.published == 2.48 and "residual" not in half.note and abs(half.mobilecost - 2.48) <= 0.005


def test_with_backbone_reads_the_backbone_again():
    spec = load_variant("ssdlite_mobilenet_v3_large")
    full = with_backbone(spec, reduced_tail=None)
    assert spec.backbone.reduced_tail == 2 and full.backbone.reduced_tail is None
    widths = [row.out for row in full.backbone_table.layers if getattr(row, "out", None)]
    assert 160 in widths and 160 not in [row.out for row in spec.backbone_table.layers if getattr(row, "out", None)]


def test_published_heads_csv_is_well_formed():
    from pathlib import Path

    import mobilecost

    path = Path(mobilecost.__file__).parent / "data" / "published_heads.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(r["params_M"] or r["macs_B"] for r in rows)


@pytest.mark.parametrize("paper", ["mobilenet_v2", "mobilenet_v3"])
def test_paper_cli_prints_the_head_tables(paper):
    result = runner.invoke(app, ["paper", paper, "--width", "0"])
    assert result.exit_code == 0, result.output
    assert f"{paper} Table 6" in result.output and f"{paper} Table 7" in result.output
