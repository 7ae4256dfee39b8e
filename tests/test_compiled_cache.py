"""Compiled evaluators stored on disk load back to the same numbers, and a damaged file is rebuilt."""

import numpy as np

from mobilecost import load_variant
from mobilecost.numeric import compiled
from mobilecost.numeric.values import values_at


def _fresh(monkeypatch, tmp_path):
    monkeypatch.setenv("MOBILECOST_CACHE_DIR", str(tmp_path))
    compiled.forget()


def test_stored_evaluator_gives_identical_values(monkeypatch, tmp_path):
    _fresh(monkeypatch, tmp_path)
    spec = load_variant("mobilenet_v3_small")
    built = values_at(compiled.compiled_layers(spec, "exact", "torchvision"), 0.75, 160 / 224).at(0)
    stored = list(tmp_path.glob("layers-*.py"))
    assert len(stored) == 1
    compiled.forget()
    loaded = values_at(compiled.compiled_layers(spec, "exact", "torchvision"), 0.75, 160 / 224).at(0)
    for field in built:
        np.testing.assert_array_equal(built[field], loaded[field])


def test_damaged_cache_file_is_rebuilt(monkeypatch, tmp_path):
    _fresh(monkeypatch, tmp_path)
    spec = load_variant("mobilenet_v1")
    expected = values_at(compiled.compiled_layers(spec), 1.0, 1.0).at(0)["macs"].sum()
    (path,) = tmp_path.glob("layers-*.py")
    path.write_text("def broken(:\n")
    compiled.forget()
    # MobileNets: 568,740,352 mult-adds at 1.0 / 224 (Keras Applications counts the same).
    assert values_at(compiled.compiled_layers(spec), 1.0, 1.0).at(0)["macs"].sum() == expected == 568_740_352


def test_report_with_a_warm_cache_does_not_import_sympy(tmp_path):
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "MOBILECOST_CACHE_DIR": str(tmp_path)}
    code = ("import sys, json; from typer.testing import CliRunner; from mobilecost.cli import app; "
            "r = CliRunner().invoke(app, ['report', 'mobilenet_v2', '-f', 'json']); "
            "print(json.dumps({'sympy': 'sympy' in sys.modules, 'macs': json.loads(r.stdout)['totals']['macs']}))")
    first = json.loads(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                      check=True).stdout)
    second = json.loads(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                       check=True).stdout)
    assert first["sympy"] is True and second["sympy"] is False
    assert first["macs"] == second["macs"] == 300_774_272  # Keras Applications MobileNetV2 1.0/224
