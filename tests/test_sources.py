"""Every published figure in user output cites a public source a reader can open (a paper and its table, a
repository file at a commit, a documentation URL); no internal provenance tags and no paths outside the
package or its repository appear in any output, in any format."""

import csv
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mobilecost.analysis.published import published_rows
from mobilecost.cli import app

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small")
P4 = "pixel4_a76_tflite_fp32_1t"
FORBIDDEN = ("[recalled]", "recalled", "shared/", "verified-from-text", "[verified")

COMMANDS = [
    ["list"], ["devices"],
    *[["paper", p, "-f", f] for p in ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3") for f in ("table", "json")],
    *[["report", v, "-f", f] for v in (*VARIANTS, "mnasnet_a1") for f in ("table", "json", "csv", "markdown")],
    *[["explain", v, "-f", f] for v in (*VARIANTS, "mnasnet_a1") for f in ("table", "json")],
    ["explain", "mobilenet_v1", "--alpha", "0.75", "--resolution", "128"],
    *[["latency", "mobilenet_v2", "--device", d, "-f", f] for d in (P4, "pixel1_big_tflite_fp32_1t", "generic_cpu")
      for f in ("table", "json", "csv")],
    ["memory", "mobilenet_v2", "-f", "json"], ["memory", "mobilenet_v3_small"],
    *[["sweep", "mobilenet_v3_small", "--alpha", "0.5,1.0", "--device", P4, "-f", f] for f in ("csv", "json", "table")],
    ["check", "mobilenet_v2", "--max-latency-ms", "20", "--device", P4],
]


def clean(text: str) -> None:
    for word in FORBIDDEN:
        assert word not in text, (word, text[max(0, text.find(word) - 200):text.find(word) + 100])


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_no_internal_tags_or_outside_paths_in_any_output(args, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, [*args] + (["--width", "0"] if args[-1] in ("table",) else []))
    assert result.exit_code in (0, 1, 3), result.output
    clean(result.stdout)
    clean(result.stderr)


def test_exported_files_carry_no_internal_tags(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    result = CliRunner().invoke(app, ["export", *VARIANTS, "--alpha", "0.75,1.0", "--resolution", "160,224",
                                      "--device", P4, "--xlsx", str(tmp_path / "r.xlsx"), "--csv",
                                      str(tmp_path / "csv"), "--json", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    for path in [tmp_path / "r.json", *sorted((tmp_path / "csv").glob("*.csv"))]:
        clean(path.read_text(encoding="utf-8"))
    book = openpyxl.load_workbook(tmp_path / "r.xlsx")
    clean("\n".join(str(c.value) for sheet in book.worksheets for row in sheet.iter_rows() for c in row
                    if c.value is not None))


# A source a reader can open: a paper by its arXiv number (or its proceedings' open-access version) and a
# table; a file of a public repository pinned to a commit; or a documentation URL.
OPENABLE = re.compile(r"(arXiv:\d{4}\.\d{5}.*(Table|Fig\.) \d|CVF open access version\) Table \d"
                      r"|^[\w.-]+/[\w.-]+ \S+ @[0-9a-f]{8}\b|https://\S+)")


def test_every_published_figure_names_an_openable_source():
    for p in published_rows():
        assert OPENABLE.search(p.source), p
    with (ROOT / "mobilecost" / "data" / "paper_tables.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            assert OPENABLE.search(row["source"]), row


def test_report_json_lists_each_figure_with_its_source():
    doc = json.loads(CliRunner().invoke(app, ["report", "mobilenet_v1", "-f", "json"]).stdout)
    sources = [p["source"] for p in doc["published"]]
    assert "tensorflow/models research/slim/nets/mobilenet_v1.md @10cf1c0a (float checkpoints)" in sources
    assert "arXiv:1704.04861 (MobileNets) Table 6" in sources
