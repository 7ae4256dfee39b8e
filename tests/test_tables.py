"""Tables: built-ins validate, users' copies work anywhere a name does, bad tables fail clearly."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mobilecost import MobilecostError, evaluate, load_variant
from mobilecost.cli import app
from mobilecost.spec.files import tables_dir

V2_TEXT = (Path(__file__).resolve().parent.parent / "tables" / "mobilenet_v2.yaml").read_text()


def _error(path) -> str:
    with pytest.raises(MobilecostError) as info:
        evaluate(str(path))
    return str(info.value)


def _line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_builtin_tables_are_found_and_valid():
    assert {p.stem for p in tables_dir().glob("*.yaml")} >= {
        "mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small"}
    for name in ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small"):
        spec = load_variant(name)
        assert spec.source and spec.layers


def test_user_copy_gives_the_same_counts(table_copy):
    path = table_copy(V2_TEXT)
    assert evaluate(str(path), alpha=0.5).attrs["totals"] == evaluate("mobilenet_v2", alpha=0.5).attrs["totals"]


def test_user_variant_with_changed_row(table_copy):
    # A narrower last stage: c 320 -> 256 changes the last bottleneck's projection and the 1x1 conv's input.
    text = V2_TEXT.replace("c: 320,  n: 1, s: 1}", "c: 256,  n: 1, s: 1}").replace("7^2x320", "7^2x256")
    base = evaluate("mobilenet_v2").attrs["totals"]["weights"]
    mine = evaluate(str(table_copy(text))).attrs["totals"]["weights"]
    # project 960x320 -> 960x256 and conv 320x1280 -> 256x1280 (hand count)
    assert base - mine == 960 * 64 + 64 * 1280


def test_unknown_key_names_file_line_and_key(table_copy):
    text = V2_TEXT.replace("t: 6, c: 24,", "t: 6, colour: 24,")
    path = table_copy(text)
    message = _error(path)
    assert f"{path.name}:{_line_of(text, 'colour')}" in message and "colour" in message and "unknown key" in message


def test_wrong_type_names_the_field(table_copy):
    text = V2_TEXT.replace("t: 6, c: 32,", "t: six, c: 32,")
    path = table_copy(text)
    message = _error(path)
    assert f":{_line_of(text, 'six')}" in message and "layers[3].t" in message


def test_unknown_operator(table_copy):
    text = V2_TEXT.replace("operator: avgpool 7x7", "operator: maxpool 3x3")
    message = _error(table_copy(text))
    assert "operator" in message and f":{_line_of(text, 'maxpool')}" in message


def test_malformed_yaml(table_copy):
    path = table_copy(V2_TEXT.replace("{input: 112^2x16,", "{input: [112^2x16,"))
    message = _error(path)
    assert "malformed YAML" in message and path.name in message


def test_check_column_disagreeing_with_shape_propagation(table_copy):
    text = V2_TEXT.replace("{input: 14^2x96,", "{input: 14^2x97,")
    path = table_copy(text)
    message = _error(path)
    assert f"{path.name}:{_line_of(text, '14^2x97')}" in message and "input" in message and "14x14x96" in message


def test_yaml_is_read_safely(table_copy):
    path = table_copy("!!python/object/apply:os.system ['echo hacked']\n")
    message = _error(path)
    assert "malformed YAML" in message


def test_width_rule_naming_a_missing_layer(table_copy):
    path = table_copy(V2_TEXT.replace("above_one: [last_conv]", "above_one: [head]"))
    assert "head" in _error(path)


def test_validate_command_on_bad_table(table_copy):
    path = table_copy(V2_TEXT.replace("s: 2, name: conv1}", "s: 0, name: conv1}"))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and "layers[0].s" in result.stderr and "Traceback" not in result.output
