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
