"""The validation benchmark's per-row listing of held-out predictions."""

import importlib.util
from pathlib import Path

import pandas as pd

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "latency_validation.py"


def _script():
    spec = importlib.util.spec_from_file_location("latency_validation", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
