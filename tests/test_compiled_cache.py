"""Compiled evaluators stored on disk load back to the same numbers, and a damaged file is rebuilt."""

import numpy as np

from mobilecost import compiled, load_variant


def _fresh(monkeypatch, tmp_path):
    monkeypatch.setenv("MOBILECOST_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(compiled, "_MEMORY", {})


def test_stored_evaluator_gives_identical_values(monkeypatch, tmp_path):
    _fresh(monkeypatch, tmp_path)
    spec = load_variant("mobilenet_v3_small")
    built = compiled.compiled_layers(spec, "exact", "torchvision").evaluate(0.75, 160 / 224)
    stored = list(tmp_path.glob("layers-*.py"))
    assert len(stored) == 1
    monkeypatch.setattr(compiled, "_MEMORY", {})
    loaded = compiled.compiled_layers(spec, "exact", "torchvision").evaluate(0.75, 160 / 224)
    for field in built:
        np.testing.assert_array_equal(built[field], loaded[field])


def test_damaged_cache_file_is_rebuilt(monkeypatch, tmp_path):
    _fresh(monkeypatch, tmp_path)
    spec = load_variant("mobilenet_v1")
    expected = compiled.compiled_layers(spec).evaluate(1.0, 1.0)["macs"].sum()
    (path,) = tmp_path.glob("layers-*.py")
    path.write_text("def broken(:\n")
    monkeypatch.setattr(compiled, "_MEMORY", {})
    # MobileNets: 568,740,352 mult-adds at 1.0 / 224 (Keras Applications counts the same).
    assert compiled.compiled_layers(spec).evaluate(1.0, 1.0)["macs"].sum() == expected == 568_740_352
