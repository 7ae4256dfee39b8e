"""Text output fits the terminal: no line of any text command is wider than $COLUMNS (or --width), measured
in display cells; a narrow table says which columns it left out; formulas wrap between tokens, never inside one."""

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from mobilecost.cli import app

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small")
P4 = "pixel4_a76_tflite_fp32_1t"

COMMANDS = [
    ["list"], ["devices"], ["paper", "mobilenet_v1"], ["paper", "mobilenet_v2"], ["paper", "mobilenet_v3"],
    ["validate", "tables/mobilenet_v3_large.yaml"], ["validate", "mnasnet_a1"],
    ["check", "mobilenet_v2", "--max-macs", "100M", "--max-params", "1M", "--max-peak-memory", "1MB"],
    ["check", "mobilenet_v2", "--alpha", "0.75", "--resolution", "160", "--max-latency-ms", "20", "--device", P4],
    ["report", "mnasnet_a1"],
    ["report", "mobilenet_v3_large", "--semantics", "torchvision", "--convention", "keras"],
    ["report", "mobilenet_v2", "--alpha", "1.4", "--resolution", "193"],
    ["memory", "mobilenet_v2", "--schedule", "v2-sliced", "--dtype", "fp16"],
    ["explain", "mobilenet_v1", "--alpha", "0.75", "--resolution", "128"],
    ["formula", "mobilenet_v1", "--metric", "params", "--latex"],
    ["formula", "mobilenet_v2", "--mode", "exact", "--latex"],
    ["sweep", "mobilenet_v2", "--alpha", "0.35:1.4:0.35", "--resolution", "96,224", "-f", "table"],
    *[c for v in VARIANTS for c in (
        ["report", v], ["report", v, "--mode", "ideal", "--alpha", "0.5", "--resolution", "160"],
        ["latency", v, "--device", P4], ["memory", v], ["explain", v],
        ["formula", v], ["formula", v, "--mode", "exact"], ["formula", v, "--metric", "act_out", "--mode", "exact"],
        ["sweep", v, "--alpha", "0.5,1.0", "-f", "table", "--device", P4],
    )],
]


def widest(text: str) -> int:
    return max((cell_len(line) for line in text.splitlines()), default=0)


def run(args, env):
    return CliRunner().invoke(app, args, env=env)


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_no_line_wider_than_100_columns(args, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = run(args, {"COLUMNS": "100"})
    assert result.exit_code in (0, 1, 3), result.output
    assert result.stdout.strip() or result.stderr.strip()
    assert widest(result.stdout) <= 100, result.stdout
    assert widest(result.stderr) <= 100, result.stderr


@pytest.mark.parametrize("args", [["report", "mobilenet_v3_large"], ["latency", "mobilenet_v2", "--device", P4],
                                  ["explain", "mobilenet_v3_small"], ["paper", "mobilenet_v1"], ["devices"],
                                  ["memory", "mobilenet_v3_large"], ["formula", "mobilenet_v3_small", "--mode", "exact"]],
                         ids=" ".join)
def test_80_columns_and_the_width_option(args, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert widest(run(args, {"COLUMNS": "80"}).stdout) <= 80
    # --width wins over $COLUMNS
    assert widest(run([*args, "--width", "60"], {"COLUMNS": "200"}).stdout) <= 60


def test_piped_output_without_columns_is_80_wide():
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    out = subprocess.run([sys.executable, "-m", "mobilecost", "report", "mobilenet_v3_large"], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True).stdout
    assert 70 < widest(out) <= 80


def test_a_terminal_sets_the_width():
    """On a terminal of 100 columns (a pseudo-terminal here), with no $COLUMNS, lines fit 100 columns."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 100, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "mobilecost", "latency", "mobilenet_v2", "--device", P4], cwd=ROOT,
                            env=env, stdout=follower, stderr=subprocess.DEVNULL)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait() == 0
    text = b"".join(chunks).decode().replace("\r\n", "\n")
    assert 90 < widest(text) <= 100, text


def test_a_table_that_does_not_fit_says_what_it_left_out():
    wide = run(["latency", "mobilenet_v2", "--device", P4, "--width", "0"], {}).stdout
    narrow = run(["latency", "mobilenet_v2", "--device", P4], {"COLUMNS": "80"}).stdout
    assert "compute ms" in wide and "left out" not in wide
    assert "compute ms" not in narrow.split("left out")[0]
    assert "left out to fit 80 columns: compute ms, memory ms, overhead ms" in " ".join(narrow.split())
    # the figures that stay are the same
    assert re.search(r"b2\.expand .*19,267,584", wide) and re.search(r"b2\.expand .*19,267,584", narrow)


def test_formulas_wrap_between_tokens_and_read_back_the_same():
    one_line = run(["formula", "mobilenet_v2", "--mode", "exact", "--width", "0"], {}).stdout.strip()
    wrapped = run(["formula", "mobilenet_v2", "--mode", "exact"], {"COLUMNS": "100"}).stdout
    assert len(one_line.splitlines()) == 1 and len(one_line) > 3000
    lines = wrapped.splitlines()
    assert len(lines) > 30 and widest(wrapped) <= 100
    # joining the lines gives back the formula with only whitespace changed
    assert re.sub(r"\s+", "", wrapped) == re.sub(r"\s+", "", one_line)
    # a line never ends or starts inside a name or a number
    for before, after in zip(lines, lines[1:]):
        assert not (re.search(r"[A-Za-z0-9_]$", before) and re.match(r"\s*[A-Za-z0-9_(]", after)), (before, after)


def test_explain_names_every_source_in_full():
    """Two TF-slim rows whose names agree in their first 58 characters stay distinguishable."""
    text = run(["explain", "mobilenet_v1"], {"COLUMNS": "100"}).stdout
    joined = " ".join(text.split())
    assert "research/slim/nets/mobilenet_v1.md @10cf1c0a (float checkpoints)" in joined
    assert "slim/nets/mobilenet_v1.md @a4e31b34 (2017_06_14 checkpoints)" in joined


def test_width_below_the_minimum_is_refused():
    result = run(["report", "mobilenet_v1", "--width", "20"], {})
    assert result.exit_code == 2 and "--width" in result.stderr and len(result.stderr.splitlines()) == 1
