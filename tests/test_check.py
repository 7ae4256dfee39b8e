"""`mobilecost check`: budgets for CI. Exit 1 with one message when exceeded, 0 when the configuration fits.

Expected figures: Keras Applications MobileNetV2(alpha=1.0), 224: 300,774,272 MACs and 3,504,872 trainable
parameters (tests/reference/keras_applications.csv); MobileNetV2 paper (arXiv:1801.04381) Table 4:
300 M multiply-adds, 3.4 M parameters. Peak activation memory of MobileNetV1 1.0-224, derived by hand below.
"""

import pytest
from typer.testing import CliRunner

from mobilecost.analysis.budget import parse_quantity
from mobilecost.cli import app
from mobilecost.errors import MobilecostError

runner = CliRunner()


def run(*args):
    """Exit code and messages; a message wrapped to the text width (continuation lines indented) is one entry."""
    result = runner.invoke(app, ["check", *args])
    lines = []
    for line in (result.stderr or "").splitlines():
        if line.startswith(" ") and lines:
            lines[-1] += " " + line.strip()
        elif line.strip():
            lines.append(line)
    return result.exit_code, lines


def test_over_the_macs_budget_exits_1_with_one_message():
    code, lines = run("mobilenet_v2", "--alpha", "1.0", "--resolution", "224", "--max-macs", "150M")
    assert code == 1
    assert len(lines) == 1
    assert "MACs 300,774,272" in lines[0] and "150,000,000" in lines[0]


def test_within_the_budgets_exits_0():
    # V2 1.0-224: 300.8 M MACs and 3.47 M paper-convention params (weights + biases) fit 301M / 3.5M.
    code, lines = run("mobilenet_v2", "--max-macs", "301M", "--max-params", "3.5M")
    assert code == 0, lines
    assert "within budget" in lines[0]


def test_params_follow_the_convention():
    # Keras trainable params 3,504,872 = weights + biases + BN gamma/beta (torchvision convention).
    assert run("mobilenet_v2", "--max-params", "3504872", "--convention", "torchvision")[0] == 0
    assert run("mobilenet_v2", "--max-params", "3504871", "--convention", "torchvision")[0] == 1


def test_peak_memory_budget_against_a_hand_derivation():
    # MobileNetV1 1.0-224, sequential schedule, fp32: the largest live set is b1.pw, reading the
    # 112x112x32 depthwise output while writing its 112x112x64 output: 112*112*(32+64) = 1,204,224
    # elements = 4,816,896 bytes. (conv1: 224*224*3 + 112*112*32 = 551,936; b2.dw: 112*112*64 +
    # 56*56*64 = 1,003,520 -- both smaller.)
    assert run("mobilenet_v1", "--max-peak-memory", "4816896")[0] == 0
    code, lines = run("mobilenet_v1", "--max-peak-memory", "4816895")
    assert code == 1 and "4,816,896 bytes" in lines[0]
    # int8 activations: one byte per element.
    assert run("mobilenet_v1", "--max-peak-memory", "1.2MB", "--dtype", "int8")[0] == 1
    assert run("mobilenet_v1", "--max-peak-memory", "1.25MB", "--dtype", "int8")[0] == 0


def test_latency_budget_needs_a_device():
    code, lines = run("mobilenet_v2", "--max-latency-ms", "20")
    assert code == 2 and len(lines) == 1 and "--device" in lines[0]


def test_latency_budget_on_a_device():
    from mobilecost.latency.devices import list_devices

    device = list_devices()[0]
    generous = run("mobilenet_v3_small", "--max-latency-ms", "100000", "--device", device)
    tight = run("mobilenet_v3_small", "--max-latency-ms", "0.0001ms", "--device", device)
    assert generous[0] == 0 and tight[0] == 1
    assert "simulated latency" in tight[1][0]


@pytest.mark.parametrize("args", [
    ("mobilenet_v2", "--max-macs", "15X"),
    ("mobilenet_v2", "--max-macs", "-3M"),
    ("mobilenet_v2",),
    ("no_such_variant", "--max-macs", "1M"),
    ("mobilenet_v2", "--alpha", "zero", "--max-macs", "1M"),
])
def test_bad_input_is_one_line_and_exit_2(args):
    code, lines = run(*args)
    assert code == 2 and len(lines) == 1 and lines[0].startswith("mobilecost: error:")


@pytest.mark.parametrize("text,kind,expected", [
    ("150M", "count", 150e6), ("4.2M", "count", 4.2e6), ("600K", "count", 600e3), ("1e6", "count", 1e6),
    ("2MB", "bytes", 2e6), ("2MiB", "bytes", 2 * 1024 * 1024), ("512kb", "bytes", 512e3),
    ("20", "ms", 20.0), ("20ms", "ms", 20.0), ("0.5s", "ms", 500.0),
])
def test_quantities_with_suffixes(text, kind, expected):
    assert parse_quantity(text, kind, "--max") == pytest.approx(expected)


def test_bytes_suffix_is_not_a_count():
    with pytest.raises(MobilecostError):
        parse_quantity("2MB", "count", "--max-macs")


def test_a_latency_verdict_outside_the_calibration_rows_sizes_says_so_after_the_verdict():
    # desktop_zen3_avx2_ncnn_fp32_1t was calibrated on V1, V2 and V3-Large at 1.0/224: 216,589,760 to
    # 568,740,352 MACs. MobileNetV3-Small 1.0/224 (56,510,400 MACs, Keras Applications) lies below them.
    device = "desktop_zen3_avx2_ncnn_fp32_1t"
    code, lines = run("mobilenet_v3_small", "--max-latency-ms", "100000", "--device", device)
    assert code == 0 and lines[0].startswith("mobilecost: within budget:")
    assert ("outside the 216,589,760 to 568,740,352 MACs of the rows this profile was calibrated on: this "
            "configuration's 56,510,400 MACs") in " ".join(" ".join(lines[1:]).split())
    code, lines = run("mobilenet_v2", "--max-latency-ms", "100000", "--device", device)
    assert code == 0 and not any("outside" in line for line in lines)


def test_a_limit_is_read_exactly_and_a_fractional_count_is_refused():
    # MobileNetV1 1.0-224: 568,740,352 MACs (Keras Applications). '568.740352M' is that count exactly;
    # as the float product 568.740352 * 1e6 it could land a hair below it and fail the check.
    assert run("mobilenet_v1", "--max-macs", "568.740352M")[0] == 0
    assert run("mobilenet_v1", "--max-macs", "568740351")[0] == 1
    # 1.001 * 1e6 is 1000999.9999999999 in floats: a network of 1,001,000 would have been over '1.001M'.
    assert parse_quantity("1.001M", "count", "--max-params") == 1_001_000
    # Between two counts there is no count: refused, not rounded ("568,740,352 exceeds the budget 568,740,352").
    assert run("mobilenet_v1", "--max-macs", "568740351.5") == (
        2, ["mobilecost: error: --max-macs: a count is a whole number, got '568740351.5'"])
    assert run("mobilenet_v1", "--max-peak-memory", "1.5KiB")[0] == 1  # 1.5 KiB = 1,536 bytes: whole, accepted
    assert run("mobilenet_v1", "--max-peak-memory", "1.5B") == (
        2, ["mobilecost: error: --max-peak-memory: a number of bytes is a whole number, got '1.5B' = 1.5"])
    assert run("mobilenet_v1", "--max-macs", "1e400") == (
        2, ["mobilecost: error: --max-macs: a limit has at most 40 digits and an exponent from -30 to 30, got '1e400'"])


def test_a_latency_budget_prints_as_written_and_a_verdict_never_shows_equal_figures():
    code, lines = run("mobilenet_v1", "--max-latency-ms", "0.001", "--device", "generic_cpu")
    assert code == 1 and lines[0].endswith("exceeds the budget 0.001 ms")
    # generic_cpu puts MobileNetV1 1.0-224 at 77.29... ms: a budget of 77.29 is over by less than 0.005 ms.
    code, lines = run("mobilenet_v1", "--max-latency-ms", "77.29", "--device", "generic_cpu")
    assert code == 1 and lines[0].endswith("generic_cpu 77.291 ms exceeds the budget 77.29 ms")


def test_a_device_without_a_latency_budget_is_refused():
    # Otherwise an unknown or mistyped device passes unnoticed with exit 0.
    assert run("mobilenet_v1", "--max-macs", "1G", "--device", "no_such_device") == (
        2, ["mobilecost: error: --device: a device is used for the latency budget only; give --max-latency-ms too"])
