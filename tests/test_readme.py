"""Every example of README.md runs as written: each `mobilecost` line of its shell blocks exits 0, or with
the code its comment announces ("exits 1"), and its Python block runs. Installation lines and the test command are skipped."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def commands(block: str) -> list[tuple[str, str]]:
    """(command, comment) for each line of a shell block, continuation lines joined."""
    out = []
    for line in block.replace("\\\n", " ").splitlines():
        command, _, comment = line.partition(" #")
        if command.strip() and not command.lstrip().startswith("#"):  # a comment line says what to do by hand
            out.append((command.strip(), comment))
    return out


SHELL = blocks("sh")


@pytest.mark.parametrize("index", range(len(SHELL)))
def test_shell_examples_run_as_written(index, tmp_path):
    block = SHELL[index]
    if " onnx " in block or " measure " in block:
        pytest.importorskip("onnxruntime")
    (tmp_path / "tables").symlink_to(ROOT / "tables")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ran = 0
    for command, comment in commands(block):
        for part in command.split(" && "):
            words = shlex.split(part)
            if words[0] == "pip" or words[1:3] == ["-m", "pytest"]:  # installation, the test suite itself
                continue
            argv = [sys.executable, "-m", "mobilecost", *words[1:]] if words[0] == "mobilecost" else words
            result = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True)
            expected = int(re.search(r"exits (\d)", comment).group(1)) if "exits" in comment else 0
            assert result.returncode == expected, (part, result.stderr[-2000:])
            ran += 1
    assert ran


def test_python_example_runs(tmp_path):
    (code,) = blocks("python")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
