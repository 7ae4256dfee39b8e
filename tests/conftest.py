import csv
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from mobilecost.cli.process import tune_process  # noqa: E402

tune_process()  # as the command line does (one BLAS thread, grid arrays kept by the allocator)

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path(__file__).resolve().parent / "reference"
SHARED = ROOT.parent / "shared" / "reference"

# The compiled-evaluator cache (mobilecost.numeric.compiled) of a test run lives in a temporary
# directory, never in the user's ~/.cache/mobilecost: a run neither reads stale entries from it nor
# leaves entries behind. It is set in the environment before collection, so commands the tests start
# in subprocesses use it too. Under pytest-xdist the workers inherit the controller's directory
# (entries are written atomically, so concurrent writers are safe); a worker started without it
# makes its own.
CACHE_ENV = "MOBILECOST_CACHE_DIR"
_OWNER_ENV = "MOBILECOST_TEST_CACHE_DIR"


def pytest_configure(config):
    inherited = os.environ.get(_OWNER_ENV)
    if hasattr(config, "workerinput") and inherited and os.environ.get(CACHE_ENV) == inherited:
        config._mobilecost_cache = (None, None)
        return
    path = tempfile.mkdtemp(prefix="mobilecost-cache-")
    config._mobilecost_cache = (path, {k: os.environ.get(k) for k in (CACHE_ENV, _OWNER_ENV)})
    os.environ[CACHE_ENV] = os.environ[_OWNER_ENV] = path


def pytest_unconfigure(config):
    path, previous = getattr(config, "_mobilecost_cache", (None, None))
    if path is None:
        return
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def _temporary_compiled_cache():
    """Every test sees the run's temporary cache directory (a guard against a test unsetting it)."""
    from mobilecost.numeric.cache import cache_dir

    path = os.environ.get(_OWNER_ENV)
    assert path and cache_dir() == Path(path), "the compiled cache must be the run's temporary directory"
    yield


def one_line_error(result, *fragments) -> str:
    """A command (a `CliRunner` result) refused bad input as it must: exit code 2, no traceback, and one
    line on stderr, ``mobilecost: error: ...``, holding every fragment. Returns that line."""
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert message.startswith("mobilecost: error:"), message
    assert "Traceback" not in result.output and len(message.splitlines()) == 1, message
    for fragment in fragments:
        assert fragment in message, message
    return message


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="session")
def keras_rows() -> list[dict]:
    return read_csv(REFERENCE / "keras_applications.csv")


@pytest.fixture(scope="session")
def torchvision_rows() -> list[dict]:
    return read_csv(REFERENCE / "torchvision.csv")


@pytest.fixture(scope="session")
def keras_layers() -> list[dict]:
    return json.loads((REFERENCE / "keras_layers_1.0_224.json").read_text())["models"]


def refusal_of_edit(write, text: str, old: str, new: str) -> tuple[str, str]:
    """Replace `old` (which must be in `text`) by `new` once, write the table with `write` (the
    `table_copy` fixture) and evaluate it: the refusal's message, and ``file:line`` of the edited row."""
    from mobilecost.api import evaluate
    from mobilecost.errors import MobilecostError

    assert old in text
    changed = text.replace(old, new, 1)
    path = write(changed)
    line = next(i for i, row in enumerate(changed.splitlines(), 1) if new.strip() in row)
    with pytest.raises(MobilecostError) as info:
        evaluate(str(path))
    return str(info.value), f"{path.name}:{line}"


@pytest.fixture
def table_copy(tmp_path):
    """Write a user table (text) to a temporary .yaml file and return its path."""

    def write(text: str, name: str = "my_variant.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
