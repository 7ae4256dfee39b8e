"""The latency commands as a user meets them: devices, latency, calibrate, sweep --device."""

import json
import shutil
from pathlib import Path

import yaml
from conftest import one_line_error
from typer.testing import CliRunner

from mobilecost.cli import app

runner = CliRunner()
TABLES = Path(__file__).resolve().parent.parent / "tables"


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_devices_lists_every_shipped_profile_with_its_status():
    result = run("devices")
    assert result.exit_code == 0, result.output
    for name in ("pixel1_big_tflite_fp32_1t", "pixel4_a76_tflite_fp32_1t", "rpi4_a72_ncnn_fp32_1t",
                 "jetson_nano_gpu_ncnn_fp16", "desktop_zen3_avx2_ncnn_fp32_1t"):
        assert name in result.stdout
    assert "spec-only" in result.stdout and "calibrated" in result.stdout
    assert "= 73.6 GMAC/s" in result.stdout  # 4.6 GHz x 16 MAC/cycle x 1 core


def test_latency_json_has_totals_and_is_labelled_simulated():
    result = run("latency", "mobilenet_v2", "--device", "pixel4_a76_tflite_fp32_1t", "--alpha", "0.75",
                 "--resolution", "192", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["simulated"] is True and "simulated" in data["label"]
    assert data["device"]["name"] == "pixel4_a76_tflite_fp32_1t" and data["device"]["calibration_error"]
    total = data["totals"]["latency_ms"]
    assert total > 0 and abs(total - sum(layer["time_ms"] for layer in data["layers"])) < 1e-9
    assert {layer["bound"] for layer in data["layers"]} <= {"compute", "memory", "overhead"}
    assert data["alpha"] == 0.75 and data["resolution"] == 192


def test_latency_table_and_csv_carry_the_label():
    table = run("latency", "mobilenet_v3_small", "-d", "jetson_nano_gpu_ncnn_fp16")
    assert table.exit_code == 0 and "SIMULATED" in table.stdout and "leave-one-out" in table.stdout
    csv = run("latency", "mobilenet_v3_small", "-d", "jetson_nano_gpu_ncnn_fp16", "-f", "csv")
    assert csv.stdout.startswith("# simulated latency on jetson_nano_gpu_ncnn_fp16")


def test_latency_works_for_a_users_own_table_and_profile_path(tmp_path):
    table = tmp_path / "mine.yaml"
    shutil.copy(TABLES / "mobilenet_v1.yaml", table)
    profile = tmp_path / "dev.yaml"
    shutil.copy(TABLES / "devices" / "generic_cpu.yaml", profile)
    result = run("latency", table, "--device", profile, "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["latency_ms"] > 0


def test_sweep_with_device_adds_latency_column():
    result = run("sweep", "mobilenet_v1", "--alpha", "0.5,1.0", "--resolution", "128,224", "--device",
                 "rpi4_a72_ncnn_fp32_1t", "-f", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 4 and all(r["latency_ms"] > 0 for r in rows)
    assert "simulated latency on rpi4_a72_ncnn_fp32_1t" in result.stderr
    plain = json.loads(run("sweep", "mobilenet_v1", "--alpha", "1.0", "-f", "json").stdout)
    assert "latency_ms" not in plain[0]


def test_calibrate_writes_a_profile_usable_as_device(tmp_path):
    measurements = tmp_path / "m.csv"
    measurements.write_text("variant,alpha,resolution,latency_ms\nmobilenet_v1,1.0,224,60\n"
                            "mobilenet_v2,1.0,224,40\nmobilenet_v3_large,1.0,224,30\nmobilenet_v1,0.5,160,12\n")
    out = tmp_path / "mine.yaml"
    result = run("calibrate", measurements, "--base", "generic_cpu", "--name", "my_phone", "-o", out)
    assert result.exit_code == 0, result.output
    assert "leave-one-out" in result.stdout and "residual" in result.stdout
    doc = yaml.safe_load(out.read_text())
    assert doc["name"] == "my_phone" and doc["status"] == "calibrated" and len(doc["calibration"]["rows"]) == 4
    used = run("latency", "mobilenet_v1", "--device", out, "-f", "json")
    assert used.exit_code == 0, used.output
    assert abs(json.loads(used.stdout)["totals"]["latency_ms"] - 60) / 60 < 0.15


def test_bad_inputs_are_one_line_errors(tmp_path):
    one_line_error(run("latency", "mobilenet_v1", "--device", "pixel9"), "unknown device")
    bad = tmp_path / "bad.yaml"
    bad.write_text((TABLES / "devices" / "generic_cpu.yaml").read_text().replace("threads: 1", "threads: many"))
    one_line_error(run("latency", "mobilenet_v1", "--device", bad), "bad.yaml:", "threads")
    measurements = tmp_path / "m.csv"
    measurements.write_text("variant,alpha,resolution,latency_ms\nmobilenet_v9,1.0,224,60\n")
    out = tmp_path / "never.yaml"
    one_line_error(run("calibrate", measurements, "--base", "generic_cpu", "-o", out), "m.csv:2")
    assert not out.exists()
