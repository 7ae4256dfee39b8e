"""Generated bad input, from a fixed seed: every case is refused in one 'mobilecost: error:' line with
exit 2 (a MobilecostError from the API) -- never a traceback, never another exception, never an output
file -- and within a bounded time. Mutated tables may stay valid: those must then succeed (exit 0).
A corrupted compiled cache is rebuilt, never served: the output matches the one before."""

import contextlib
import io
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import mobilecost
from mobilecost.cli import main
from mobilecost.errors import MobilecostError

ROOT = Path(__file__).resolve().parent.parent
TABLE = (ROOT / "tables" / "mobilenet_v1.yaml").read_text()
DEVICE = (ROOT / "tables" / "devices" / "generic_cpu.yaml").read_text()
MEASURED = "variant,alpha,resolution,latency_ms\nmobilenet_v1,1.0,224,30\nmobilenet_v2,1.0,224,20\nmobilenet_v1,0.5,160,8\n"
SECONDS = 10  # CPU seconds per case: a bound on the work a bad input can cause, not a speed target
SEED = 14


class Result:
    """What `mobilecost ARGS` did: exit code, stdout, stderr (run in-process through `cli.main`)."""

    def __init__(self, argv):
        out, err = io.StringIO(), io.StringIO()
        self.exit_code = None
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main([str(a) for a in argv])
            except SystemExit as exc:
                self.exit_code = exc.code
        self.stdout, self.stderr = out.getvalue(), err.getvalue()
        self.output = self.stdout + self.stderr

BAD_NUMBERS = ["0", "-1", "-0.5", "nan", "inf", "-inf", "1e308", "abc", "", " ", "1,,", "0x10", "1e999",
               "9" * 400, "1:2", "1:2:3:4", "0.1:inf:0.1", "1:0.1:0.1", "0.1:1:0", "0.1:1:-0.1", "0.1:1:1e-320",
               "1e-9:1:1e-9", "1e308:1e308:1", "nan:1:0.1", "\x00", "é", "1" * 100_000]
BAD_RESOLUTIONS = ["0", "-224", "1e30", "224.5", "7", "x", "32:1e12:1", "inf", "1" * 5000]
BAD_CHOICES = {"--mode": ["exactly", "", "IDEAL"], "--format": ["xml", "", "csv "], "--dtype": ["fp64", "", "int4"],
               "--convention": ["pytorch", ""], "--seed": ["-1", "x", "1e3", "-99999999999999999999999"],
               "--threads": ["0", "-3", "x"], "--repeats": ["0", "-1", "x", "1.5"]}


def cli_cases(rng: random.Random) -> list:
    cases = []
    for option in ("--alpha", "--rho", "--resolution"):
        for value in (BAD_RESOLUTIONS if option == "--resolution" else BAD_NUMBERS):
            command = rng.choice(["report", "sweep", "memory"] if option != "--resolution" else
                                 ["report", "sweep", "memory", "onnx"])
            cases.append([command, "mobilenet_v1", option, value])
    for value in rng.sample(BAD_NUMBERS, 8):
        cases.append(["export", "mobilenet_v1", "--json", "{out}", "--alpha", value])
        cases.append(["measure", "mobilenet_v1", "--alpha", value, "-o", "{out}"])
        cases.append(["onnx", "mobilenet_v1", "--alpha", value, "-o", "{out}"])
    for option, values in BAD_CHOICES.items():
        for value in values:
            command = {"--seed": "onnx", "--threads": "measure", "--repeats": "measure",
                       "--dtype": "sweep"}.get(option, rng.choice(["report", "sweep"]))
            if option == "--format" and command == "sweep" and value == "":
                command = "report"
            cases.append([command, "mobilenet_v1", option, value, "-o", "{out}"])
    cases.append(["sweep", "mobilenet_v1", "--max-points", "0"])
    cases.append(["sweep", "mobilenet_v1", "--alpha", "0.01:1:0.01", "--resolution", "32:1000:1", "--max-points", "1000"])
    cases.append(["onnx", "mobilenet_v1", "--alpha", "100", "-o", "{out}"])
    cases.append(["measure", "mobilenet_v1", "--resolution", "20000", "-o", "{out}"])
    return cases


def mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    i = rng.randrange(len(lines))
    kind = rng.randrange(9)
    if kind == 0:
        del lines[i]
    elif kind == 1:
        lines[i] = lines[i].replace(rng.choice(["224", "32", "3", "1", "2"]), rng.choice(
            ["-1", "0", "1e999", "99999999999", "x", "[1, 2]", "{a: 1}", "null", "9" * 5000, "1.5", "true"]), 1)
    elif kind == 2:
        lines[i] = lines[i].replace(":", rng.choice(["", "::", ": [", ": {"]), 1)
    elif kind == 3:
        lines.insert(i, "x: " + "[" * 200 + "]" * 200)
    elif kind == 4:
        lines[i] = "".join(chr(rng.randrange(1, 0x250)) for _ in range(rng.randrange(1, 80)))
    elif kind == 5:
        lines[i] = lines[i].replace("type: conv", rng.choice(["type: deconv", "type: ", "type: [conv]", "type: 7"]))
    elif kind == 6:
        lines[i] = lines[i] + " " + rng.choice(["&a", "*a", "!!python/object:os.system", "%", "@", "\t"])
    elif kind == 7:
        lines[i] = lines[i].replace("name", "n" * rng.choice([1, 10, 10_000_000]), 1)
    else:
        lines = lines[: rng.randrange(len(lines))]
    return "\n".join(lines) + "\n"


def table_cases(rng: random.Random) -> list:
    cases = []
    for n in range(45):
        text = mutate(TABLE, rng)
        if rng.random() < 0.3:
            text = mutate(text, rng)
        cases.append(("table.yaml", text.encode("utf-8", "surrogatepass"), rng.choice(["validate", "report"])))
    for raw in (bytes(rng.randrange(256) for _ in range(300)), b"\xff\xfe" + TABLE.encode(), b"", b"\x00" * 50,
                TABLE.encode().replace(b"mobilenet_v1", b"m" * 12_000_000, 1)):
        cases.append(("table.yaml", raw, "validate"))
    return cases


def device_cases(rng: random.Random) -> list:
    cases = []
    for n in range(12):
        cases.append(("device.yaml", mutate(DEVICE, rng).encode(), "latency"))
    cases.append(("device.yaml", DEVICE.replace("dram_gb_s: 10", "dram_gb_s: " + "9" * 10_000_000).encode(), "latency"))
    return cases


def csv_cases(rng: random.Random) -> list:
    lines = MEASURED.splitlines()
    cases = []
    for n in range(14):
        rows = list(lines)
        i = rng.randrange(len(rows))
        cells = rows[i].split(",")
        j = rng.randrange(len(cells))
        cells[j] = rng.choice(["", "-1", "nan", "inf", "1e999", "x", '"', "=cmd()", "a" * 10_000_000, "0", "1e-320",
                               "mobilenet_v9", "\x00"])
        rows[i] = ",".join(cells)
        if rng.random() < 0.2:
            rows.insert(rng.randrange(len(rows)), ",".join(["1"] * rng.randrange(1, 9)))
        cases.append(("measured.csv", ("\n".join(rows) + "\n").encode(), "calibrate"))
    return cases


def file_command(name: str, command: str, path: Path, out: Path) -> list:
    return {"validate": ["validate", path], "report": ["report", path, "-o", out],
            "latency": ["latency", "mobilenet_v1", "--device", path, "-o", out],
            "calibrate": ["calibrate", path, "--base", "generic_cpu", "-o", out.with_suffix(".yaml")]}[command]


def check_refused(result, out_dir: Path, allow_success: bool = False) -> None:
    output = result.output
    assert "Traceback" not in output and "Error:" not in output.replace("error:", ""), output[-2000:]
    if allow_success and result.exit_code == 0:
        return
    assert result.exit_code == 2, (result.exit_code, output[-2000:])
    message = result.stderr.strip()
    assert message.startswith("mobilecost: error:") and len(message.splitlines()) == 1, message[:2000]
    assert len(message) < 1000, message[:2000]
    assert [p.name for p in out_dir.iterdir()] == [], list(out_dir.iterdir())


def all_file_cases():
    rng = random.Random(SEED)
    return table_cases(rng) + device_cases(rng) + csv_cases(rng)


@pytest.mark.parametrize("args", cli_cases(random.Random(SEED)), ids=lambda args: " ".join(args)[:60])
def test_bad_option_values(args, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    argv = [str(a).replace("{out}", str(out_dir / "result.out")) for a in args]
    argv = [a.replace("result.out", "m.onnx") if args[0] == "onnx" else a for a in argv]
    start = time.process_time()
    result = Result(argv)
    assert time.process_time() - start < SECONDS
    check_refused(result, out_dir)


@pytest.mark.parametrize("case", range(len(all_file_cases())))
def test_malformed_files(case, tmp_path):
    name, data, command = all_file_cases()[case]
    path = tmp_path / name
    path.write_bytes(data)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    start = time.process_time()
    result = Result(file_command(name, command, path, out_dir / "result.out"))
    assert time.process_time() - start < SECONDS
    if result.exit_code == 0:  # the mutation left a valid file: the command did its work
        for produced in out_dir.iterdir():
            produced.unlink()
    check_refused(result, out_dir, allow_success=True)


API_CASES = [
    ("evaluate", dict(alpha="x")), ("evaluate", dict(alpha=float("nan"))), ("evaluate", dict(alpha=-1)),
    ("evaluate", dict(alpha=1e308, mode="ideal")), ("evaluate", dict(rho=1e308, mode="ideal")),
    ("evaluate", dict(alpha=[1, 2])), ("evaluate", dict(resolution=1.5)), ("evaluate", dict(resolution="x")),
    ("evaluate", dict(rho=0)), ("evaluate", dict(rho=1, resolution=224)), ("evaluate", dict(mode="exactly")),
    ("evaluate", dict(convention="x")), ("evaluate", dict(dtype="fp64")), ("evaluate", dict(semantics="nope")),
    ("evaluate", dict(variant="no_such_net")), ("evaluate", dict(variant=None)), ("evaluate", dict(variant=3)),
    ("evaluate", dict(resolution=7)), ("evaluate", dict(alpha=None)), ("evaluate", dict(resolution=10**30)),
    ("sweep", dict(alphas="x")), ("sweep", dict(alphas=[])), ("sweep", dict(alphas=[float("inf")])),
    ("sweep", dict(alphas=[1.0], rhos=[1e308])), ("sweep", dict(alphas=[1.0], resolutions=[224.5])),
    ("sweep", dict(alphas=[1.0], resolutions=[1e30])), ("sweep", dict(alphas=[1.0], resolutions=["x"])),
    ("sweep", dict(alphas=[1.0], rhos=[1.0], resolutions=[224])), ("sweep", dict(alphas=[[1.0], [1.0, 2.0]])),
    ("sweep", dict(alphas=[1.0], mode="exactly")), ("sweep", dict(alphas=[1.0], dtype="fp64")),
    ("sweep", dict(alphas=[1.0], convention=None)), ("sweep", dict(alphas=None)),
    ("sweep", dict(alphas=[1e200], mode="ideal")), ("sweep", dict(alphas=[1e300])),
    ("sweep", dict(alphas=list(range(1, 2001)), resolutions=list(range(32, 1032)), max_points=1_000_000)),
    ("sweep", dict(alphas=[1.0], variant="no_such_net")), ("sweep", dict(alphas=[1.0], resolutions=[7])),
]


@pytest.mark.parametrize("function, kwargs", API_CASES, ids=[f"{f}-{sorted(k)}" for f, k in API_CASES])
def test_api_raises_mobilecost_error(function, kwargs):
    kwargs = dict(kwargs)
    variant = kwargs.pop("variant", "mobilenet_v1")
    start = time.process_time()
    with pytest.raises(MobilecostError) as info:
        getattr(mobilecost, function)(variant, **kwargs)
    assert time.process_time() - start < SECONDS
    assert "\n" not in str(info.value) and len(str(info.value)) < 1000


def corrupt_cases():
    return ["empty", "random", "truncate", "directory", "flip"]


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    env = {**os.environ, "MOBILECOST_CACHE_DIR": str(cache)}
    expected = subprocess.run([sys.executable, "-m", "mobilecost", "report", "mobilenet_v2", "-f", "csv"], env=env,
                              capture_output=True, text=True, timeout=120)
    assert expected.returncode == 0, expected.stderr
    assert any(p.is_file() for p in cache.rglob("*"))
    return cache, expected.stdout


@pytest.mark.parametrize("how", corrupt_cases())
def test_corrupt_cache_is_rebuilt(how, warm_cache, tmp_path):
    cache, expected = warm_cache
    copy = tmp_path / "cache"
    shutil.copytree(cache, copy)
    rng = random.Random(f"{SEED}-{how}")
    for entry in sorted(p for p in copy.rglob("*") if p.is_file()):
        data = entry.read_bytes()
        if how == "empty":
            entry.write_bytes(b"")
        elif how == "random":
            entry.write_bytes(bytes(rng.randrange(256) for _ in range(len(data) or 64)))
        elif how == "truncate":
            entry.write_bytes(data[: len(data) // 2])
        elif how == "directory":
            entry.unlink()
            entry.mkdir()
        else:
            flipped = bytearray(data)
            for _ in range(8):
                if flipped:
                    flipped[rng.randrange(len(flipped))] ^= 0xFF
            entry.write_bytes(bytes(flipped))
    env = {**os.environ, "MOBILECOST_CACHE_DIR": str(copy)}
    result = subprocess.run([sys.executable, "-m", "mobilecost", "report", "mobilenet_v2", "-f", "csv"], env=env,
                            capture_output=True, text=True, timeout=SECONDS * 6)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0 and result.stdout == expected, result.stderr
