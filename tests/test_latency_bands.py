"""Error bands, honest labels and calibration hygiene, against hand derivations written here."""

import csv
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from mobilecost import estimate_latency
from mobilecost.api import sweep
from mobilecost.cli import app
from mobilecost.latency.devices import parse_device

runner = CliRunner()
REFERENCE = Path(__file__).resolve().parent.parent / "benchmarks" / "data" / "calibration_latency.csv"

# Peak 2.0 GHz x 8 MAC/cycle x 1 core = 16 GMAC/s; cache 1 MiB at 30 GB/s, DRAM 10 GB/s; overhead 15 us.
BASE = ("name: hand\ntitle: Hand\nhardware: h\nruntime: r\nthreads: 1\nprecision: fp32\n"
        "peak: {clock_ghz: 2.0, macs_per_cycle: 8, cores: 1, source: s}\n"
        "memory: {cache_bytes: 1048576, cache_gb_s: 30, dram_gb_s: 10, source: s}\n"
        "efficiency: {conv: 0.45, pointwise: 0.6, depthwise: 0.2, fc: 0.3, memory: 0.5, elementwise: 0.25, source: s}\n"
        "overhead: {us: 15, source: s}\nobtained: o\n")
CALIBRATION = ("status: calibrated\ncalibration: {base: hand, data: d, rows: [a, b, c], fit_mape_pct: 3.0, "
               "loo_mape_pct: 12.0%s}\n")


def profile(extra=""):
    return parse_device(BASE + extra, "hand.yaml")


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_band_from_leave_one_out_residuals_by_hand():
    # Residuals e = (predicted - measured) / measured of +10 %, -20 %, +5 %: a prediction p was measured as
    # p / (1 + e), so the band is [p / 1.10, p / 0.80]; for p = 100 ms: [90.909..., 125].
    p = profile(CALIBRATION % ", loo_residuals_pct: [10.0, -20.0, 5.0]")
    band = p.band()
    assert band.low(100.0) == pytest.approx(100 / 1.1, rel=1e-12)
    assert band.high(100.0) == pytest.approx(125.0, rel=1e-12)
    assert "leave-one-out residuals of 3 rows" in band.rule


def test_band_without_residuals_uses_the_stated_errors():
    # Only loo_mape_pct 12 %: +-12 % -> [88, 112] around 100 ms.
    p = profile(CALIBRATION % "")
    assert (p.band().low(100.0), p.band().high(100.0)) == pytest.approx((88.0, 112.0), rel=1e-12)
    assert "leave-one-out mean error" in p.band().rule
    # A spec-only profile that states no error: +-50 % -> [50, 150].
    spec = profile("status: spec-only\n")
    assert (spec.band().low(100.0), spec.band().high(100.0)) == pytest.approx((50.0, 150.0), rel=1e-12)
    assert "spec-only" in spec.band().rule
    # A stated error of 20 %: [80, 120].
    stated = profile("status: spec-only\nstated_error: {pct: 20, source: a test}\n")
    assert (stated.band().low(100.0), stated.band().high(100.0)) == pytest.approx((80.0, 120.0), rel=1e-12)


def test_latency_totals_and_sweep_columns_carry_the_band():
    p = profile(CALIBRATION % ", loo_residuals_pct: [10.0, -20.0, 5.0]")
    totals = estimate_latency("mobilenet_v1", p).attrs["totals"]
    assert totals["latency_ms_low"] == pytest.approx(totals["latency_ms"] / 1.1, rel=1e-12)
    assert totals["latency_ms_high"] == pytest.approx(totals["latency_ms"] / 0.8, rel=1e-12)
    frame = sweep("mobilenet_v1", [0.5, 1.0], resolutions=[160, 224], device=p)
    assert list(frame.columns[-3:]) == ["latency_ms", "latency_ms_low", "latency_ms_high"]
    assert frame["latency_ms_high"].to_numpy() == pytest.approx(frame["latency_ms"].to_numpy() / 0.8, rel=1e-12)


def test_first_conv_attains_a_hand_derived_share_of_peak():
    # mobilenet_v1 conv1 at 224: 112*112*32*27 = 10,838,016 MACs; compute 10,838,016 / (16e9 x 0.45) = 1.50528 ms;
    # bytes (150,528 in + 401,408 out + 864 weights + biases) x 4 > 1 MiB: DRAM, ~0.44 ms < compute. Time = 1.50528
    # + 0.015 overhead, so the attained share of peak is 45 % x 1.50528 / 1.52028 = 44.556 %.
    frame = estimate_latency("mobilenet_v1", profile("status: spec-only\n"))
    conv1 = frame.iloc[0]
    assert conv1["macs"] == 10_838_016 and conv1["bound"] == "compute"
    assert conv1["peak_pct"] == pytest.approx(45 * 1.50528 / 1.52028, rel=1e-9)


def test_latency_text_names_terms_share_of_peak_and_band(tmp_path):
    path = tmp_path / "hand.yaml"
    path.write_text(BASE + CALIBRATION % ", loo_residuals_pct: [10.0, -20.0, 5.0]")
    result = run("latency", "mobilenet_v1", "--device", path, "--width", "0")  # a line per statement
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("SIMULATED latency")
    assert "largest term" in result.stdout and "% of peak" in result.stdout and "compute term" in result.stdout
    assert "compute-bound" not in result.stdout
    data = json.loads(run("latency", "mobilenet_v1", "--device", path, "--format", "json").stdout)
    t = data["totals"]
    assert t["latency_ms_low"] == pytest.approx(t["latency_ms"] / 1.1) and t["latency_ms_high"] == pytest.approx(t["latency_ms"] / 0.8)
    band_line = [line for line in result.stdout.splitlines() if line.startswith("simulated band:")]
    assert band_line == [f"simulated band: {t['latency_ms_low']:.3f} to {t['latency_ms_high']:.3f} ms "
                         f"({data['device']['band']})"]


def test_check_tells_over_within_error_and_under(tmp_path):
    # Stated error +-10 %: a latency L is over a budget below L (exit 1), within the model's error of a budget
    # in [L, 1.1 L) (exit 3), under a budget of 1.1 L or more (exit 0).
    path = tmp_path / "hand.yaml"
    path.write_text(BASE + "status: spec-only\nstated_error: {pct: 10, source: a test}\n")
    latency = estimate_latency("mobilenet_v1", str(path), 0.5, resolution=160).attrs["totals"]["latency_ms"]
    outcomes = {}
    for budget, name in ((latency * 0.97, "over"), (latency * 1.05, "near"), (latency * 1.12, "under")):
        result = run("check", "mobilenet_v1", "--alpha", "0.5", "--resolution", "160", "--device", path,
                     "--max-latency-ms", f"{budget:.6f}", "--width", "0")
        outcomes[name] = (result.exit_code, result.stderr.strip())
    assert outcomes["over"][0] == 1 and "over budget" in outcomes["over"][1]
    assert outcomes["near"][0] == 3 and "within the model's error of the budget" in outcomes["near"][1]
    assert "+-10 % band" in outcomes["near"][1] and len(outcomes["near"][1].splitlines()) == 1
    assert outcomes["under"][0] == 0 and "within budget" in outcomes["under"][1]
    assert "Exit 3" in run("check", "--help").stdout


def test_calibrating_on_impossible_speeds_warns_and_names_the_rows(tmp_path):
    # generic_cpu's peak is 2.0 GHz x 8 MAC/cycle = 16 GMAC/s; mobilenet_v1 1.0-224 has 569 M MACs (the paper's
    # count), so even at efficiency 1 it takes at least 569e6 / 16e9 = 35.6 ms. Measured 4 ms forces efficiencies > 1.
    data = tmp_path / "fast.csv"
    data.write_text("variant,alpha,resolution,latency_ms\nmobilenet_v1,1.0,224,4\nmobilenet_v1,0.5,160,1.2\n"
                    "mobilenet_v2,1.0,224,3\n")
    out = tmp_path / "my_phone.yaml"
    result = run("calibrate", data, "--base", "generic_cpu", "-o", out)
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    pointwise = [w for w in warnings if "fitted pointwise efficiency" in w]
    assert pointwise and "> 1 is implausible" in pointwise[0]
    assert "mobilenet_v1 alpha=1 resolution=224: 4 ms" in pointwise[0]
    written = yaml.safe_load(out.read_text())
    assert written["name"] == "my_phone"  # the output file's stem
    assert written["title"].startswith("my_phone: calibrated from 3 rows of fast.csv")
    cal = written["calibration"]
    assert len(cal["rows"]) == len(cal["residuals_pct"]) == len(cal["loo_residuals_pct"]) == 3
    assert cal["loo_mape_pct"] == pytest.approx(sum(abs(e) for e in cal["loo_residuals_pct"]) / 3, abs=2e-3)


def test_calibrating_on_published_rows_does_not_warn(tmp_path):
    # The four Pixel 2 rows of the reference data that pixel2_big_tflite_fp32_1t was calibrated on.
    wanted = {("mobilenet_v1", "0.25", "128"), ("mobilenet_v1", "0.5", "192"), ("mobilenet_v1", "1.0", "224"),
              ("mobilenet_v2", "1.0", "224")}
    with REFERENCE.open() as f:
        rows = [r for r in csv.DictReader(f) if r["device"].startswith("Pixel 2 (Snapdragon 835) large core / TFLite")
                and r["precision"] == "fp32" and r["threads"] == "1" and (r["model"], r["alpha"], r["resolution"]) in wanted]
    assert len(rows) == 4
    data = tmp_path / "pixel2.csv"
    data.write_text("variant,alpha,resolution,latency_ms\n"
                    + "".join(f"{r['model']},{r['alpha']},{r['resolution']},{r['latency_ms']}\n" for r in rows))
    result = run("calibrate", data, "--base", "generic_cpu", "-o", tmp_path / "p2.yaml")
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr
    assert "error band of its predictions: band from the leave-one-out residuals of 4 rows" in result.stdout


def test_devices_shows_each_profiles_error_band():
    result = run("devices")
    assert result.exit_code == 0
    assert result.stdout.count("error band:") == result.stdout.count("obtained:")


def test_limit_names_the_fitted_efficiency_that_caps_the_share_of_peak():
    # A layer limited by its compute term takes at least MACs / (peak x e), so it attains at most e of peak:
    # a depthwise layer at 6 % of peak is labelled with the e ~ 0.06 that explains it.
    from mobilecost import estimate_latency
    from mobilecost.latency.devices import load_device

    device = "pixel4_a76_tflite_fp32_1t"
    layers = estimate_latency("mobilenet_v2", device)
    e = load_device(device).efficiency.depthwise
    dw = layers[layers["op"] == "depthwise"]
    assert len(dw) == 17 and (dw["limit"] == f"compute at e={e:.2g} (depthwise)").all()
    assert (dw["peak_pct"] <= e * 100 + 1e-9).all()
    memory = layers[layers["bound"] == "memory"]
    assert memory["limit"].str.contains("bandwidth at e=").all()


def test_per_inference_cost_is_in_the_total_once():
    # generic_cpu states 51.3 us per inference: the total is the layers' times plus 0.0513 ms, as in sweep.
    from mobilecost import estimate_latency, sweep

    layers = estimate_latency("mobilenet_v3_small", "generic_cpu", alpha=0.75, resolution=160)
    totals = layers.attrs["totals"]
    assert totals["fixed_ms"] == pytest.approx(0.0513)
    assert totals["latency_ms"] == pytest.approx(layers["time_ms"].sum() + 0.0513, rel=1e-12)
    grid = sweep("mobilenet_v3_small", [0.75], resolutions=[160], device="generic_cpu")
    assert grid["latency_ms"].iloc[0] == pytest.approx(totals["latency_ms"], rel=1e-9)
