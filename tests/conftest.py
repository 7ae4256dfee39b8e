import csv
import json
from pathlib import Path

import pytest

from mobilecost.cli.process import tune_process  # noqa: E402

tune_process()  # as the command line does (one BLAS thread, grid arrays kept by the allocator)

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path(__file__).resolve().parent / "reference"
SHARED = ROOT.parent / "shared" / "reference"


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


@pytest.fixture
def table_copy(tmp_path):
    """Write a user table (text) to a temporary .yaml file and return its path."""

    def write(text: str, name: str = "my_variant.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
