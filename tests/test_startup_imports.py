"""Commands that evaluate one configuration load neither sympy nor the symbolic engine once the
compiled evaluators are on disk (start-up time of `latency` and `explain`)."""

import json
import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize("args", [
    ["latency", "mobilenet_v2", "--device", "pixel4_a76_tflite_fp32_1t", "-f", "json"],
    ["explain", "mobilenet_v2", "-f", "json"],
])
def test_warm_cache_one_configuration_commands_do_not_import_sympy(tmp_path, args):
    env = {**os.environ, "MOBILECOST_CACHE_DIR": str(tmp_path)}
    code = ("import sys, json; from typer.testing import CliRunner; from mobilecost.cli import app; "
            f"r = CliRunner().invoke(app, {args!r}); "
            "print(json.dumps({'sympy': 'sympy' in sys.modules, 'code': r.exit_code, 'doc': json.loads(r.stdout)}))")
    runs = [json.loads(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                      check=True).stdout) for _ in range(2)]
    assert [r["code"] for r in runs] == [0, 0]
    assert runs[0]["sympy"] is True and runs[1]["sympy"] is False
    doc = runs[1]["doc"]
    macs = doc["totals"]["macs"] if args[0] == "latency" else doc["macs"]
    assert macs == 300_774_272  # Keras Applications MobileNetV2 1.0/224


HEAVY = ("numpy", "pandas", "sympy", "yaml", "matplotlib")
# The modules of mobilecost that use pydantic: the validated spec and the device profiles. (typer 0.29
# itself imports pydantic while it converts the command line's values; that is the framework's own.)
PYDANTIC_USERS = ("mobilecost.spec.models", "mobilecost.spec.loader", "mobilecost.latency.devices")
# mobilecost lays out its terminal tables itself; rich's console and table stay for progress bars.
RICH_LAYOUT = ("rich.console", "rich.table")


@pytest.mark.parametrize("args, macs", [
    (["report", "mobilenet_v1"], 568_740_352),  # Keras Applications MobileNet 1.0/224
    (["report", "mobilenet_v2", "-f", "json"], 300_774_272),  # Keras Applications MobileNetV2 1.0/224
    (["report", "mobilenet_v3_small", "--alpha", "0.75", "--resolution", "160", "-f", "csv"], None),
    (["report", "tables/mobilenet_v3_large.yaml", "--convention", "keras", "-f", "markdown"], 216_589_760),
    (["check", "mobilenet_v2", "--max-macs", "400M", "--max-peak-memory", "8MB"], None),
    # explain measures every reading on a variation of the table (one more class, ideal mode, another
    # semantics, the head scaled below alpha 1): each is a snapshot of its own.
    (["explain", "mobilenet_v2", "-f", "json"], 300_774_272),
    (["explain", "mobilenet_v3_large", "--alpha", "0.75"], None),
    # latency and a latency budget: the model runs on one configuration's plain-Python columns, the device
    # profile's figures come from the cache (latency/profile_cache.py)
    (["latency", "mobilenet_v2", "--device", "pixel4_a76_tflite_fp32_1t"], None),
    (["latency", "mobilenet_v2", "--device", "pixel4_a76_tflite_fp32_1t", "-f", "json"], 300_774_272),
    (["latency", "mobilenet_v3_small", "--device", "generic_gpu", "--alpha", "0.75", "--resolution", "160", "-f", "csv"], None),
    (["latency", "ssdlite320_mobilenet_v3_large", "--device", "jetson_nano_gpu_ncnn_fp16", "--resolution", "240x320"], None),
    (["latency", "mobilenet_v1", "--device", "rpi4_a72_ncnn_fp32_1t", "--mode", "ideal", "--rho", "0.7", "-f", "json"], None),
    (["check", "mobilenet_v2", "--max-latency-ms", "20", "--device", "pixel4_a76_tflite_fp32_1t"], None),
    (["check", "mobilenet_v3_large", "--alpha", "0.75", "--max-latency-ms", "50", "--max-macs", "200M",
      "--device", "generic_cpu"], None),
])
def test_warm_report_loads_no_numerics_library(tmp_path, args, macs):
    """On a warm cache, `report`, `explain`, `latency` and `check` read the table's cached snapshots (and
    the device profile's cached figures), count in plain Python and lay their tables out without rich's
    console."""
    env = {**os.environ, "MOBILECOST_CACHE_DIR": str(tmp_path)}
    code = ("import sys, json; from mobilecost.cli import main; sys.argv = ['mobilecost'] + " + repr(args) + "\n"
            "import io, contextlib\nout, err, code = io.StringIO(), io.StringIO(), 0\n"
            "with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):\n"
            "    try: main()\n    except SystemExit as e: code = e.code\n"
            "print(json.dumps({'loaded': sorted(m for m in sys.modules if m.split('.')[0] in " + repr(HEAVY) + " or m in "
            + repr(PYDANTIC_USERS) + " or m in " + repr(RICH_LAYOUT) + "), 'out': out.getvalue(), 'err': err.getvalue(), "
            "'code': code}))")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    runs = [json.loads(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=root,
                                      check=True).stdout) for _ in range(2)]
    assert runs[0]["loaded"], "the first run builds the cache and needs the full stack"
    assert {m.split(".")[0] for m in runs[1]["loaded"]} == set(), runs[1]["loaded"]
    assert (runs[0]["out"], runs[0]["err"], runs[0]["code"]) == (runs[1]["out"], runs[1]["err"], runs[1]["code"])
    if args[0] == "check" and "--max-latency-ms" in args:
        assert "simulated latency on" in runs[1]["err"] and " ms" in runs[1]["err"]
    if macs is not None:
        assert f"{macs:,}" in runs[1]["out"] or str(macs) in runs[1]["out"]
