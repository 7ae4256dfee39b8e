"""Bad input at the edges gets one line and exit 2: never a traceback, a wrong number, or an output
file half-written, replaced by mistake or written when another output of the same command failed."""

import os
import re
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mobilecost.cli import app

ROOT = Path(__file__).resolve().parent.parent
TABLES = ROOT / "tables"
P4 = "pixel4_a76_tflite_fp32_1t"
MEASURED = "variant,alpha,resolution,latency_ms\nmobilenet_v1,1.0,224,30\nmobilenet_v2,1.0,224,20\nmobilenet_v1,0.5,160,8\n"

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def one_line_error(result, *fragments) -> str:
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert message.startswith("mobilecost: error:"), message
    assert "Traceback" not in result.output and len(message.splitlines()) == 1, message
    assert len(message) < 400, message
    for fragment in fragments:
        assert fragment in message, message
    return message


def listing(folder: Path) -> dict:
    """Every path under `folder` with its bytes (or 'dir'), to show nothing was written or replaced."""
    return {str(p.relative_to(folder)): ("dir" if p.is_dir() and not p.is_symlink() else p.read_bytes())
            for p in sorted(folder.rglob("*")) if not p.is_fifo()}


def table(tmp_path: Path, source: str, name: str, *replacements) -> Path:
    text = (TABLES / f"{source}.yaml").read_text(encoding="utf-8")
    for old, new in replacements:
        assert re.search(old, text, flags=re.M), old
        text = re.sub(old, new, text, count=1, flags=re.M)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- 3. files that are not UTF-8 ---------------------------------------------------------------------
def test_latin1_files_are_one_line_naming_file_and_line(tmp_path):
    t = table(tmp_path, "mobilenet_v1", "latin1.yaml", (r"^title: .*$", "title: Caf\u00e9Net"))
    t.write_bytes(t.read_text(encoding="utf-8").encode("latin-1"))
    line = t.read_bytes().split(b"\n").index(b"title: Caf\xe9Net") + 1
    for args in (["report", t], ["validate", t], ["export", t, "--json", tmp_path / "r.json"]):
        one_line_error(run(*args), f"latin1.yaml:{line}: not UTF-8 text: byte 0xe9 at column 11")
    profile = tmp_path / "device.yaml"
    text = (TABLES / "devices" / f"{P4}.yaml").read_text(encoding="utf-8")
    profile.write_bytes(re.sub(r"(?m)^title: ", "title: \u00e9 ", text, count=1).encode("latin-1", "replace"))
    one_line_error(run("latency", "mobilenet_v1", "--device", profile), "device.yaml:", "not UTF-8 text")
    assert not (tmp_path / "r.json").exists()


# -- 4. absurd YAML: deep nesting, huge integers ------------------------------------------------------
def test_deeply_nested_yaml_is_one_line(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("name: x\nlayers: " + "[" * 20000 + "]" * 20000 + "\n")
    one_line_error(run("report", path), "deep.yaml:2: nested more than 64 levels deep")


@pytest.mark.parametrize("source,old,new,says", [
    ("mobilenet_v1", r"^classes: 1000", "classes: " + "9" * 400, ":11: classes: must be at most 1,000,000 (got 999"),
    ("mobilenet_v1", r"^classes: 1000", "classes: " + "9" * 5000, ":11: classes: a number of 5,000 characters"),
    ("mobilenet_v1", r"^classes: 1000", "classes: 0", ":11: classes: must be more than 0"),
    ("mobilenet_v2", r"c: 64,   n: 4", "c: 100000000000000000000, n: 4", ":27: layers[4].c: must be at most 1,000,000"),
    ("mobilenet_v2", r"t: 6, c: 64", "t: 100000000000000000000, c: 64", ":27: layers[4].t: must be at most 1,000"),
    ("mobilenet_v2", r"c: 64,   n: 4", "c: 64, n: 4000000000000", ":27: layers[4].n: must be at most 1,000"),
    ("mobilenet_v2", r"divisor: 8", "divisor: 100000000000000000000", ":15: width.divisor: must be at most 1,000,000"),
    ("mobilenet_v2", r"224\^2x3, ", "100000000000000000000^2x3, ", ":23: layers[0].input: Value error, sides are 1 to 100,000"),
    ("mobilenet_v3_small", r'"bneck, 3x3",    exp: 16', '"bneck, 1000x1000", exp: 16', ":30: layers[1].operator: Value error, a kernel side is 1 to 100"),
    ("mobilenet_v3_small", r"exp: 16,  out: 16", "exp: 10000000000000000000000,  out: 16", ":30: layers[1].exp: must be at most 1,000,000"),
    ("mobilenet_v1", r"filter: 3x3x3x32,", "filter: 3x3x3x100000000000000000000,", ":26: layers[0].filter: Value error, channels are 1 to 1,000,000"),
])
def test_absurd_integers_are_refused_at_their_row_and_key(tmp_path, source, old, new, says):
    path = table(tmp_path, source, "absurd.yaml", (old, new))
    one_line_error(run("report", path, "-o", tmp_path / "r.txt"), f"absurd.yaml{says}")
    assert not (tmp_path / "r.txt").exists()


@pytest.mark.parametrize("old,new,says", [
    (r"clock_ghz: [0-9.]+", "clock_ghz: .inf", "peak.clock_ghz: Input should be a finite number"),
    (r"dram_gb_s: [0-9.]+", "dram_gb_s: .nan", "memory.dram_gb_s: Input should be a finite number"),
    (r"cores: [0-9]+", "cores: " + "9" * 400, "peak.cores: must be at most 1,000,000"),
    (r"threads: [0-9]+", "threads: 100000", "threads: must be at most 4,096"),
])
def test_absurd_device_profile_numbers_are_refused(tmp_path, old, new, says):
    text = (TABLES / "devices" / f"{P4}.yaml").read_text(encoding="utf-8")
    profile = tmp_path / "device.yaml"
    profile.write_text(re.sub(old, new, text, count=1))
    one_line_error(run("latency", "mobilenet_v1", "--device", profile), "device.yaml:", says)


def test_a_huge_variant_name_is_one_short_line():
    one_line_error(run("report", "x" * 200_000), "unknown variant", "characters")


# -- 5. measurements that cannot be fitted -----------------------------------------------------------
def test_a_latin1_measurements_csv_is_one_line_naming_file_and_line(tmp_path):
    measured = tmp_path / "m.csv"
    measured.write_bytes((MEASURED + "mobilenet_v1,0.75,192,caf\u00e9\n").encode("latin-1"))
    one_line_error(run("calibrate", measured, "--base", P4, "-o", tmp_path / "p.yaml"),
                   "m.csv:5: not UTF-8 text: byte 0xe9")
    assert not (tmp_path / "p.yaml").exists()


def test_a_utf8_byte_order_mark_in_a_measurements_csv_is_fine(tmp_path):
    measured = tmp_path / "m.csv"
    measured.write_bytes(b"\xef\xbb\xbf" + MEASURED.encode())
    result = run("calibrate", measured, "--base", P4, "-o", tmp_path / "p.yaml")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("row,says", [
    ("mobilenet_v1,inf,224,3", "m.csv:5: alpha: expected a positive number, got 'inf'"),
    ("mobilenet_v1,1.0,224,nan", "m.csv:5: latency_ms: expected a positive number, got 'nan'"),
    ("mobilenet_v2,0.5,224,1e-300", "m.csv:5: latency_ms: expected a number from 0.001 to 1e+07 ms, got '1e-300'"),
    ("mobilenet_v2,0.5,224,0", "m.csv:5: latency_ms: expected a positive number, got '0'"),
    ("mobilenet_v2,0.5,224,-3", "m.csv:5: latency_ms: expected a positive number, got '-3'"),
    ("mobilenet_v2,0.5,224,1e300", "m.csv:5: latency_ms: expected a number from 0.001 to 1e+07 ms"),
    ("mobilenet_v2,0.5,1e300,3", "m.csv:5: resolution: expected a whole number from 1 to 100000"),
    ("mobilenet_v2,0.5,224," + "1" * 131_072, "m.csv:5: latency_ms: a field of 131,072 characters; at most 256"),
    ("mobilenet_v2,0.5,224," + "1" * 300_000, "m.csv:5: latency_ms: a field of 300,000 characters; at most 256"),
    ("x" * 131_072 + ",0.5,224,3", "m.csv:5: variant: a field of 131,072 characters; at most 256"),
    ('mobilenet_v2,"0.5,224,3', "m.csv:5: alpha: expected a number, got '0.5,224,3'"),
])
def test_measurements_outside_what_can_be_fitted_are_one_line(tmp_path, row, says):
    measured = tmp_path / "m.csv"
    measured.write_text(MEASURED + row + "\n")
    one_line_error(run("calibrate", measured, "--base", P4, "-o", tmp_path / "p.yaml"), says)
    assert not (tmp_path / "p.yaml").exists()
