"""Compiled evaluators stored on disk load back to the same numbers; a damaged or unreadable entry is
rebuilt, and so is every entry once the package's rules change."""

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import mobilecost
from mobilecost import load_variant
from mobilecost.cli import app
from mobilecost.numeric import compiled
from mobilecost.numeric.values import values_at
from mobilecost.spec.files import tables_dir


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



def _report_macs(*args) -> int:
    result = CliRunner().invoke(app, ["report", "mobilenet_v1", "-f", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["totals"]["macs"]


def test_entry_of_random_bytes_is_rebuilt(monkeypatch, tmp_path):
    _fresh(monkeypatch, tmp_path)
    assert _report_macs() == 568_740_352  # Keras Applications MobileNetV1 1.0/224 (tests/reference)
    entries = sorted(tmp_path.glob("*.py"))  # every entry the report used: evaluators and the table snapshot
    assert entries
    noise = bytes([0xFF, 0xFE, 0xC3]) + random.Random(1704).randbytes(4096)
    with pytest.raises(UnicodeDecodeError):
        noise.decode("utf-8")
    for path in entries:
        path.write_bytes(noise)
    compiled.forget()
    assert _report_macs() == 568_740_352
    # rebuilt in place: the same entries, readable again, and nothing else left in the folder
    assert sorted(tmp_path.iterdir()) == entries
    for path in entries:
        assert path.read_bytes() != noise and "def _lambdifygenerated" in path.read_text(encoding="utf-8")


def test_entry_that_cannot_be_read_is_rebuilt(monkeypatch, tmp_path):
    # A directory where the entry should be: unreadable as a file for every user, root included
    # (chmod 000 would not stop root). It cannot be replaced either, so every run rebuilds.
    _fresh(monkeypatch, tmp_path)
    assert _report_macs() == 568_740_352
    entries = sorted(tmp_path.glob("*.py"))  # every entry the report used: evaluators and the table snapshot
    assert entries
    for path in entries:
        path.unlink()
        path.mkdir()
    for _ in range(2):
        compiled.forget()
        assert _report_macs() == 568_740_352  # Keras Applications MobileNetV1 1.0/224
    # the failed writes leave no partial files behind
    assert sorted(tmp_path.iterdir()) == entries and all(p.is_dir() for p in entries)


def _package_copy(folder: Path) -> Path:
    """The package under test, with its built-in tables, copied to `folder` (to put on PYTHONPATH)."""
    package = Path(mobilecost.__file__).resolve().parent
    shutil.copytree(package, folder / "mobilecost", ignore=shutil.ignore_patterns("__pycache__"))
    if not (folder / "mobilecost" / "tables").is_dir():
        shutil.copytree(tables_dir(), folder / "tables")
    return folder


def _cli_macs(package_root: Path, cache: Path, *args) -> int:
    """`python -m mobilecost report ... -f json` run from `package_root` (a copy made by `_package_copy`,
    so the table's path as shown, part of the table's key, is the same for every copy); the total MACs."""
    env = {**os.environ, "PYTHONPATH": str(package_root), "MOBILECOST_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-m", "mobilecost", "report", *args, "-f", "json"],
                          cwd=package_root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["totals"]["macs"]


def test_changed_rule_in_the_package_is_not_served_from_a_warm_cache(tmp_path):
    """The issue's test: a copy of the package whose width rule differs must print its own number,
    not the one the unmodified package left in the same cache directory."""
    unchanged = _package_copy(tmp_path / "unchanged")
    elsewhere = _package_copy(tmp_path / "elsewhere")
    changed = _package_copy(tmp_path / "changed")
    models = changed / "mobilecost" / "spec" / "models.py"
    rule = "            return self.min_channels\n"
    text = models.read_text(encoding="utf-8")
    assert text.count(rule) == 1, "WidthSpec.minimum has moved: update this test's modification"
    # Truncate rounding keeps at least 16 channels instead of the table's min_channels (8 for V1).
    models.write_text(text.replace(rule, "            return max(self.min_channels, 16)\n"), encoding="utf-8")

    cache = tmp_path / "cache"
    args = ("mobilenet_v1", "--alpha", "0.25")
    # MobileNetV1 0.25/224, TF-slim's minimum of 8 channels: 41,030,272 MACs (Keras Applications,
    # tests/reference/keras_applications.csv; no channel count falls below 8 at alpha 0.25).
    assert _cli_macs(unchanged, cache, *args) == 41_030_272
    warm = sorted(cache.glob("layers-*.py"))
    assert len(warm) == 1
    # Control: the same package in another folder is served that entry, so the cache is shared
    # between copies and only the changed source can tell the changed copy's entry apart.
    assert _cli_macs(elsewhere, cache, *args) == 41_030_272
    assert sorted(cache.glob("layers-*.py")) == warm
    # With a minimum of 16, only the 32 channels of conv1 (int(32 x 0.25) = 8) change, to 16; every
    # other width is int(c x 0.25) >= 16. The three layers that touch them double, at 112 x 112:
    #   conv1     3x3x3 -> 16:  112*112*27*16 = 5,419,008  (was 2,709,504)
    #   conv dw   3x3 x 16:     112*112*9*16  = 1,806,336  (was   903,168)
    #   conv 1x1  16 -> 16:     112*112*16*16 = 3,211,264  (was 1,605,632)
    # 41,030,272 + 2,709,504 + 903,168 + 1,605,632 = 46,248,576.
    for _ in range(2):  # the first run builds the changed package's entry, the second loads it
        assert _cli_macs(changed, cache, *args) == 46_248_576
    rebuilt = sorted(cache.glob("layers-*.py"))
    assert len(rebuilt) == 2 and set(warm) < set(rebuilt)
    # and the unmodified package still finds its own entry
    assert _cli_macs(unchanged, cache, *args) == 41_030_272
    assert sorted(cache.glob("layers-*.py")) == rebuilt
