"""Grid arguments: non-finite, overflowing or too many values are refused in one line naming the
option, before anything is allocated; ideal-mode counts that overflow float64 are refused, not printed."""

import pytest
from conftest import one_line_error
from typer.testing import CliRunner

import mobilecost
from mobilecost.api import MAX_POINTS, parse_grid
from mobilecost.cli import app
from mobilecost.errors import MobilecostError

runner = CliRunner()


def refused(args, *fragments) -> str:
    """`conftest.one_line_error` for the command `args`, with no warning printed either."""
    result = runner.invoke(app, args)
    message = one_line_error(result, *fragments)
    assert "Warning" not in result.output, result.output
    return message


@pytest.mark.parametrize("args, fragments", [
    (["--alpha", "0.1:inf:0.1"], ["--alpha:", "finite"]),
    (["--alpha", "0.1:1:1e-320"], ["--alpha:", "unboundedly many", f"{MAX_POINTS:,} configurations", "1.6 GB"]),
    (["--alpha", "1e-7:1:1e-7"], ["--alpha:", "1e+07 values", "--max-points"]),
    (["--alpha", "nan"], ["--alpha:", "finite"]),
    (["--rho", "1e308"], ["--rho:", "2**53"]),
    (["--resolution", "1e30"], ["--resolution:", "2**53"]),
    (["--alpha", "1e308", "--mode", "ideal"], ["--alpha:", "at most 1e+09"]),
    (["--alpha", "0.001:1:0.001", "--resolution", "32:10000:1"], ["--resolution:", "9,969,000 configurations"]),
    (["--alpha", "0.1:1:0.1", "--max-points", "5"], ["--alpha:", "at most 5 configurations"]),
    (["--max-points", "0"], ["--max-points:"]),
])
def test_sweep_grid_refused_in_one_line(args, fragments, tmp_path):
    out = tmp_path / "out.csv"
    refused(["sweep", "mobilenet_v1", *args, "-o", str(out)], *fragments)
    assert not out.exists()


@pytest.mark.parametrize("args, fragment", [(["--alpha", "1e308", "--mode", "ideal"], "--alpha: alpha must be at most 1e+09"),
                                            (["--alpha", "1e308"], "--alpha: alpha must be at most 1e+09"),
                                            (["--rho", "1e308", "--mode", "ideal"], "--rho: the input side must be at most")])
def test_report_refuses_configurations_beyond_the_stated_bounds(args, fragment):
    refused(["report", "mobilenet_v1", *args], fragment)


def test_export_and_measure_grids_are_bounded(tmp_path):
    refused(["export", "mobilenet_v1", "--json", str(tmp_path / "x.json"), "--alpha", "1e-9:1:1e-9"],
                   "--alpha:", "configurations")
    assert not (tmp_path / "x.json").exists()


def test_parse_grid_checks_before_allocating():
    with pytest.raises(MobilecostError, match="unboundedly many"):
        parse_grid("1e-300:1e300:1e-300", "--alpha")
    assert parse_grid("0.25:1:0.25", "--alpha").tolist() == [0.25, 0.5, 0.75, 1.0]


@pytest.mark.parametrize("kwargs", [
    {"alphas": "abc"}, {"alphas": [float("inf")]}, {"alphas": []}, {"alphas": [[1.0], [2.0, 3.0]]},
    {"alphas": [1.0], "rhos": [1e308]}, {"alphas": [1.0], "resolutions": [224.5]},
    {"alphas": [1.0], "resolutions": ["x"]}, {"alphas": [1.0], "dtype": "fp64"},
    {"alphas": list(range(1, 3000)), "resolutions": list(range(32, 1032)), "max_points": 1_000_000},
    {"alphas": [1e200], "mode": "ideal"},
])
def test_api_sweep_raises_mobilecost_error(kwargs):
    with pytest.raises(MobilecostError):
        mobilecost.sweep("mobilenet_v1", **kwargs)


def test_mobilecost_error_is_a_value_error():
    exc = MobilecostError("bad", where="t.yaml:3", field="c")
    assert isinstance(exc, ValueError) and str(exc) == "t.yaml:3: c: bad" and exc.args == ("t.yaml:3: c: bad",)


@pytest.mark.parametrize("args, fragment", [
    (["sweep", "mobilenet_v1", "--mode", "exactly"], "Invalid value for '--mode': 'exactly' is not one of"),
    (["report", "mobilenet_v1", "--format", "xml"], "Invalid value for '--format'"),
    (["measure", "mobilenet_v1", "--threads", "x"], "'x' is not a valid int"),
    (["sweep", "mobilenet_v1", "--bogus"], "No such option: --bogus"),
    (["nosuch"], "No such command 'nosuch'"),
    (["report"], "Missing argument"),
    (["report", "mobilenet_v1", "--mode", "x" * 100_000], "characters)"),
])
def test_usage_errors_are_one_line(args, fragment):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "mobilecost", *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stdout == "", result
    message = result.stderr.strip()
    assert message.startswith("mobilecost: error: ") and len(message.splitlines()) == 1, message
    assert fragment in message and len(message) < 500, message


def test_help_is_unchanged_by_the_one_line_errors():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "mobilecost", "sweep", "--help"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("Usage: ") and "--max-points" in result.stdout


@pytest.mark.parametrize("args, fragment", [
    (["onnx", "mobilenet_v1", "--alpha", "100"], "117.4 GiB of fp32 weights; a built network has at most 2 GiB"),
    (["onnx", "mobilenet_v1", "--resolution", "20000"], "GiB of fp32 peak live activations"),
])
def test_onnx_refuses_huge_networks_before_building(args, fragment, tmp_path, monkeypatch):
    pytest.importorskip("onnx")
    import mobilecost.measure.onnx_graph as graph

    monkeypatch.setattr(graph, "_Graph", None)  # building anything would fail with a TypeError
    out = tmp_path / "m.onnx"
    refused([*args, "-o", str(out)], "--alpha/--resolution:", fragment)
    assert not out.exists()


def test_measure_refuses_huge_networks_and_bad_output_before_timing(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    import mobilecost.measure.timing as timing

    def never(*args, **kwargs):
        raise AssertionError("timed something")

    monkeypatch.setattr(timing, "measure", never)
    refused(["measure", "mobilenet_v1", "--alpha", "100"], "117.4 GiB of fp32 weights")
    refused(["measure", "mobilenet_v1", "-o", "/nonexistent/x.csv"], "/nonexistent/x.csv: -o:")
    refused(["measure", "mobilenet_v1", "--alpha", "1e-9:1:1e-9"], "--alpha:", "configurations")
