"""The validation benchmark's stated rule for a group's calibration rows, and its per-row listing."""

import importlib.util
from pathlib import Path

import pandas as pd

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "latency_validation.py"


def _script():
    spec = importlib.util.spec_from_file_location("latency_validation", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _group():
    # Three families: V1 at five sizes, MnasNet at three, V2 at one (MACs in arbitrary units).
    rows = ([("mobilenet_v1", m) for m in (30, 10, 50, 20, 40)] + [("mnasnet_a1", m) for m in (35, 15, 25)]
            + [("mobilenet_v2", 60)])
    return pd.DataFrame(rows, columns=["model", "macs"])


def test_rows_span_the_sizes_then_the_families():
    choose = _script().choose_calibration_rows
    group = _group()
    # By hand: smallest (V1, 10: row 1) and largest (V2, 60: row 8); V1 and V2 are then covered, so MnasNet's
    # median (25: row 7) comes next, then the largest family's median (V1, 30: row 0).
    assert choose(group, 4) == [1, 8, 7, 0]
    assert choose(group, 3) == [1, 8, 7]
    # One family: smallest, largest, then the median (30: row 0) and the upper half by MACs (40: row 4).
    v1 = group[group["model"] == "mobilenet_v1"].reset_index(drop=True)
    assert choose(v1, 4) == [1, 2, 0, 4]


def test_details_lists_each_held_out_row_by_family():
    cross = pd.DataFrame([
        {"device": "phone", "precision": "fp32", "threads": "1", "protocol": "held-out", "model": m, "alpha": a,
         "resolution": r, "measured_ms": y, "error_pct": e, "baseline_error_pct": b, "calibrated_on": "rows"}
        for m, a, r, y, e, b in (("mnasnet_a1", 1.0, 224, 10.0, -20.0, 5.0), ("mnasnet_a1", 0.5, 224, 6.0, -10.0, 1.0),
                                 ("mobilenet_v1", 1.0, 128, 4.0, 4.0, -2.0))])
    text = _script().details(cross)
    assert "phone / fp32 / 1: calibrated on rows" in text
    assert "mnasnet_a1: mean error -15.0 % over 2 held-out rows" in text  # (-20 - 10) / 2
    assert "0.5/224: measured 6 ms, model -10.0 %, k * MACs +1.0 %" in text
    assert text.index("0.5/224") < text.index("1/224")  # by alpha, then resolution


def test_half_unit_is_half_the_last_printed_digit():
    half_unit = _script().half_unit
    assert half_unit("6.2") == 0.05
    assert half_unit("6.45") == 0.005
    assert half_unit("13.6904") == 0.00005
    assert half_unit("3") == 0.5  # printed without decimals: it may lie anywhere in 2.5-3.5
    assert half_unit("1e-3") == 0.0  # exponent notation: not read


def test_inverted_pairs_count_same_family_pairs_against_their_size():
    frame = pd.DataFrame([
        ("mobilenet_v1", 0.25, 128, 10, 3.0),
        ("mobilenet_v1", 0.25, 160, 16, 3.2),  # vs 128: more MACs, slower
        ("mobilenet_v1", 0.25, 192, 23, 3.0),  # vs 128: equal; vs 160: more MACs, faster
        ("mobilenet_v1", 0.5, 128, 40, 3.2),  # vs 0.25/128: slower; differs from 160 and 192 in both: no pair
        ("mnasnet_a1", 0.25, 128, 12, 1.0),  # another family: no pair with the V1 rows
    ], columns=["model", "alpha", "resolution", "macs", "latency_ms"])
    # By hand: V1 pairs (128,160), (128,192), (160,192) by resolution, (0.25/128, 0.5/128) by width: 4;
    # (160, 192) is inverted; (128, 192) is equal.
    assert _script().inverted_pairs(frame) == (4, 1, 1)


def test_a_group_is_a_gpu_group_by_its_runtime_not_its_board():
    kind_of = _script().kind_of
    # Device texts as the published CSV writes them: the board's description, then " / " and the runtime.
    assert kind_of("NVIDIA Jetson TX2 NX(... + 256-core NVIDIA Pascal iGPU) / ncnn CPU") == "cpu"
    assert kind_of("Radxa Orion O6 (... + Arm Immortalis G720 MC10 GPU 1.1Ghz) / ncnn CPU (big cores only)") == "cpu"
    assert kind_of("NVIDIA Jetson TX2 NX(... + 256-core NVIDIA Pascal iGPU) / ncnn Vulkan GPU") == "gpu"
    assert kind_of("Pixel 3 (Snapdragon 845) / TFLite (Android 10) NNAPI") == "gpu"
    assert kind_of("Intel Movidius NCS2 (Myriad X VPU) / OpenVINO 2019R2") == "gpu"
    assert kind_of("Pixel 1 (Snapdragon 821) big core / TFLite") == "cpu"
