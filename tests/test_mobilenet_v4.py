"""MobileNetV4 tables against timm's networks, frozen in tests/reference/timm_mobilenet_v4.csv.

Expected figures come from timm 1.0.31 (``timm.create_model(name, pretrained=False)``, counted by
tests/reference/generate_timm_mobilenet_v4.py: parameters by module type, conv + linear MACs by forward
hooks, the attention matrix products from the shapes of the query/key/value projections), and from
hand derivations written out below. None comes from mobilecost.
"""

import csv
from pathlib import Path

import pytest
from conftest import refusal_of_edit

from mobilecost import MobilecostError, evaluate

REFERENCE = Path(__file__).resolve().parent / "reference" / "timm_mobilenet_v4.csv"
TABLES = ("mobilenet_v4_conv_small", "mobilenet_v4_conv_medium", "mobilenet_v4_conv_large",
          "mobilenet_v4_hybrid_medium", "mobilenet_v4_hybrid_large")


def _timm_rows():
    with REFERENCE.open(newline="") as handle:
        return [r for r in csv.DictReader(handle) if r["table"] in TABLES]


def _id(row):
    return f"{row['timm_model']}-{row['resolution']}"


@pytest.mark.parametrize("row", _timm_rows(), ids=_id)
def test_parameters_and_macs_match_timm_to_the_unit(row):
    totals = evaluate(row["table"], alpha=float(row["alpha"]), resolution=int(row["resolution"]),
                      convention="torchvision").attrs["totals"]
    assert totals["params"] == int(row["params"])  # sum(p.numel() for p in model.parameters())
    assert totals["weights"] == int(row["weights"]) + int(row["layer_scale"])
    assert totals["biases"] == int(row["biases"])
    assert totals["bn_affine"] == int(row["bn_affine"])
    assert totals["bn_stats"] == int(row["bn_stats"])
    # timm's hooks see Conv2d and Linear only; mobilecost's MACs include attention's two products by default.
    assert totals["attn_macs"] == int(row["attn_qk"]) + int(row["attn_av"])
    assert totals["macs"] - totals["attn_macs"] == int(row["macs"])


@pytest.mark.parametrize("row", [r for r in _timm_rows() if int(r["attn_qk"])][:4], ids=_id)
def test_attention_excluded_convention_is_timms_count(row):
    frame = evaluate(row["table"], alpha=float(row["alpha"]), resolution=int(row["resolution"]),
                     attention="excluded")
    totals = frame.attrs["totals"]
    assert totals["macs"] == int(row["macs"]) and totals["attn_macs"] == int(row["attn_qk"]) + int(row["attn_av"])
    assert frame.attrs["attention"] == "excluded"
    assert frame.loc[frame["op"] == "attention_scores", "macs"].sum() == 0


def test_the_reference_covers_each_published_resolution_and_a_second_width():
    covered = {(r["table"], float(r["alpha"]), int(r["resolution"])) for r in _timm_rows()}
    # arXiv:2404.10518: Conv-S at 224, Conv-M at 256, Conv-L at 384; timm's conv_small_050 / _035.
    for needed in [("mobilenet_v4_conv_small", 1.0, 224), ("mobilenet_v4_conv_medium", 1.0, 256),
                   ("mobilenet_v4_conv_large", 1.0, 384), ("mobilenet_v4_hybrid_medium", 1.0, 256),
                   ("mobilenet_v4_hybrid_large", 1.0, 384), ("mobilenet_v4_conv_small", 0.5, 224),
                   ("mobilenet_v4_conv_small", 0.35, 224), ("mobilenet_v4_hybrid_medium", 0.75, 224),
                   ("mobilenet_v4_hybrid_large", 0.75, 384)] + [(t, 1.0, 224) for t in TABLES]:
        assert needed in covered


def _layer(frame, name):
    return frame[frame["name"] == name].iloc[0]


def test_extra_dw_block_by_hand():
    # Conv-S's first UIB (ExtraDW 5x5, 5x5, 64 -> 192 -> 96, stride 2) on a 28x28x64 map:
    # DW K1 keeps 28x28 (the stride sits on the middle depthwise): 28*28*5*5*64 = 1,254,400 MACs;
    # expansion 28*28*64*192 = 9,633,792; middle depthwise to 14x14: 14*14*5*5*192 = 940,800;
    # projection 14*14*192*96 = 3,612,672; no shortcut (stride 2).
    frame = evaluate("mobilenet_v4_conv_small")
    assert _layer(frame, "b1.dw_start")["macs"] == 1_254_400 and _layer(frame, "b1.dw_start")["out_side"] == 28
    assert _layer(frame, "b1.expand")["macs"] == 9_633_792
    assert _layer(frame, "b1.dw")["macs"] == 940_800 and _layer(frame, "b1.dw")["out_side"] == 14
    assert _layer(frame, "b1.project")["macs"] == 3_612_672
    assert "b1.add" not in set(frame["name"])


def test_convnext_and_ffn_blocks_by_hand():
    # Conv-M: a ConvNext block (DW K1 3x3 only) 160 -> 640 -> 160 on 14x14: 14*14*9*160 = 282,240 MACs
    # for its depthwise, and a shortcut add; an FFN block (no depthwise) 160 -> 320 -> 160:
    # 14*14*160*320 = 10,035,200 MACs each for expansion and projection.
    frame = evaluate("mobilenet_v4_conv_medium")
    rows = frame.set_index("name")
    convnext = [b for b in frame["block"].unique() if f"{b}.dw_start" in rows.index and f"{b}.dw" not in rows.index]
    first = convnext[0]
    assert rows.loc[f"{first}.dw_start", "macs"] == 282_240 and f"{first}.add" in rows.index
    ffn = [b for b in frame["block"].unique() if f"{b}.expand" in rows.index and f"{b}.dw" not in rows.index
           and f"{b}.dw_start" not in rows.index and rows.loc[f"{b}.expand", "in_side"] == 14]
    assert rows.loc[f"{ffn[0]}.expand", "macs"] == 10_035_200 == rows.loc[f"{ffn[0]}.project", "macs"]


def test_mobile_mqa_block_by_hand():
    # Hybrid-M's first Mobile MQA block on a 14x14x160 map, 4 heads, key/value dim 64, KV stride 2
    # (depthwise 3x3): query 14*14*160*256 = 8,028,160 MACs; each KV downsampling 7*7*9*160 = 70,560;
    # key and value 7*7*160*64 = 501,760 each; QK^T 196 queries x 4 heads x 49 keys x 64 = 2,458,624;
    # attention x V the same; output 14*14*256*160 = 8,028,160; the layer scale holds 160 parameters.
    rows = evaluate("mobilenet_v4_hybrid_medium").set_index("name")
    mqa = next(b for b in rows["block"].unique() if f"{b}.scores" in rows.index)
    expected = {"query": 8_028_160, "key_down": 70_560, "value_down": 70_560, "key": 501_760, "value": 501_760,
                "scores": 2_458_624, "context": 2_458_624, "output": 8_028_160}
    for part, macs in expected.items():
        assert rows.loc[f"{mqa}.{part}", "macs"] == macs, part
    assert rows.loc[f"{mqa}.scores", "attn_macs"] == rows.loc[f"{mqa}.context", "attn_macs"] == 2_458_624
    assert rows.loc[f"{mqa}.query", "attn_macs"] == 0
    assert (rows.loc[f"{mqa}.scores", "out_side"], rows.loc[f"{mqa}.scores", "out_ch"]) == (14, 4 * 49)
    assert rows.loc[f"{mqa}.layer_scale", "weights"] == 160
    assert rows.loc[f"{mqa}.norm", "bn_affine"] == 2 * 160 and rows.loc[f"{mqa}.norm", "macs"] == 0
    # Softmax over 4 x 49 scores at each of 196 queries; queries scaled by 1/sqrt(64) before QK^T.
    assert rows.loc[f"{mqa}.softmax", "ew_ops"] == 196 * 196
    assert rows.loc[f"{mqa}.scores", "ew_ops"] == 196 * 256


def test_attention_convention_is_stated_and_checked():
    from mobilecost.conventions import ATTENTION

    frame = evaluate("mobilenet_v4_hybrid_medium", attention="included")
    assert frame.attrs["attention"] == "included"
    with pytest.raises(MobilecostError, match="attention"):
        evaluate("mobilenet_v4_hybrid_medium", attention="half")
    assert set(ATTENTION) == {"included", "excluded"}


def test_report_states_the_attention_convention_and_column():
    from typer.testing import CliRunner

    from mobilecost.cli import app

    out = CliRunner().invoke(app, ["report", "mobilenet_v4_hybrid_medium", "--attention-macs", "excluded",
                                   "--format", "json"])
    assert out.exit_code == 0
    import json

    data = json.loads(out.output)
    assert "attention" in data["conventions"] and data["totals"]["attn_macs"] == 24_586_240
    assert data["totals"]["macs"] == 941_725_120  # timm's conv + linear count at 224
    conv = CliRunner().invoke(app, ["report", "mobilenet_v4_conv_small", "--format", "json"])
    assert "attention" not in json.loads(conv.output)["conventions"]  # a network without attention


def test_paper_mobilenet_v4_reconciles_each_model():
    from mobilecost.analysis.papers import paper_tables

    frame = paper_tables("mobilenet_v4")
    conv_s = frame[frame["row"].str.startswith("MNv4-Conv-S")].set_index("metric")
    # The paper's 0.2 G and 3.8 M (BN gamma/beta counted) against 186,005,568 MACs and 3,774,024 parameters.
    assert conv_s.loc["macs_G", "mobilecost"] == pytest.approx(0.186005568)
    assert conv_s.loc["params_M", "mobilecost"] == pytest.approx(3.774024)
    assert "residual" not in conv_s.loc["macs_G", "note"] and "residual" not in conv_s.loc["params_M", "note"]
    # Conv-L at 384: timm's network is 6.376 G / 32.59 M against the printed 5.9 G / 31.0 M.
    conv_l = frame[frame["row"].str.startswith("MNv4-Conv-L")].set_index("metric")
    assert "residual" in conv_l.loc["macs_G", "note"]
    assert len(frame[frame["metric"] == "macs_G with attention"]) == 2  # the two hybrid models


def test_explain_walks_to_the_papers_figures():
    from mobilecost.analysis.explain import explain

    # Conv-S at 224: 186,005,568 MACs print as the paper's 0.2 G (to the nearest 100 M) as they are;
    # 3,748,936 weights + biases print as 3.8 M only with BN gamma/beta (+25,088) counted.
    walks = {w.metric: w for w in explain("mobilenet_v4_conv_small").walks}
    assert walks["macs"].matched and walks["macs"].reading.plain and walks["macs"].decimals == -2
    assert walks["params"].matched and "BN gamma/beta" in walks["params"].reading.name
    # Hybrid-L at 384: one of the readings leaves out attention's 339,738,624 MACs; none reaches 7.2 G.
    walks = {w.metric: w for w in explain("mobilenet_v4_hybrid_large", resolution=384).walks}
    assert not walks["macs"].matched
    left_out = [r for r in walks["macs"].tried if "attention" in r.name]
    assert left_out and left_out[0].steps[0].delta == -339_738_624


def _table_text(name):
    from mobilecost.spec.loader import resolve_table

    return resolve_table(name).read_text(encoding="utf-8")


@pytest.mark.parametrize("old,new,field,words", [
    ("dw_k1: 5x5, dw_k2: 5x5, exp: 192", "dw_k1: 5x3, dw_k2: 5x5, exp: 192", "layers[5].dw_k1", "square"),
    ("block: IB,      dw_k1: -,   dw_k2: 3x3, exp: 192", "block: IB,      dw_k1: 3x3, dw_k2: 3x3, exp: 192",
     "dw_k1", "IB has no DW K1"),
    ("block: ConvNext, dw_k1: 3x3, dw_k2: -,", "block: ConvNext, dw_k1: 3x3, dw_k2: 3x3,", "dw_k2",
     "ConvNext has no DW K2"),
    ("block: AvgPool, dw_k1: -,   dw_k2: 7x7", "block: AvgPool, dw_k1: -,   dw_k2: 3x3", "dw_k2", "global pool"),
    ("block: ExtraDW, dw_k1: 5x5", "block: MBConv, dw_k1: 5x5", "layers[5].block", "Input should be"),
])
def test_malformed_rows_name_file_line_and_field(table_copy, old, new, field, words):
    message, where = refusal_of_edit(table_copy, _table_text("mobilenet_v4_conv_small"), old, new)
    assert where in message and field in message and words in message


def test_sweep_adds_the_attention_column_only_where_there_is_attention():
    from mobilecost.api import sweep

    hybrid = sweep("mobilenet_v4_hybrid_medium", alphas=[1.0], resolutions=[256])
    assert list(hybrid["attn_macs"]) == [41_943_040]  # timm: QK^T 20,971,520 + attention x V 20,971,520
    assert list(hybrid["macs"] - hybrid["attn_macs"]) == [1_229_240_320]  # timm's conv + linear at 256
    assert "attn_macs" not in sweep("mobilenet_v4_conv_small", alphas=[1.0], resolutions=[224]).columns


def test_per_block_plot_groups_attention_products_apart():
    from mobilecost.outputs.plots_layers import layer_role

    assert layer_role("attn.scores", "attention_scores") == layer_role("attn.context", "attention_values") \
        == "attention QK^T, attention x V"
    assert layer_role("attn.softmax", "attention_softmax").startswith("element-wise")


MQA_ROW = "block: MobileMQA, dw_k1: -,   dw_k2: 3x3, exp: -,    out: 160,  s: 1, heads: 4, key_dim: 64, kv_stride: 2}"


@pytest.mark.parametrize("old,new,field,words", [
    (MQA_ROW, MQA_ROW.replace("heads: 4, ", ""), "heads", "needs heads"),
    (MQA_ROW, MQA_ROW.replace("dw_k2: 3x3,", "dw_k2: -,"), "dw_k2", "KV stride needs"),
    (MQA_ROW, MQA_ROW.replace("exp: -,  ", "exp: 640,"), "exp", "has no exp"),
    (MQA_ROW, MQA_ROW.replace("s: 1,", "s: 2,"), "s", "keeps its input's side"),
    ("block: FFN,      dw_k1: -,   dw_k2: -,   exp: 320,  out: 160,  s: 1}",
     "block: FFN,      dw_k1: -,   dw_k2: -,   exp: 320,  out: 160,  s: 1, heads: 4}", "heads", "only a MobileMQA"),
])
def test_malformed_attention_rows_name_file_line_and_field(table_copy, old, new, field, words):
    message, where = refusal_of_edit(table_copy, _table_text("mobilenet_v4_hybrid_medium"), old, new)
    assert where in message and field in message and words in message


def test_smallest_input_follows_the_strides_of_each_path():
    # Hybrid-M halves the side five times (32); the keys' and values' stride-2 depthwise in the 14x14
    # stage (16 so far) reaches 32 as well, so 32 is the smallest input, not 64.
    assert evaluate("mobilenet_v4_hybrid_medium", resolution=32).attrs["totals"]["attn_macs"] > 0
    with pytest.raises(MobilecostError, match="at least 32x32"):
        evaluate("mobilenet_v4_hybrid_medium", resolution=31)
