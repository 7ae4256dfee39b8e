"""The command line as a user meets it: outputs, exit codes, and one-line errors."""

import json
import subprocess
import sys

import pytest
from conftest import one_line_error
from typer.testing import CliRunner

from mobilecost.cli import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args))


def test_report_json_totals_and_layers():
    result = run("report", "mobilenet_v1", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["variant"] == "mobilenet_v1" and data["alpha"] == 1.0 and data["resolution"] == 224
    # Keras Applications: 4,253,864 parameters in total of which 43,776 are BN statistics;
    # the paper convention (default) folds BN: 4,210,088.
    assert data["totals"]["macs"] == 568_740_352
    assert data["totals"]["params"] == 4_210_088
    assert sum(data["totals"][k] for k in ("weights", "biases", "bn_affine", "bn_stats")) == 4_253_864
    assert all(isinstance(data["totals"][k], int) for k in ("macs", "weights", "biases", "params"))
    assert len(data["layers"]) == 30 and data["layers"][0]["name"] == "conv1"
    assert any("1704.04861" in p["source"] for p in data["published"])


@pytest.mark.parametrize("convention,expected", [("paper", 4_210_088), ("torchvision", 4_231_976), ("keras", 4_253_864)])
def test_conventions_select_what_params_sums(convention, expected):
    data = json.loads(run("report", "mobilenet_v1", "-f", "json", "--convention", convention).stdout)
    assert data["totals"]["params"] == expected


def test_report_formats_and_share_table():
    table = run("report", "mobilenet_v1")
    assert table.exit_code == 0
    # MobileNets Table 2: 1x1 convolutions take 94.86 % of the mult-adds.
    assert "Conv 1x1" in table.stdout and "94.86" in table.stdout
    md = run("report", "mobilenet_v2", "-f", "markdown").stdout
    assert md.startswith("## MobileNetV2") and "| **total** |" in md
    csv_text = run("report", "mobilenet_v3_small", "-f", "csv", "--alpha", "0.75", "--resolution", "160").stdout
    assert csv_text.splitlines()[0].startswith("name,op,kernel,stride")


def test_resolution_and_rho_agree():
    by_res = json.loads(run("report", "mobilenet_v2", "-f", "json", "--resolution", "160").stdout)
    by_rho = json.loads(run("report", "mobilenet_v2", "-f", "json", "--rho", "0.7142857142857143").stdout)
    assert by_res["totals"] == by_rho["totals"] and by_rho["resolution"] == 160


def test_sweep_csv_rows_and_columns(keras_rows):
    result = run("sweep", "mobilenet_v2", "--alpha", "0.35,1.4", "--resolution", "96:224:32", "--convention", "keras")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    header = lines[0].split(",")
    for col in ("variant", "alpha", "rho", "resolution", "macs", "weights", "biases", "bn_affine", "bn_stats", "params"):
        assert col in header
    assert len(lines) == 1 + 2 * 5
    row = dict(zip(header, lines[-1].split(",")))
    keras = next(r for r in keras_rows if r["variant"] == "mobilenet_v2" and r["alpha"] == "1.4" and r["resolution"] == "224")
    assert int(row["params"]) == int(keras["total_params"]) and int(row["macs"]) == int(keras["macs"])


def test_formula_plain_and_latex():
    plain = run("formula", "mobilenet_v1")
    assert plain.exit_code == 0 and "539492352*alpha**2*rho**2" in plain.stdout
    latex = run("formula", "mobilenet_v1", "--latex")
    assert "\\alpha^{2}" in latex.stdout
    exact = run("formula", "mobilenet_v2", "--mode", "exact")
    assert "make_divisible" in exact.stdout


def test_list_and_validate():
    listed = run("list")
    assert listed.exit_code == 0 and "mobilenet_v3_small" in listed.stdout
    classification, heads = listed.stdout.split("Detection and segmentation heads on a backbone table")
    assert classification.startswith("Classification networks")
    for name in ("mobilenet_v1", "mobilenet_v4_conv_small", "mnasnet_a1"):
        assert f"  {name} " in classification and name not in heads
    for name in ("ssdlite320_mobilenet_v3_large", "lraspp_mobilenet_v3_small", "deeplabv3_mobilenet_v3_large"):
        assert f"  {name} " in heads and name not in classification
    ok = run("validate", "mobilenet_v3_large")
    assert ok.exit_code == 0 and "ok" in ok.stdout


@pytest.mark.parametrize("args,fragments", [
    (["report", "mobilenet_v1", "--alpha", "-1"], ["--alpha", "positive"]),
    (["report", "mobilenet_v1", "--alpha", "abc"], ["--alpha", "number"]),
    (["report", "mobilenet_v1", "--alpha", "nan"], ["--alpha"]),
    (["report", "mobilenet_v1", "--resolution", "16"], ["--resolution", "too small", "32"]),
    (["report", "mobilenet_v1", "--resolution", "12.5"], ["--resolution"]),
    (["report", "mobilenet_v1", "--rho", "0.5", "--resolution", "112"], ["either"]),
    (["report", "mobilenet_v3_larg"], ["unknown variant", "mobilenet_v3_large"]),
    (["report", "missing_table.yaml"], ["missing_table.yaml", "no such"]),
    (["report", "mobilenet_v1", "--semantics", "onnx"], ["--semantics", "keras"]),
    (["sweep", "mobilenet_v1", "--alpha", "1:0.5:-1"], ["--alpha"]),
    (["sweep", "mobilenet_v1", "--resolution", "100.5"], ["--resolution"]),
    (["formula", "mobilenet_v1", "--metric", "speed"], ["--metric", "unknown metric"]),
])
def test_bad_options_give_one_clear_line(args, fragments):
    one_line_error(run(*args), *fragments)


def test_no_partial_output_file_on_error(tmp_path):
    out = tmp_path / "report.json"
    result = run("report", "mobilenet_v1", "--resolution", "8", "-o", str(out))
    one_line_error(result, "--resolution")
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_output_file_written(tmp_path):
    out = tmp_path / "v2.json"
    assert run("report", "mobilenet_v2", "-f", "json", "-o", str(out)).exit_code == 0
    assert json.loads(out.read_text())["totals"]["macs"] == 300_774_272
    assert [p.name for p in tmp_path.iterdir()] == ["v2.json"]


def test_python_dash_m_entry_point_exit_codes():
    ok = subprocess.run([sys.executable, "-m", "mobilecost", "report", "mobilenet_v3_small", "-f", "json"],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and json.loads(ok.stdout)["totals"]["macs"] == 56_510_400
    bad = subprocess.run([sys.executable, "-m", "mobilecost", "report", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stdout == "" and "Traceback" not in bad.stderr


def test_output_files_get_ordinary_permissions(tmp_path):
    import os

    out = tmp_path / "v1.csv"
    assert run("report", "mobilenet_v1", "-f", "csv", "-o", str(out)).exit_code == 0
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask


def test_flops_are_twice_the_macs_and_never_replace_them():
    data = json.loads(run("report", "mobilenet_v3_large", "-f", "json").stdout)
    # Keras Applications MobileNetV3-Large 1.0/224: 216,589,760 multiply-accumulates.
    assert data["totals"]["macs"] == 216_589_760 and data["totals"]["flops"] == 433_179_520
    header, row = run("sweep", "mobilenet_v3_large", "--alpha", "1.0").stdout.strip().splitlines()
    values = dict(zip(header.split(","), row.split(",")))
    assert int(values["macs"]) == 216_589_760 and int(values["flops"]) == 433_179_520
