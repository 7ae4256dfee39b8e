"""One configuration's simulated latency in plain Python: the same model code as on numpy columns, the
same numbers to the bit, the same printed output as the DataFrame it is presented as, and device
profiles read from the cache (validated on first use, rebuilt when the entry is damaged)."""

import csv
import io
import json
import math
import random

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mobilecost import estimate_latency
from mobilecost.cli import app
from mobilecost.cli.latency import pandas_json_float, render_latency
from mobilecost.latency.devices import load_device
from mobilecost.latency.model import layer_terms, layer_times, limits, theta_of
from mobilecost.latency.point_report import latency_report
from mobilecost.latency.profile_cache import device_figures
from mobilecost.numeric.checked import compiled_for, as_spec
from mobilecost.numeric.one_point import configuration
from mobilecost.numeric.point_columns import pairwise_sum, point_values
from mobilecost.numeric.snapshot import snapshot_for
from mobilecost.numeric.values import values_at
from mobilecost.outputs.files import csv_text
from mobilecost.spec.files import tables_dir

CASES = [
    ("mobilenet_v2", "pixel4_a76_tflite_fp32_1t", {}),
    ("mobilenet_v3_large", "generic_gpu", {"alpha": 0.75, "resolution": 160}),
    ("mobilenet_v3_small", "jetson_nano_gpu_ncnn_fp16", {"alpha": 0.35, "rho": 0.7, "mode": "ideal"}),
    ("mobilenet_v1", "generic_cpu_onnxruntime", {"alpha": 0.35, "resolution": 160}),  # depthwise channel blocks, padded 1x1 convolutions
    ("ssdlite320_mobilenet_v3_large", "rpi4_a72_ncnn_fp32_1t", {"resolution": "240x320"}),
    ("mobilenet_v4_hybrid_medium", "desktop_zen3_avx2_ncnn_fp32_1t", {}),
]


def test_pairwise_sum_adds_in_numpys_order():
    """numpy is the reference: its float64 sum (pairwise, 8 accumulators) of the same numbers, bit for bit,
    where a plain left-to-right sum differs."""
    rng = random.Random(7)
    plain_differs = 0
    for n in (0, 1, 7, 8, 9, 16, 17, 63, 127, 128, 129, 200, 257, 1000):
        for _ in range(20):
            values = [rng.random() * 10 ** rng.uniform(-6, 4) for _ in range(n)]
            assert pairwise_sum(values) == float(np.asarray(values).sum())
            plain_differs += sum(values) != float(np.asarray(values).sum())
    assert plain_differs > 0  # the order matters for these numbers


def test_json_floats_read_back_as_pandas_wrote_them():
    """pandas' to_json (double_precision 10) is the reference for the layers' records."""
    rng = random.Random(11)
    values = [rng.random() * 10 ** rng.uniform(-17, 17) for _ in range(20_000)]
    values += [0.0, 0.5, 2.5, 1e16 - 1, 1e16, 1e-15, 0.99999999995, 123.00000000005, 0.1234567890499]
    written = json.loads(pd.DataFrame({"x": values}).to_json(orient="records"))
    assert [pandas_json_float(v) for v in values] == [row["x"] for row in written]
    assert pandas_json_float(0.12345678904) == 0.123456789  # ten decimal places


@pytest.mark.parametrize("variant, device, kw", CASES[:4])
def test_model_on_one_configuration_equals_the_model_on_numpy_columns(variant, device, kw):
    """The same model code on a PointColumn (plain Python) and on a numpy column of the same point."""
    mode = kw.get("mode", "exact")
    table = snapshot_for(variant, kw.get("resolution"), mode)
    point, per_layer = configuration(table, kw.get("alpha", 1.0), kw.get("rho"), kw.get("resolution"))
    profile = load_device(device)
    plain_terms = layer_terms(device_figures(device), point_values(table.layers, mode, per_layer))
    plain = layer_times(plain_terms, theta_of(profile))
    arrays_terms = layer_terms(profile, values_at(compiled_for(as_spec(variant), mode), point.alpha, point.rho))
    arrays = layer_times(arrays_terms, theta_of(profile))
    for key in ("compute_ms", "memory_ms", "overhead_ms", "time_ms"):
        assert [float(v) for v in plain[key]] == [float(v) for v in np.asarray(arrays[key])[:, 0]], key
    assert list(plain["bound"]) == list(arrays["bound"][:, 0])
    assert limits(profile, plain_terms, plain, theta_of(profile)) == list(
        limits(profile, arrays_terms, arrays, theta_of(profile))[:, 0])


@pytest.mark.parametrize("variant, device, kw", CASES)
def test_cli_output_equals_the_dataframes_output(variant, device, kw):
    """JSON layers read back equal to the API DataFrame's to_json, CSV rows equal to its to_csv, the
    totals equal to its sums: one computation, two presentations."""
    frame = estimate_latency(variant, device, **kw)
    report = latency_report(snapshot_for(variant, kw.get("resolution"), kw.get("mode", "exact")), device_figures(device),
                            kw.get("alpha", 1.0), kw.get("rho"), kw.get("resolution"))
    doc = json.loads(render_latency(report, "json"))
    assert doc["layers"] == json.loads(frame.to_json(orient="records"))
    text = render_latency(report, "csv")
    body = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("#"))  # after the comments
    assert body == csv_text(frame, None, float_format="%.6g")
    assert doc["totals"]["latency_ms"] == float(frame["time_ms"].sum()) + doc["totals"]["fixed_ms"]
    for bound, ms in doc["totals"]["bound_ms"].items():
        assert ms == float(frame.loc[frame["bound"] == bound, "time_ms"].sum())
    assert doc["totals"]["macs"] == int(frame["macs"].sum())
    assert list(csv.reader(io.StringIO(body)))[0] == list(frame.columns)


def test_a_profile_file_is_validated_on_first_use_and_read_from_the_cache_after(tmp_path, monkeypatch):
    monkeypatch.setenv("MOBILECOST_CACHE_DIR", str(tmp_path / "cache"))
    from mobilecost.numeric.cache import forget_loaded

    forget_loaded()
    text = (tables_dir() / "devices" / "generic_cpu.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("cores: 1", "cores: 0"))
    runner = CliRunner()
    for _ in range(2):  # an invalid file is never cached: the same one-line error every time
        result = runner.invoke(app, ["latency", "mobilenet_v1", "--device", str(bad)])
        assert result.exit_code == 2
        assert len(result.stderr.strip().splitlines()) == 1 and "cores" in result.stderr
    assert not list((tmp_path / "cache").glob("device-*"))

    mine = tmp_path / "mine.yaml"
    mine.write_text(text)
    first = runner.invoke(app, ["latency", "mobilenet_v1", "--device", str(mine), "-f", "json"])
    entries = list((tmp_path / "cache").glob("device-*.py"))
    assert first.exit_code == 0 and len(entries) == 1
    # A damaged entry (a figure changed, its checksum no longer matching) is rebuilt, never served.
    stored = entries[0].read_text()
    assert "'dtype_bytes': 4" in stored
    entries[0].write_text(stored.replace("'dtype_bytes': 4", "'dtype_bytes': 1"))
    forget_loaded()
    again = runner.invoke(app, ["latency", "mobilenet_v1", "--device", str(mine), "-f", "json"])
    assert again.stdout == first.stdout
    # An edited profile is a new entry: twice the clock halves the compute time of every layer.
    peak = load_device(str(mine)).peak.clock_ghz
    mine.write_text(text.replace(f"clock_ghz: {peak:g}", f"clock_ghz: {2 * peak:g}", 1))
    faster = json.loads(runner.invoke(app, ["latency", "mobilenet_v1", "--device", str(mine), "-f", "json"]).stdout)
    before = json.loads(first.stdout)
    assert faster["totals"]["compute_ms"] == pytest.approx(before["totals"]["compute_ms"] / 2, rel=1e-12)
    assert len(list((tmp_path / "cache").glob("device-*.py"))) == 2
    forget_loaded()


def test_figures_carry_the_profiles_band_and_labels():
    for name in ("pixel4_a76_tflite_fp32_1t", "generic_gpu", "pixel1_big_tflite_fp32_1t"):
        profile, figures = load_device(name), device_figures(name)
        assert figures.band() == profile.band()
        assert figures.label == profile.label() and figures.error_label == profile.error_label()
        assert figures.gmacs == profile.peak.gmacs and figures.path == profile.path
        assert math.isclose(figures.band().high(10.0), profile.band().high(10.0), rel_tol=0, abs_tol=0)
