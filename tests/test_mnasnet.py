"""MnasNet-A1 table: published counts, the reference code's width rules, and the schema keys it uses.

Sources of the expected figures (none come from mobilecost):
* Tan et al., "MnasNet: Platform-Aware Neural Architecture Search for Mobile", arXiv:1807.11626,
  Table 1: MnasNet-A1 312 M multiply-adds, 3.9 M parameters (1.0, 224 x 224);
* tensorflow/tpu models/official/mnasnet/README.md @009812fb, table of MnasNet-A1 on ImageNet:
  parameters 6.1 / 3.9 / 2.9 / 2.1 / 1.7 M at depth multiplier 1.4 / 1.0 / 0.75 / 0.5 / 0.35, and
  multiply-adds per (input size, multiplier);
* hand derivations from tensorflow/tpu models/official/mnasnet/mnasnet_model.py, written out below:
  round_filters(c) = max(8, int(c*m + 4) // 8 * 8) (+8 if below 90 % of c*m);
  SE squeeze = max(1, int(rounded block input * 0.25)); expanded = rounded input * ratio;
  head conv fixed at 1280; the first block ('..._noskip') never adds its shortcut.
"""

import pytest
from conftest import refusal_of_edit

from mobilecost import MobilecostError, evaluate

TABLE = "mnasnet_a1"


def _totals(alpha=1.0, resolution=224):
    return evaluate(TABLE, alpha=alpha, resolution=resolution, convention="paper").attrs["totals"]


def _layer(df, name):
    return df[df["name"] == name].iloc[0]


def test_paper_table1_headline_figures():
    # arXiv:1807.11626 Table 1 prints 312M MAdds and 3.9M params. BN folded ('paper' convention:
    # weights + biases) gives 3.85 M; adding BN gamma/beta (3.89 M) or also the moving statistics
    # (3.92 M) rounds to 3.9 M as well, so the printed figure does not single out a convention.
    totals = _totals()
    assert round(totals["macs"] / 1e6) == 312
    assert round(totals["params"] / 1e6, 1) == 3.9
    with_bn = totals["params"] + totals["bn_affine"] + totals["bn_stats"]
    assert round(with_bn / 1e6, 1) == 3.9


README_PARAMS_M = {1.4: 6.1, 1.0: 3.9, 0.75: 2.9, 0.5: 2.1, 0.35: 1.7}

# (input size, multiplier) -> multiply-adds (M), tensorflow/tpu mnasnet README table.
README_MADDS_M = {
    (224, 1.4): 591.5, (224, 1.0): 315.2, (224, 0.75): 226.7, (224, 0.5): 105.2, (224, 0.35): 63.2,
    (192, 1.4): 435.1, (192, 1.0): 232.0, (192, 0.75): 166.9, (192, 0.5): 77.6, (192, 0.35): 46.8,
    (160, 1.4): 302.8, (160, 1.0): 161.6, (160, 0.75): 116.4, (160, 0.5): 54.4, (160, 0.35): 32.9,
    (128, 1.4): 194.5, (128, 1.0): 104.1, (128, 0.75): 75.0, (128, 0.5): 35.3, (128, 0.35): 21.6,
    (96, 1.4): 110.3, (96, 1.0): 59.3, (96, 0.75): 42.9, (96, 0.5): 20.5, (96, 0.35): 12.7,
}


@pytest.mark.parametrize("alpha", sorted(README_PARAMS_M))
def test_readme_parameters_at_every_depth_multiplier(alpha):
    assert round(_totals(alpha)["params"] / 1e6, 1) == README_PARAMS_M[alpha]


def test_readme_multiply_adds_sit_slightly_above_the_exact_count():
    # A known disagreement between the two sources: the README prints 315.2 M at 1.0/224 where the
    # paper prints 312 M for the same network. Over all 25 README points its figure is 0.5-3 % above
    # the exact count (the excess grows with the input area), while the paper's 312 M is matched.
    for (resolution, alpha), printed in README_MADDS_M.items():
        ratio = printed * 1e6 / _totals(alpha, resolution)["macs"]
        assert 1.005 < ratio < 1.03, (resolution, alpha, ratio)


def test_squeeze_width_follows_the_block_input_and_truncates():
    # Hand derivation at multiplier 1.0: int(input_filters * 0.25) per SE block, where repeats take
    # their row's output as input: 24->6, 40->10, 40->10, 80->20, 112->28, 112->28, 160->40, 160->40.
    df = evaluate(TABLE)
    squeeze = [int(w) for w in df[df["name"].str.endswith(".se.reduce")]["out_ch"]]
    assert squeeze == [6, 10, 10, 20, 28, 28, 40, 40]
    # Multiplier 0.35: 24*.35 = 8.4 -> max(8, int(12.4)//8*8) = 8 -> SE int(2.0) = 2;
    # 40*.35 = 14 -> int(18)//8*8 = 16 -> 4; 80*.35 = 28 -> 32 -> 8; 112*.35 = 39.2 -> 40 -> 10;
    # 160*.35 = 56 -> 56 -> 14.
    df = evaluate(TABLE, alpha=0.35)
    squeeze = [int(w) for w in df[df["name"].str.endswith(".se.reduce")]["out_ch"]]
    assert squeeze == [2, 4, 4, 8, 10, 10, 14, 14]
    # The SE gate is a sigmoid (tf.sigmoid in MnasBlock._call_se) and the squeeze uses ReLU.
    assert _layer(df, "b4.se.expand")["act"] == "sigmoid" and _layer(df, "b4.se.reduce")["act"] == "relu"


def test_expansion_stem_and_head_rules():
    df = evaluate(TABLE, alpha=0.5)
    # stem: round_filters(32) at 0.5 = 16; b2 input 16*.5 = 8 -> 8, expanded 8 * 6 = 48 (no rounding).
    assert _layer(df, "stem")["out_ch"] == 16
    assert _layer(df, "b2.expand")["out_ch"] == 48
    # The first block has expand ratio 1: no expansion conv at all.
    assert "b1.expand" not in set(df["name"])
    # _conv_head is 1280 filters for every multiplier.
    for alpha in (0.35, 0.5, 1.4):
        assert _layer(evaluate(TABLE, alpha=alpha), "head")["out_ch"] == 1280
    # Every activation outside the SE gate is ReLU.
    acts = set(df["act"]) - {"sigmoid", "", None}
    assert acts == {"relu"}


def test_noskip_block_never_adds_its_shortcut():
    # At 0.25 the stem (32*.25 = 8 -> 8) and the first block's output (16*.25 = 4 -> 8) have the
    # same width, yet 'r1_k3_s11_e1_i32_o16_noskip' has no shortcut: no b1.add layer exists.
    df = evaluate(TABLE, alpha=0.25)
    assert _layer(df, "stem")["out_ch"] == _layer(df, "b1.project")["out_ch"] == 8
    assert not any(df["name"].str.startswith("b1.add"))
    # Blocks without 'noskip' add where stride is 1 and widths agree: 9 adds at 1.0 (hand count: the
    # repeats after the first block of each stage, 1 + 2 + 3 + 1 + 2; none for 80->112 or 160->320).
    full = evaluate(TABLE)
    adds = full[(full["op"] == "add") & (full["macs"] + full["ew_ops"] > 0)]
    assert len(adds) == 9


def _mnasnet_text():
    from mobilecost.spec.loader import resolve_table

    return resolve_table(TABLE).read_text(encoding="utf-8")


@pytest.mark.parametrize("old,new,field", [
    ("se_gate: sigmoid ", "se_gate: tanh ", "se_gate"),
    ("se_of: input ", "se_of: output ", "width.se_of"),
    ("se_rounding: truncate", "se_rounding: floor", "width.se_rounding"),
    ("s: 1, skip: -}", "s: 1, skip: maybe}", "layers[1].skip"),
])
def test_unknown_values_of_the_new_keys_name_file_line_and_field(table_copy, old, new, field):
    message, where = refusal_of_edit(table_copy, _mnasnet_text(), old, new)
    assert where in message and field in message


def test_skip_on_a_conv_row_is_rejected(table_copy):
    text = _mnasnet_text().replace("s: 2, name: stem}", "s: 2, skip: -, name: stem}")
    with pytest.raises(MobilecostError) as info:
        evaluate(str(table_copy(text)))
    assert "skip" in str(info.value) and "bneck" in str(info.value)


# Pixel 1 big core, TFLite fp32, 1 thread: MnasNet-A1 latencies (ms) of the MnasNet paper setup,
# tensorflow/tpu models/official/mnasnet/README.md @009812fb, "Pixel 1 latency (ms)" column.
PIXEL1_MS = {
    (224, 1.4): 135, (224, 1.0): 78, (224, 0.75): 61, (224, 0.5): 32, (224, 0.35): 22,
    (192, 1.4): 99, (192, 1.0): 57, (192, 0.75): 45, (192, 0.5): 24, (192, 0.35): 17,
    (160, 1.4): 72, (160, 1.0): 41, (160, 0.75): 33, (160, 0.5): 18, (160, 0.35): 13,
    (128, 1.4): 49, (128, 1.0): 29, (128, 0.75): 23, (128, 0.5): 12, (128, 0.35): 8.5,
    (96, 1.4): 32, (96, 1.0): 18, (96, 0.75): 17, (96, 0.5): 7.4, (96, 0.35): 5.4,
}
PIXEL1 = "pixel1_big_tflite_fp32_1t_mnasnet"  # the runtime of the MnasNet paper setup
CALIBRATION_ROWS = {(224, 1.0), (160, 0.5), (128, 1.4), (96, 0.35)}


def _pixel1_ms(alpha, resolution, device=PIXEL1):
    from mobilecost import estimate_latency

    return float(estimate_latency(TABLE, device, alpha=alpha, resolution=resolution)["time_ms"].sum())


def test_pixel1_profile_is_calibrated_on_four_mnasnet_rows_only():
    from mobilecost.latency.devices import load_device

    profile = load_device(PIXEL1)
    assert profile.status == "calibrated"
    named = {(int(r.split("resolution=")[1].split(":")[0]), float(r.split("alpha=")[1].split()[0]))
             for r in profile.calibration.rows}
    assert named == CALIBRATION_ROWS and all(r.startswith("mnasnet_a1 ") for r in profile.calibration.rows)
    # The spec numbers stay those of the Snapdragon 821 data sheet.
    assert profile.peak.clock_ghz == 2.15 and profile.memory.cache_bytes == 1 << 20


def test_pixel1_profile_predicts_the_held_out_readme_rows():
    errors = {key: (_pixel1_ms(key[1], key[0]) - ms) / ms * 100
              for key, ms in PIXEL1_MS.items() if key not in CALIBRATION_ROWS}
    assert len(errors) == 21
    mean_abs = sum(abs(e) for e in errors.values()) / len(errors)
    assert mean_abs < 7, errors
    # The worst row is 0.75/96, printed 17 ms -- barely below the 18 ms of 1.0/96 -- which the
    # network's 28 % fewer multiply-adds at 0.75 make hard to match.
    assert sum(abs(e) <= 10 for e in errors.values()) >= 18, errors
    assert max(abs(e) for e in errors.values()) < 30, errors


def test_pixel1_calibration_is_reproducible(tmp_path):
    # The shipped numbers are what `mobilecost calibrate` writes from the spec-only profile (its
    # efficiencies and overhead copied from the Pixel 2 profile) and the four rows above.
    from mobilecost.latency.calibrate import Measurement, fit
    from mobilecost.latency.devices import load_device

    shipped, pixel2 = load_device(PIXEL1), load_device("pixel2_big_tflite_fp32_1t")
    base = shipped.model_copy(update={"efficiency": pixel2.efficiency, "overhead": pixel2.overhead,
                                      "status": "spec-only", "calibration": None})
    rows = [Measurement(TABLE, a, r, PIXEL1_MS[r, a]) for r, a in sorted(CALIBRATION_ROWS)]
    result = fit(base, rows)
    expected = [shipped.efficiency.conv, shipped.efficiency.pointwise, shipped.efficiency.depthwise,
                shipped.efficiency.fc, shipped.efficiency.memory, shipped.efficiency.elementwise]
    fitted = [1 / x for x in result.theta[:6]]
    assert fitted == pytest.approx(expected, rel=1e-3)
    assert abs(result.errors_pct).mean() == pytest.approx(shipped.calibration.fit_mape_pct, abs=0.01)


def test_onnx_graph_runs_with_the_engine_shapes_and_parameters():
    # The exported graph (SE gate: ONNX Sigmoid) runs in onnxruntime; its initializers are the
    # unfolded parameters (weights, biases, BN gamma/beta and statistics) and every layer's output
    # shape is the engine's.
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    import numpy as np

    from mobilecost.measure.onnx_graph import build_model, layer_shapes, parameter_count

    model = build_model(TABLE, 0.5, 96, seed=1)
    onnx.checker.check_model(model, full_check=True)
    frame = evaluate(TABLE, 0.5, resolution=96, convention="keras")
    assert parameter_count(model) == frame.attrs["totals"]["params"]
    shapes = layer_shapes(model)
    for row in frame.itertuples(index=False):
        c, side = int(row.out_ch), int(row.out_side)
        assert shapes[row.name] in ((1, c, side, side), (1, c)), row.name
    assert [n.op_type for n in model.graph.node].count("Sigmoid") == 8
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: np.random.default_rng(0).normal(size=(1, 3, 96, 96)).astype(np.float32)}
    (logits,) = session.run(None, feed)
    assert logits.shape[-1] == 1000 and np.isfinite(logits).all()
