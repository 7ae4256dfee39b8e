"""Bad input at the edges gets one line and exit 2: never a traceback, a wrong number, or an output
file half-written, replaced by mistake or written when another output of the same command failed."""

import csv
import os
import re
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest
from conftest import one_line_error
from typer.testing import CliRunner

from mobilecost.cli import app

ROOT = Path(__file__).resolve().parent.parent
TABLES = ROOT / "tables"
P4 = "pixel4_a76_tflite_fp32_1t"
MEASURED = "variant,alpha,resolution,latency_ms\nmobilenet_v1,1.0,224,30\nmobilenet_v2,1.0,224,20\nmobilenet_v1,0.5,160,8\n"

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def short_error(result, *fragments) -> str:
    """`conftest.one_line_error`, and short enough to read."""
    message = one_line_error(result, *fragments)
    assert len(message) < 400, message
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
        short_error(run(*args), f"latin1.yaml:{line}: not UTF-8 text: byte 0xe9 at column 11")
    profile = tmp_path / "device.yaml"
    text = (TABLES / "devices" / f"{P4}.yaml").read_text(encoding="utf-8")
    profile.write_bytes(re.sub(r"(?m)^title: ", "title: \u00e9 ", text, count=1).encode("latin-1", "replace"))
    short_error(run("latency", "mobilenet_v1", "--device", profile), "device.yaml:", "not UTF-8 text")
    assert not (tmp_path / "r.json").exists()


# -- 4. absurd YAML: deep nesting, huge integers ------------------------------------------------------
def test_deeply_nested_yaml_is_one_line(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("name: x\nlayers: " + "[" * 20000 + "]" * 20000 + "\n")
    short_error(run("report", path), "deep.yaml:2: nested more than 64 levels deep")


def test_a_yaml_file_of_too_many_values_is_refused_at_the_value_past_the_bound(tmp_path):
    # 4 MiB of '- 1' lines once took 2 minutes and 2.9 GB to refuse (16 MiB: 4 minutes, 5.7 GB).
    path = tmp_path / "many.yaml"
    path.write_text("name: x\nlayers:\n" + "- 1\n" * 1_000_000)
    for args in (["validate", path], ["latency", "mobilenet_v1", "--device", path]):
        assert short_error(run(*args)) == (
            f"mobilecost: error: {path}:49998: more than 50,000 YAML values; a table or a device profile has a few "
            "hundred")


@pytest.mark.parametrize("source,old,new,says", [
    ("mobilenet_v1", r"^classes: 1000", "classes: " + "9" * 400, ":11: classes: must be at most 1,000,000 (got 999"),
    ("mobilenet_v1", r"^classes: 1000", "classes: " + "9" * 5000, ":11: classes: a number of 5,000 characters"),
    ("mobilenet_v1", r"^classes: 1000", "classes: 0", ":11: classes: must be more than 0"),
    ("mobilenet_v2", r"c: 64,   n: 4", "c: 100000000000000000000, n: 4", ":27: layers[4].c: must be at most 1,000,000"),
    ("mobilenet_v2", r"t: 6, c: 64", "t: 100000000000000000000, c: 64", ":27: layers[4].t: must be at most 1,000"),
    ("mobilenet_v2", r"c: 64,   n: 4", "c: 64, n: 4000000000000", ":27: layers[4].n: must be at most 100"),
    ("mobilenet_v2", r"divisor: 8", "divisor: 100000000000000000000", ":15: width.divisor: must be at most 1,000,000"),
    ("mobilenet_v2", r"224\^2x3, ", "100000000000000000000^2x3, ", ":23: layers[0].input: sides are 1 to 100,000"),
    ("mobilenet_v3_small", r'"bneck, 3x3",    exp: 16', '"bneck, 1000x1000", exp: 16', ":30: layers[1].operator: a kernel side is 1 to 100"),
    ("mobilenet_v3_small", r"exp: 16,  out: 16", "exp: 10000000000000000000000,  out: 16", ":30: layers[1].exp: must be at most 1,000,000"),
    ("mobilenet_v1", r"filter: 3x3x3x32,", "filter: 3x3x3x100000000000000000000,", ":26: layers[0].filter: channels are 1 to 1,000,000"),
])
def test_absurd_integers_are_refused_at_their_row_and_key(tmp_path, source, old, new, says):
    path = table(tmp_path, source, "absurd.yaml", (old, new))
    short_error(run("report", path, "-o", tmp_path / "r.txt"), f"absurd.yaml{says}")
    assert not (tmp_path / "r.txt").exists()


def test_a_base_60_float_too_large_for_a_float_is_one_line(tmp_path):
    path = table(tmp_path, "mobilenet_v1", "sexagesimal.yaml", (r"^classes: 1000", "classes: 1" + ":59" * 200 + ".5"))
    assert short_error(run("validate", path)) == (
        f"mobilecost: error: {path}:11: classes: the number 1:59:59:59:59:59:59:59:59:59:59:59:59:59:59:59:59:... "
        "(603 characters) is too large")
    path.write_text(path.read_text().replace(":59" * 200 + ".5", ":59" * 1400 + ".5"))
    assert short_error(run("validate", path)) == f"mobilecost: error: {path}:11: classes: a number of 4,203 characters"


def test_a_lone_surrogate_escape_is_refused_at_its_line(tmp_path):
    path = table(tmp_path, "mobilenet_v1", "surrogate.yaml")
    path.write_text(path.read_text().replace("title: MobileNetV1", r'title: "Mobile\ud800Net"'))
    for args in (["validate", path], ["report", path, "-o", tmp_path / "r.txt"]):
        assert short_error(run(*args)) == (
            f"mobilecost: error: {path}:7: title: \\ud800 is half of a UTF-16 pair, not a character")
    assert not (tmp_path / "r.txt").exists()


@pytest.mark.parametrize("old,new,says", [
    (r"clock_ghz: [0-9.]+", "clock_ghz: .inf", "peak.clock_ghz: Input should be a finite number"),
    (r"dram_gb_s: [0-9.]+", "dram_gb_s: .nan", "memory.dram_gb_s: Input should be a finite number"),
    (r"cores: [0-9]+", "cores: " + "9" * 400, "peak.cores: must be at most 1,000,000"),
    (r"threads: [0-9]+", "threads: 100000", "threads: must be at most 4,096"),
    (r"  conv: [0-9.]+", "  conv: 1.0e-320", "efficiency.conv: must be at least 1e-06 (got 1e-320)"),
])
def test_absurd_device_profile_numbers_are_refused(tmp_path, old, new, says):
    text = (TABLES / "devices" / f"{P4}.yaml").read_text(encoding="utf-8")
    profile = tmp_path / "device.yaml"
    profile.write_text(re.sub(old, new, text, count=1))
    short_error(run("latency", "mobilenet_v1", "--device", profile), "device.yaml:", says)


@pytest.mark.parametrize("where,old,new,says", [
    ("devices/generic_cpu.yaml", "  cores: 1", "  cores: yes", ":8: peak: cores: give a number, not true"),
    ("devices/generic_cpu.yaml", "  conv: 0.312", "  conv: off", ":18: efficiency: conv: give a number, not false"),
    ("mobilenet_v2.yaml", "n: 1, s: 2, name: conv1", "n: yes, s: 2, name: conv1", ":23: layers[0]: n: give a number, not true"),
])
def test_yaml_booleans_are_not_read_as_numbers(tmp_path, where, old, new, says):
    """YAML reads yes/off as true/false; pydantic once took them as 1 and 0 (one core, efficiency 0 refused
    elsewhere, one repeat) without a word."""
    path = tmp_path / Path(where).name
    text = (TABLES / where).read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1))
    args = ["latency", "mobilenet_v2", "--device", path] if where.startswith("devices") else ["validate", path]
    assert short_error(run(*args)) == (f"mobilecost: error: {path}{says} (YAML reads yes, no, on, off, true and false "
                                       "as true or false)")


def test_an_efficiency_whose_times_overflow_is_refused(tmp_path):
    # 1.0e-320 is above 0, but a layer's time at it is inf ms: once printed as 'simulated total: inf ms'.
    profile = tmp_path / "device.yaml"
    profile.write_text((TABLES / "devices" / "generic_cpu.yaml").read_text().replace("  conv: 0.312", "  conv: 1.0e-320"))
    assert short_error(run("latency", "mobilenet_v2", "--device", profile)) == (
        f"mobilecost: error: {profile}:19: efficiency.conv: must be at least 1e-06 (got 1e-320)")


def test_a_table_of_too_many_layers_is_refused_at_the_row_that_passes_the_bound(tmp_path):
    # Within every per-row bound, 50 rows of n: 100 bottlenecks (15,000 layers) took 73 s and 1.1 GB to report.
    row = "  - {input: 7^2x320,   operator: bottleneck,  t: 1, c: 320,  n: 100, s: 1}\n"
    path = table(tmp_path, "mobilenet_v2", "deep.yaml", (r"^  - \{input: 7\^2x320,", row * 50 + "  - {input: 7^2x320,"))
    assert short_error(run("report", path, "-o", tmp_path / "r.txt")) == (
        f"mobilecost: error: {path}:34: layers: this row takes the table past 1,000 layers, the most a table may "
        "build (the largest built-in table builds 246)")
    assert not (tmp_path / "r.txt").exists()


def test_a_huge_variant_name_is_one_short_line():
    short_error(run("report", "x" * 200_000), "unknown variant", "characters")


# -- 5. measurements that cannot be fitted -----------------------------------------------------------
def test_a_latin1_measurements_csv_is_one_line_naming_file_and_line(tmp_path):
    measured = tmp_path / "m.csv"
    measured.write_bytes((MEASURED + "mobilenet_v1,0.75,192,caf\u00e9\n").encode("latin-1"))
    short_error(run("calibrate", measured, "--base", P4, "-o", tmp_path / "p.yaml"),
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
    short_error(run("calibrate", measured, "--base", P4, "-o", tmp_path / "p.yaml"), says)
    assert not (tmp_path / "p.yaml").exists()


def test_more_measurements_than_a_calibration_takes_are_one_line(tmp_path):
    # 3 rows of MEASURED, then 100,000 more: the 5,001st measurement is on line 5,002 (line 1 is the header).
    measured = tmp_path / "m.csv"
    measured.write_text(MEASURED + "mobilenet_v1,1.0,224,30\n" * 100_000)
    assert short_error(run("calibrate", measured, "--base", P4, "-o", tmp_path / "p.yaml")) == (
        f"mobilecost: error: {measured}:5002: more than 5,000 measurements; a calibration needs a few, and takes "
        "about a minute at this many")
    assert not (tmp_path / "p.yaml").exists()


def test_beyond_50_rows_each_row_is_predicted_without_its_fold(tmp_path):
    """51 rows: rows 1 and 51 share fold 0 (row i in fold i mod 50), so each is predicted by the fit on the
    other 49, and the profile says the band comes from 50-fold held-out residuals, not leave-one-out."""
    import numpy as np

    from mobilecost.latency.calibrate import fit, fit_theta, measurement_terms, read_measurements
    from mobilecost.latency.devices import held_out_rule, load_device
    from mobilecost.latency.model import layer_times, theta_of

    assert (held_out_rule(50), held_out_rule(51)) == ("leave-one-out", "50-fold held-out")
    sides = [96 + 8 * (i % 17) for i in range(51)]
    alphas = [(0.5, 0.75, 1.0)[i % 3] for i in range(51)]
    measured = tmp_path / "m.csv"
    measured.write_text("variant,alpha,resolution,latency_ms\n" + "".join(
        f"mobilenet_v2,{a},{r},{a * a * r * r / 2500 * (1 + 0.01 * (i % 7)):.3f}\n"
        for i, (a, r) in enumerate(zip(alphas, sides))))
    rows, profile = read_measurements(str(measured)), load_device("generic_cpu")
    result = fit(profile, rows)
    terms, y = measurement_terms(profile, rows), np.array([m.latency_ms for m in rows])
    others = list(range(1, 50))
    without = fit_theta([terms[j] for j in others], y[others], theta_of(profile))

    def predict(t, theta):
        return float(layer_times(t, theta)["time_ms"].sum()) + float(theta[7])

    assert result.loo_predicted_ms[0] == pytest.approx(predict(terms[0], without), rel=1e-9)
    assert result.loo_predicted_ms[50] == pytest.approx(predict(terms[50], without), rel=1e-9)
    done = run("calibrate", measured, "--base", "generic_cpu", "-o", tmp_path / "p.yaml", "--width", "0")
    assert done.exit_code == 0, done.output
    assert "50-fold held-out mean |error|" in done.stdout
    assert "band from the 50-fold held-out residuals of 51 rows" in done.stdout


def test_a_fit_that_predicts_0_ms_for_a_row_keeps_a_finite_band(tmp_path):
    # One row at 100,000 pixels takes the whole fit: the others are predicted at 0 ms (-100 %), which
    # once divided by zero computing the band, after the profile had been written.
    measured = tmp_path / "m.csv"
    measured.write_text("variant,alpha,resolution,latency_ms\nmobilenet_v1,1,100000,3\n" + MEASURED.split("\n", 1)[1])
    result = run("calibrate", measured, "--base", "generic_cpu", "-o", tmp_path / "p.yaml", "--width", 0)
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    assert ("error band of its predictions: band from the leave-one-out residuals of 4 rows (-99.0 % to "
            "+200866689.4 %)") in result.stdout
    again = run("latency", "mobilenet_v1", "--device", tmp_path / "p.yaml", "-f", "json")
    assert again.exit_code == 0, again.output


# -- 1. an output path that is a folder -----------------------------------------------------------
@pytest.mark.parametrize("args", [
    ["report", "mobilenet_v1", "-o", "{dir}"],
    ["sweep", "mobilenet_v1", "-o", "{dir}"],
    ["latency", "mobilenet_v1", "--device", P4, "-o", "{dir}"],
    ["calibrate", "{csv}", "--base", P4, "-o", "{dir}.yaml"],
    ["onnx", "mobilenet_v3_small", "-o", "{dir}"],
    ["export", "mobilenet_v1", "--xlsx", "{dir}"],
    ["export", "mobilenet_v1", "--json", "{dir}"],
    ["export", "mobilenet_v1", "--xlsx", "{tmp}/r.xlsx", "--json", "{dir}"],
    ["plot", "layers", "mobilenet_v1", "-o", "{dir}"],
])
def test_an_output_that_is_a_folder_is_refused_and_nothing_is_written(tmp_path, args):
    (tmp_path / "out").mkdir()
    (tmp_path / "out.yaml").mkdir()
    (tmp_path / "m.csv").write_text(MEASURED)
    before = listing(tmp_path)
    args = [a.format(dir=tmp_path / "out", csv=tmp_path / "m.csv", tmp=tmp_path) for a in args]
    short_error(run(*args), "folder, not a file")
    assert listing(tmp_path) == before


# -- 2. unwritable places, streams, symbolic links -------------------------------------------------
@pytest.mark.parametrize("where,says", [("blocker/out.csv", "'{tmp}/blocker' is a file, not a folder"),
                                        ("missing/out.csv", "the output folder does not exist")])
@pytest.mark.parametrize("command", [["report", "mobilenet_v1"], ["export", "mobilenet_v1", "--json"],
                                     ["export", "mobilenet_v1", "--xlsx"]])
def test_an_output_in_a_folder_that_cannot_hold_it_is_one_line(tmp_path, where, says, command):
    (tmp_path / "blocker").write_text("a file")
    before = listing(tmp_path)
    target = tmp_path / where
    args = [*command, str(target)] if command[0] == "export" else [*command, "-o", str(target)]
    message = short_error(run(*args), str(target), says.format(tmp=tmp_path))
    assert message.startswith(f"mobilecost: error: {target}: ")
    assert listing(tmp_path) == before


def test_a_path_too_long_for_the_system_is_one_short_line(tmp_path):
    short_error(run("report", "mobilenet_v1", "-o", tmp_path / ("x" * 5000)), "File name too long", "characters")


def test_dev_stdout_as_output_writes_to_the_stream_and_keeps_the_device():
    if not os.path.islink("/dev/stdout"):
        pytest.skip("/dev/stdout is not a symbolic link here")
    plain = subprocess.run([sys.executable, "-m", "mobilecost", "report", "mobilenet_v1", "-f", "csv"],
                           capture_output=True, text=True)
    stream = subprocess.run([sys.executable, "-m", "mobilecost", "report", "mobilenet_v1", "-f", "csv",
                             "-o", "/dev/stdout"], capture_output=True, text=True)
    assert stream.returncode == 0, stream.stderr
    assert stream.stdout == plain.stdout and plain.stdout.startswith("name,op,")
    assert os.path.islink("/dev/stdout")


def test_a_named_pipe_is_written_into_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = run("report", "mobilenet_v1", "-f", "csv", "-o", fifo)
    reader.join(timeout=60)
    assert result.exit_code == 0, result.output
    assert fifo.is_fifo() and received and received[0].startswith(b"name,op,")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_a_symbolic_link_is_followed_and_kept(tmp_path):
    (tmp_path / "results").mkdir()
    target = tmp_path / "results" / "latest.csv"
    target.write_text("old\n")
    link = tmp_path / "out.csv"
    link.symlink_to(target)
    result = run("report", "mobilenet_v1", "-f", "csv", "-o", link)
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text().startswith("name,op,")
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["latest.csv"]
    dangling = tmp_path / "new.csv"
    dangling.symlink_to(tmp_path / "results" / "first.csv")
    assert run("report", "mobilenet_v1", "-f", "csv", "-o", dangling).exit_code == 0
    assert dangling.is_symlink() and (tmp_path / "results" / "first.csv").read_text().startswith("name,op,")


# -- 7. several outputs: all or none -------------------------------------------------------------------
def test_export_writes_nothing_when_one_csv_file_cannot_be_written(tmp_path):
    (tmp_path / "csv").mkdir()
    (tmp_path / "csv" / "summary.csv").mkdir()  # in the way of the CSV written second
    (tmp_path / "r.xlsx").write_bytes(b"previous workbook")
    before = listing(tmp_path)
    result = run("export", "mobilenet_v1", "--xlsx", tmp_path / "r.xlsx", "--csv", tmp_path / "csv",
                 "--json", tmp_path / "r.json")
    short_error(result, f"{tmp_path / 'csv' / 'summary.csv'}: --csv: this is a folder, not a file")
    assert listing(tmp_path) == before


def test_export_writes_nothing_when_the_csv_folder_cannot_be_made(tmp_path, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    result = run("export", "mobilenet_v1", "--xlsx", tmp_path / "r.xlsx", "--csv", tmp_path / "c")
    message = short_error(result, f"{tmp_path / 'c'}: --csv: cannot create the folder: Permission denied")
    assert ".part" not in message
    assert list(tmp_path.iterdir()) == []


def test_export_refuses_an_unusable_csv_folder_before_the_work(tmp_path):
    short_error(run("export", "mobilenet_v1", "--xlsx", tmp_path / "r.xlsx", "--csv", tmp_path / ("c" * 300)),
                   "--csv: cannot write here: File name too long")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_commit_names_the_target_not_the_temporary_file(tmp_path, monkeypatch):
    from mobilecost.outputs import files

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", refuse)
    message = short_error(run("report", "mobilenet_v1", "-o", tmp_path / "r.txt"),
                             f"{tmp_path / 'r.txt'}: -o: cannot write: No space left on device")
    assert ".part" not in message
    assert list(tmp_path.iterdir()) == []


# -- 6. seeds ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [["onnx", "mobilenet_v3_small", "--seed", "-1", "-o", "{tmp}/m.onnx"],
                                  ["measure", "mobilenet_v3_small", "--seed", "-1", "-o", "{tmp}/m.csv"]])
def test_a_negative_seed_is_one_line(tmp_path, args):
    short_error(run(*[a.format(tmp=tmp_path) for a in args]), "--seed: seed must be at least 0, got -1")
    assert list(tmp_path.iterdir()) == []


# -- 8. two tables, one name -----------------------------------------------------------------------------
def test_two_tables_with_one_name_are_refused_naming_both(tmp_path):
    other = table(tmp_path, "mobilenet_v1", "other.yaml", (r"^title: .*$", "title: Another MobileNet"))
    for args in (["export", "mobilenet_v1", other, "--csv", tmp_path / "csv", "--xlsx", tmp_path / "r.xlsx"],
                 ["plot", "accuracy", "mobilenet_v1", other, "-o", tmp_path / "a.png"]):
        message = short_error(run(*args), "other.yaml: name:", "mobilenet_v1.yaml is also named 'mobilenet_v1'")
        assert "give each table its own name" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.yaml"]
    same = run("export", "mobilenet_v1", str(TABLES / "mobilenet_v1.yaml"), "--json", tmp_path / "r.json")
    assert same.exit_code == 0, same.output  # one table named twice is one table


# -- 9. table text is data, never a formula ---------------------------------------------------------------
FORMULA = '=HYPERLINK("http://x","y")'


def test_two_names_that_make_one_csv_file_name_each_get_a_file(tmp_path):
    # 'my net' and 'my/net' both make layers_my_net.csv: the second table's layers once replaced the first's.
    v1 = table(tmp_path, "mobilenet_v1", "a.yaml", (r"^name: .*$", 'name: "my net"'))
    v2 = table(tmp_path, "mobilenet_v2", "b.yaml", (r"^name: .*$", 'name: "my/net"'))
    result = run("export", v1, v2, "--csv", tmp_path / "csv")
    assert result.exit_code == 0, result.output
    files = {p.name: p.read_text().splitlines() for p in (tmp_path / "csv").iterdir()}
    assert sorted(files) == ["layers_my_net.csv", "layers_my_net~2.csv", "summary.csv", "sweep.csv"]
    assert len(files["layers_my_net.csv"]) == 1 + 30 and len(files["layers_my_net~2.csv"]) == 1 + 67


def test_table_text_is_written_as_text_in_every_csv_and_the_workbook(tmp_path):
    import openpyxl

    name = FORMULA.replace('"', '\\"')
    path = table(tmp_path, "mobilenet_v1", "evil.yaml", (r"^name: .*$", f'name: "{name}"'),
                 (r"^title: .*$", 'title: "+cmd|calc"'))
    result = run("export", path, "--csv", tmp_path / "csv", "--xlsx", tmp_path / "r.xlsx")
    assert result.exit_code == 0, result.output
    files = sorted((tmp_path / "csv").iterdir())
    assert len(files) == 3
    for csv_file in files:
        for cell in re.split(r'[,\n]', csv_file.read_text().replace('""', "")):
            assert not cell.lstrip('"').startswith(("=", "+", "@")), (csv_file.name, cell)
    summary = (tmp_path / "csv" / "summary.csv").read_text().splitlines()[1]
    assert summary.startswith('"\'=HYPERLINK(""http://x"",""y"")",1.0,')
    sweep = run("sweep", path, "--alpha", "0.5,1.0").stdout.splitlines()
    assert sweep[1].startswith('"\'=HYPERLINK(') and sweep[2].startswith('"\'=HYPERLINK(')
    latency = run("latency", path, "--device", P4, "-f", "csv").stdout.splitlines()
    assert not any(piece.startswith("=") for line in latency for piece in line.split(","))
    book = openpyxl.load_workbook(tmp_path / "r.xlsx")
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and "HYPERLINK" in cell.value:
                    assert cell.data_type == "s", (ws.title, cell.coordinate)
    chart = zipfile.ZipFile(tmp_path / "r.xlsx").read("xl/charts/chart1.xml").decode()
    assert "<c:f>HYPERLINK" not in chart and "<c:f>=" not in chart


def test_a_quoted_piece_of_a_csv_comment_stays_text():
    # A name with '"=2+3"' between commas: the latency CSV's '# name alpha=...' line split at its commas gave
    # the piece '"=2+3"', which a CSV reader unquotes to =2+3, and LibreOffice computed 5 in that cell (as it
    # does for ' "=2+3"'; ' =1' it reads as text).
    from mobilecost.outputs.files import csv_comment

    assert csv_comment('# a,"=2+3",b,"-4+5" alpha=1') == '# a,\'"=2+3",b,\'"-4+5" alpha=1'
    assert csv_comment('# x, "=1", =1,=1,"plain"') == '# x,\' "=1", =1,\'=1,\'"plain"'
    pieces = next(csv.reader([csv_comment('# a,"=2+3",b,"@SUM(A1)" alpha=1')]))
    assert pieces == ["# a", "'\"=2+3\"", "b", "'\"@SUM(A1)\" alpha=1"]


def test_a_table_name_with_a_control_character_is_refused_at_its_line(tmp_path):
    # A name ending in NUL once reached `export --xlsx` and ended in xlsxwriter's EmptyChartSeries traceback.
    path = table(tmp_path, "mobilenet_v1", "nul.yaml", (r"^name: .*$", r'name: "v1\\0"'))
    assert short_error(run("export", path, "--xlsx", tmp_path / "r.xlsx")) == (
        f"mobilecost: error: {path}:6: name: a table's name is printable text, without control characters "
        "(got 'v1\\x00')")
    assert not (tmp_path / "r.xlsx").exists()


def test_csv_text_changes_only_cells_a_spreadsheet_would_run():
    import pandas as pd

    from mobilecost.outputs.files import csv_text

    frame = pd.DataFrame({"name": ["conv1", "-", "=1+1", "@SUM(A1)", "\tx", "a=b"], "delta": [-1, 2, 3, 4, 5, 6],
                          "rate": [-0.5, 1.0, None, 2.0, 3.0, 4.0]})
    assert csv_text(frame[frame["name"] == "conv1"]) == frame[frame["name"] == "conv1"].to_csv(index=False)
    lines = csv_text(frame).splitlines()
    assert lines[1:4] == ["conv1,-1,-0.5", "'-,2,1.0", "'=1+1,3,"]
    assert lines[4].startswith("'@SUM(A1),4") and lines[6] == "a=b,6,4.0"


def test_a_bad_padding_in_a_named_alternative_is_reported_at_its_own_line(tmp_path):
    # tables/mobilenet_v1.yaml line 22 is the keras alternative's `padding:`; the message named line 20
    # and a `width` field before.
    text = (ROOT / "tables" / "mobilenet_v1.yaml").read_text(encoding="utf-8")
    assert text.splitlines()[21].strip() == "padding: {depthwise: bottom_right}"
    table = tmp_path / "alt.yaml"
    table.write_text(text.replace("padding: {depthwise: bottom_right}", "padding: {depthwise: bottom_left}"),
                     encoding="utf-8")
    result = CliRunner().invoke(app, ["report", str(table)])
    assert result.exit_code == 2
    assert result.output.strip().endswith("alt.yaml:22: semantics.keras.padding.depthwise: Input should be 'same' or "
                                          "'bottom_right' (got 'bottom_left')")


def test_a_sentence_that_quotes_the_value_is_not_followed_by_it_again(tmp_path):
    path = table(tmp_path, "mobilenet_v2", "operator.yaml", (r"operator: conv2d,      t: -, c: 32",
                                                             'operator: "conv2d 99999x99999", t: -, c: 32'))
    assert short_error(run("validate", path)) == (
        f"mobilecost: error: {path}:23: layers[0].operator: expected one of 'conv2d', 'conv2d 3x3', 'conv2d 1x1', "
        "'bottleneck', 'avgpool KxK'; got 'conv2d 99999x99999'")


def test_a_calibration_row_too_small_for_the_network_names_its_column(tmp_path):
    measured = tmp_path / "m.csv"
    measured.write_text("variant,alpha,resolution,latency_ms\nmobilenet_v1,1.0,8,3\nmobilenet_v2,1.0,224,20\n")
    assert short_error(run("calibrate", measured, "--base", "generic_cpu", "-o", tmp_path / "p.yaml")) == (
        f"mobilecost: error: {measured}:2: resolution: resolution 8 is too small for mobilenet_v1: its strides divide "
        "the input side by 32, so the input must be at least 32x32")
    assert not (tmp_path / "p.yaml").exists()
