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
