"""Calibration: NNLS, recovery of known parameters, and the measurements CSV's errors."""

from pathlib import Path

import numpy as np
import pytest

from mobilecost.latency.calibrate import Measurement, fit, nnls, read_measurements
from mobilecost.latency.devices import load_device
from mobilecost.errors import MobilecostError
from mobilecost.api import evaluate


def test_nnls_matches_a_hand_solved_problem():
    # min |a x - b|, x >= 0: the unconstrained solution (1, -1) is infeasible; with x2 = 0,
    # x1 = (a1 . b) / (a1 . a1) = (1*1 + 0*2 + 1*0) / 2 = 0.5.
    a = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    b = np.array([1.0, -1.0, 0.0])
    assert nnls(a, b) == pytest.approx([0.5, 0.0])
    # a feasible interior solution is the ordinary least-squares one
    assert nnls(np.eye(2), np.array([2.0, 3.0])) == pytest.approx([2.0, 3.0])


# True device for the synthetic measurements: 16 GMAC/s peak, and so much bandwidth that every
# multiply-accumulate layer is compute-bound; then, written out by hand,
#   latency = sum over MAC layers of MACs / (peak * eff[class]) + steps * overhead
#             + element-wise bytes / bandwidth (negligible here),
# where steps = executed layers + one extra for each h-swish / h-sigmoid layer (a separate pass).
TRUE = {"conv": 0.30, "pointwise": 0.55, "depthwise": 0.12, "fc": 0.20, "overhead_ms": 0.020}
PEAK = 16e9


def synthetic_latency_ms(variant, alpha, resolution):
    frame = evaluate(variant, alpha, resolution=resolution)
    ms = 0.0
    for op, macs, act in zip(frame["op"], frame["macs"], frame["act"]):
        if op in ("conv", "pointwise", "depthwise", "fc"):
            ms += macs / (PEAK * TRUE[op]) * 1e3
        ms += TRUE["overhead_ms"] * (1 + (act in ("hswish", "hsigmoid")))
    return ms


def test_calibration_recovers_known_parameters():
    base = load_device("generic_cpu").model_copy(update={
        "memory": load_device("generic_cpu").memory.model_copy(update={"cache_gb_s": 1e6, "dram_gb_s": 1e6}),
    })
    configs = [(v, a, r) for v in ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small")
               for a, r in ((0.5, 128), (1.0, 224), (0.75, 192))]
    rows = [Measurement(v, a, r, synthetic_latency_ms(v, a, r)) for v, a, r in configs]
    def recovered(theta):
        return {"conv": 1 / theta[0], "pointwise": 1 / theta[1], "depthwise": 1 / theta[2], "fc": 1 / theta[3],
                "overhead_ms": theta[6]}

    # Twelve noise-free measurements determine every parameter once the prior is (nearly) off.
    result = fit(base, rows, prior_weight=1e-9, leave_one_out=False)
    for key, value in TRUE.items():
        assert recovered(result.theta)[key] == pytest.approx(value, rel=1e-3), (key, recovered(result.theta))
    assert np.abs(result.errors_pct).max() < 0.01
    # With the default prior, the classes with many layers are still recovered within 10 %; the stem conv and
    # the classifier (one layer each) lean towards the base profile's proportions.
    result = fit(base, rows, leave_one_out=False)
    for key in ("pointwise", "depthwise"):
        assert recovered(result.theta)[key] == pytest.approx(TRUE[key], rel=0.10), (key, recovered(result.theta))
    # The per-step costs share the fixed time with the per-inference cost (true value 0, which its prior pulls
    # towards the base's 51 us x the speed factor): within 15 %, for steps with and without MACs alike.
    assert theta_fixed_share_ok(result.theta)
    assert np.abs(result.errors_pct).max() < 1.0


def theta_fixed_share_ok(theta) -> bool:
    mac_step, per_inference, ew_step = theta[6], theta[7], theta[8]
    return (mac_step == pytest.approx(TRUE["overhead_ms"], rel=0.15) and ew_step == pytest.approx(TRUE["overhead_ms"], rel=0.15)
            and 0 <= per_inference < 0.1)


def test_four_measurements_and_the_prior_predict_the_rest():
    base = load_device("generic_cpu").model_copy(update={
        "memory": load_device("generic_cpu").memory.model_copy(update={"cache_gb_s": 1e6, "dram_gb_s": 1e6}),
    })
    calib = [("mobilenet_v1", 1.0, 224), ("mobilenet_v2", 1.0, 224), ("mobilenet_v3_large", 1.0, 224),
             ("mobilenet_v3_small", 1.0, 224)]
    rows = [Measurement(v, a, r, synthetic_latency_ms(v, a, r)) for v, a, r in calib]
    result = fit(base, rows)
    assert result.loo_predicted_ms is not None and len(result.loo_predicted_ms) == 4
    from mobilecost.latency.calibrate import calibrated_profile
    from mobilecost import estimate_latency

    profile = calibrated_profile(base, result, rows, "synthetic.csv", name="synthetic")
    assert profile.status == "calibrated" and profile.calibration.fit_mape_pct < 5
    for v, a, r in (("mobilenet_v2", 0.5, 160), ("mobilenet_v1", 0.75, 192)):
        predicted = estimate_latency(v, profile, a, resolution=r).attrs["totals"]["latency_ms"]
        assert predicted == pytest.approx(synthetic_latency_ms(v, a, r), rel=0.10)


@pytest.mark.parametrize("text, where, field", [
    ("variant,alpha,latency_ms\nmobilenet_v1,1.0,5\n", "m.csv:1", "resolution"),
    ("variant,alpha,resolution,latency_ms\nmobilenet_v1,1.0,224,5\nmobilenet_v2,one,224,3\n", "m.csv:3", "alpha"),
    ("variant,alpha,resolution,latency_ms\nmobilenet_v1,1.0,224.5,5\n", "m.csv:2", "resolution"),
    ("variant,alpha,resolution,latency_ms\nmobilenet_v1,1.0,224,-5\n", "m.csv:2", "latency_ms"),
])
def test_measurement_errors_name_file_line_and_column(tmp_path, text, where, field):
    path = tmp_path / "m.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MobilecostError) as info:
        read_measurements(str(path))
    assert str(info.value).startswith(f"{path.parent}/{where}: {field}:"), str(info.value)


def test_rows_outside_the_validated_span_are_named_in_a_warning(tmp_path):
    import csv as csv_module

    from typer.testing import CliRunner

    from mobilecost.cli import app
    from mobilecost.latency.calibrate import VALIDATED_ALPHA, VALIDATED_RESOLUTION

    # The stated span is the span of the published rows the model was checked on.
    published = Path(__file__).resolve().parent.parent / "benchmarks" / "data" / "calibration_latency.csv"
    rows = list(csv_module.DictReader(published.open(encoding="utf-8")))
    assert (min(float(r["alpha"]) for r in rows), max(float(r["alpha"]) for r in rows)) == VALIDATED_ALPHA
    assert (min(int(r["resolution"]) for r in rows), max(int(r["resolution"]) for r in rows)) == VALIDATED_RESOLUTION
    data = tmp_path / "m.csv"
    data.write_text("variant,alpha,resolution,latency_ms\nmobilenet_v1,1.0,224,40.0\nmobilenet_v2,1.0,224,30.0\n"
                    "mobilenet_v3_large,1.0,320,50.0\nmobilenet_v3_small,3.0,160,16.0\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["calibrate", str(data), "--base", "generic_cpu", "-o", str(tmp_path / "p.yaml")])
    assert result.exit_code == 0, result.output
    warning = [line for line in result.output.splitlines() if "lie outside" in line]
    assert len(warning) == 1 and warning[0].startswith("warning: 2 of 4 rows lie outside alpha 0.25-2 and resolutions 96-224")
    assert "mobilenet_v3_large alpha=1 resolution=320" in warning[0] and "mobilenet_v3_small alpha=3" in warning[0]


def test_an_ill_posed_fit_says_so():
    # Two rows cannot determine the eight parameters their layers use: the warning says how many they do
    # determine (the rank of the rows' relative sensitivities, at most the number of rows).
    from mobilecost.latency.calibrate import fit_warnings

    rows = [Measurement("mobilenet_v2", 1.0, 224, 64.0), Measurement("mobilenet_v3_small", 1.0, 224, 15.8)]
    result = fit(load_device("generic_cpu"), rows)
    notes = fit_warnings("generic_cpu", rows, result)
    assert [n for n in notes if n.startswith("note: regularised fit: 2 rows determine only 2 of the")]
    assert not [n for n in notes if "ill-posed" in n]
    # The same configuration twice determines one combination, not two: ill-posed.
    rows = [Measurement("mobilenet_v2", 1.0, 224, 64.0), Measurement("mobilenet_v2", 1.0, 224, 66.0)]
    result = fit(load_device("generic_cpu"), rows)
    warnings = [w for w in fit_warnings("generic_cpu", rows, result) if "ill-posed" in w]
    assert len(warnings) == 1 and warnings[0].startswith("warning: ill-posed fit: 2 rows determine only 1 of the")
    assert "prior" in warnings[0]


def test_a_bounded_fit_holds_efficiencies_at_1_and_says_so(tmp_path):
    # The MobileNetV3 paper's Pixel 1 column (arXiv:1905.02244v5 Table 3, P-1: 51, 71, 64 and 15.8 ms), fitted
    # from the Pixel 1 spec sheet with the Pixel 2 profile's efficiencies as the prior (as the shipped Pixel 1
    # profile was): unbounded, the memory efficiency comes out above 1; bounded, no efficiency exceeds 1 and
    # the memory one sits on its bound, which a warning names.
    from typer.testing import CliRunner

    from mobilecost.cli import app
    from mobilecost.latency.calibrate import fit_warnings
    from mobilecost.latency.devices import dump_device, parse_device

    pixel1, pixel2 = load_device("pixel1_big_tflite_fp32_1t"), load_device("pixel2_big_tflite_fp32_1t")
    base = pixel1.model_copy(update={"efficiency": pixel2.efficiency, "overhead": pixel2.overhead,
                                     "status": "spec-only", "calibration": None})
    rows = [Measurement("mobilenet_v3_large", 1.0, 224, 51.0), Measurement("mnasnet_a1", 1.0, 224, 71.0),
            Measurement("mobilenet_v2", 1.0, 224, 64.0), Measurement("mobilenet_v3_small", 1.0, 224, 15.8)]
    free = fit(base, rows)
    assert 1 / free.theta[4] > 1  # memory
    assert [w for w in fit_warnings(base, rows, free) if w.startswith("warning: fitted memory efficiency")]
    bounded = fit(base, rows, bounded=True)
    assert all(t >= 1 for t in bounded.theta[:6])
    assert bounded.theta[4] == pytest.approx(1.0, abs=1e-12)
    held = [w for w in fit_warnings(base, rows, bounded) if "held at its bound" in w]
    assert len(held) == 1 and held[0].startswith("warning: fitted memory efficiency held at its bound 1")
    # The command: --bounded writes the bounded fit and says so in the profile's source.
    (tmp_path / "base.yaml").write_text(dump_device(base), encoding="utf-8")
    (tmp_path / "rows.csv").write_text("variant,alpha,resolution,latency_ms\n"
                                       + "".join(f"{m.variant},{m.alpha},{m.resolution},{m.latency_ms}\n" for m in rows),
                                       encoding="utf-8")
    out = tmp_path / "pixel1.yaml"
    result = CliRunner().invoke(app, ["calibrate", str(tmp_path / "rows.csv"), "--base", str(tmp_path / "base.yaml"),
                                      "-o", str(out), "--bounded"])
    assert result.exit_code == 0, result.output
    assert "held at its bound 1" in result.output
    written = parse_device(out.read_text(encoding="utf-8"), str(out))
    assert written.efficiency.memory == 1.0 and "every efficiency bounded at 1" in written.efficiency.source


def test_calibration_recovers_the_cost_of_depthwise_layers_off_the_channel_blocks(tmp_path):
    # synthetic_latency_ms, plus, written out by hand, for each depthwise layer whose channels are not whole
    # blocks of 4: its MACs / (peak x 0.05) and 4 us per channel.
    def with_blocks_ms(variant, alpha, resolution):
        frame = evaluate(variant, alpha, resolution=resolution)
        off = (frame["op"] == "depthwise") & (frame["out_ch"] % 4 != 0)
        extra = (frame.loc[off, "macs"] / (PEAK * 0.05) * 1e3 + frame.loc[off, "out_ch"] * 0.004).sum()
        return synthetic_latency_ms(variant, alpha, resolution) + float(extra)

    from mobilecost.latency.calibrate import calibrated_profile
    from mobilecost.latency.devices import dump_device, parse_device
    from mobilecost.latency.model import PARAMS
    from mobilecost import estimate_latency

    generic = load_device("generic_cpu_onnxruntime")
    base = generic.model_copy(update={  # the depthwise blocks alone: no padding of 1x1 convolutions
        "memory": generic.memory.model_copy(update={"cache_gb_s": 1e6, "dram_gb_s": 1e6}),
        "layout": generic.layout.model_copy(update={"pointwise_block": None})})
    configs = [(v, a, r) for v in ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small")
               for a, r in ((0.5, 128), (1.0, 224), (0.75, 192))] + [("mobilenet_v1", 0.35, r) for r in (128, 224)]
    rows = [Measurement(v, a, r, with_blocks_ms(v, a, r)) for v, a, r in configs]
    result = fit(base, rows, prior_weight=1e-9, leave_one_out=False)
    assert 1 / result.theta[PARAMS.index("unblocked")] == pytest.approx(0.05, rel=1e-3)
    assert result.theta[PARAMS.index("unblocked_channel_ms")] == pytest.approx(0.004, rel=1e-3)
    # The calibrated profile keeps the blocks with the fitted figures, and predicts as the fit did.
    profile = calibrated_profile(base, result, rows, "synthetic.csv", name="synthetic")
    written = parse_device(dump_device(profile), str(tmp_path / "synthetic.yaml"))
    assert written.layout.channel_block == 4
    assert written.layout.unblocked == pytest.approx(0.05, rel=1e-3)
    assert written.layout.per_channel_us == pytest.approx(4.0, rel=1e-3)
    predicted = estimate_latency("mobilenet_v1", written, 0.35, resolution=160).attrs["totals"]["latency_ms"]
    assert predicted == pytest.approx(with_blocks_ms("mobilenet_v1", 0.35, 160), rel=1e-3)


def test_a_prediction_outside_the_calibration_rows_sizes_says_its_band_may_understate(tmp_path):
    # Calibrated on MobileNetV1 0.5/160 and 1.0/224: 76,524,800 and 568,740,352 MACs (Keras Applications,
    # tests/reference/keras_applications.csv). V1 0.25/128 (fewer MACs) lies outside them, V1 0.75/192 inside.
    from typer.testing import CliRunner

    from mobilecost.cli import app
    from mobilecost.latency.devices import parse_device

    (tmp_path / "rows.csv").write_text("variant,alpha,resolution,latency_ms\nmobilenet_v1,0.5,160,9.1\n"
                                       "mobilenet_v1,1.0,224,52\nmobilenet_v2,1.0,224,38\n", encoding="utf-8")
    out = tmp_path / "mine.yaml"
    runner = CliRunner()
    result = runner.invoke(app, ["calibrate", str(tmp_path / "rows.csv"), "--base", "generic_cpu", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert parse_device(out.read_text(encoding="utf-8"), str(out)).calibration.macs_span == (76_524_800, 568_740_352)
    outside = runner.invoke(app, ["latency", "mobilenet_v1", "--alpha", "0.25", "--resolution", "128", "--device", str(out)])
    assert ("outside the 76,524,800 to 568,740,352 MACs of the rows this profile was calibrated on"
            in " ".join(outside.stdout.split()))  # the line wraps at 80 columns
    inside = runner.invoke(app, ["latency", "mobilenet_v1", "--alpha", "0.75", "--resolution", "192", "--device", str(out)])
    assert inside.exit_code == 0 and "outside" not in inside.stdout.replace("outside 4-channel", "")
    import json

    doc = json.loads(runner.invoke(app, ["latency", "mobilenet_v1", "--alpha", "0.25", "--resolution", "128",
                                         "--device", str(out), "--format", "json"]).stdout)
    assert doc["totals"]["outside_calibration"] is True
    doc = json.loads(runner.invoke(app, ["latency", "mobilenet_v1", "--device", "generic_cpu", "--format", "json"]).stdout)
    assert doc["totals"]["outside_calibration"] is None  # a spec-only profile has no rows
    # A sweep counts them: V1 at alpha 0.25, 0.5, 1.0 and 128, 224 has 13,570,048, 41,030,272, 49,160,192,
    # 149,497,088, 186,400,768 and 568,740,352 MACs (Keras Applications): the first three lie below the rows'.
    sweep = runner.invoke(app, ["sweep", "mobilenet_v1", "--alpha", "0.25,0.5,1.0", "--resolution", "128,224",
                                "--device", str(out)])
    assert sweep.exit_code == 0
    assert "calibrated on: 3 of 6 configurations; the band" in " ".join(sweep.stderr.split())


def test_onnxruntime_timings_on_a_base_without_its_channel_blocks_are_warned_of(tmp_path):
    from typer.testing import CliRunner

    from mobilecost.cli import app

    rows = "mobilenet_v1,1.0,224,11.6\nmobilenet_v2,1.0,224,7.4\nmobilenet_v3_small,1.0,224,2.1\n"
    measured = tmp_path / "host.csv"  # as `mobilecost measure` writes it: a runtime column among others
    measured.write_text("variant,alpha,resolution,latency_ms,runtime\n"
                        + rows.replace("\n", ",onnxruntime 1.32.0\n"), encoding="utf-8")
    plain = tmp_path / "plain.csv"
    plain.write_text("variant,alpha,resolution,latency_ms\n" + rows, encoding="utf-8")
    runner = CliRunner()

    def warned(csv, base):
        result = runner.invoke(app, ["calibrate", str(csv), "--base", base, "-o", str(tmp_path / "out.yaml")])
        assert result.exit_code == 0, result.output
        return "timed with onnxruntime" in result.stderr

    assert warned(measured, "generic_cpu")
    assert not warned(measured, "generic_cpu_onnxruntime")
    assert not warned(plain, "generic_cpu")


def test_onnxruntime_timings_on_another_instruction_set_than_the_blocks_are_warned_of(tmp_path):
    from typer.testing import CliRunner

    from mobilecost.cli import app

    rows = "mobilenet_v1,1.0,224,11.6\nmobilenet_v2,1.0,224,7.4\nmobilenet_v3_small,1.0,224,2.1\n"
    runner = CliRunner()

    def stderr(isa):  # generic_cpu_onnxruntime's blocks were measured with avx512f
        measured = tmp_path / "host.csv"
        measured.write_text("variant,alpha,resolution,latency_ms,runtime,isa\n"
                            + rows.replace("\n", f",onnxruntime 1.32.0,{isa}\n"), encoding="utf-8")
        result = runner.invoke(app, ["calibrate", str(measured), "--base", "generic_cpu_onnxruntime",
                                     "-o", str(tmp_path / "out.yaml")])
        assert result.exit_code == 0, result.output
        return result.stderr

    assert "ran onnxruntime on a CPU with avx2" in stderr("avx2")
    assert "measured with avx512f" in stderr("aarch64")
    assert "ran onnxruntime on a CPU" not in stderr("avx512f")
    assert "ran onnxruntime on a CPU" not in stderr("")  # rows without the column: nothing to compare
