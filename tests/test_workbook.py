"""The design-review workbook: live formulas recalculated by LibreOffice, text never a formula, atomic files.

Expected totals come from the frozen Keras Applications counts (tests/reference/keras_applications.csv,
Keras 3.15.1, weights=None): the default readings of the V2 / V3 tables are Keras's rules, and V1's
default (TF-slim SAME padding) agrees with Keras wherever the input side is a multiple of 32.
Per-cell values are compared with mobilecost's exact mode, evaluated independently of the sheet.
"""

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from mobilecost.errors import MobilecostError
from mobilecost.api import costs_for
from mobilecost.numeric.checked import compiled_for
from mobilecost.numeric.values import values_at
from mobilecost.outputs.workbook import (
    ALPHA_CELL, FIRST_LAYER_ROW, HEADERS, LAYER_COLUMNS, RHO_CELL, SIDE_CELL, TOTAL_COLUMNS, build_review,
    export_review, header_of, write_xlsx,
)

openpyxl = pytest.importorskip("openpyxl")

VARIANTS = ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small")
# Workbooks to recalculate: (name, variants, semantics) and two (alpha, resolution) settings per sheet.
# All settings are points of the reference grids; "my_v2" is a user table (a copy of the V2 table).
BOOKS = {
    "default": (VARIANTS + ("my_v2",), None),
    "keras_v1": (("mobilenet_v1",), "keras"),  # Keras V1: stride-2 depthwise layers pad bottom/right
    "torchvision_v3": (("mobilenet_v3_large", "mobilenet_v3_small"), "torchvision"),
}
SETTINGS = [
    {("default", "mobilenet_v1"): (0.75, 192), ("default", "mobilenet_v2"): (0.35, 97),
     ("default", "mobilenet_v3_large"): (0.35, 113), ("default", "mobilenet_v3_small"): (0.5, 150),
     ("default", "my_v2"): (1.3, 199), ("keras_v1", "mobilenet_v1"): (0.25, 97),
     ("torchvision_v3", "mobilenet_v3_large"): (0.5, 225), ("torchvision_v3", "mobilenet_v3_small"): (1.25, 160)},
    {("default", "mobilenet_v1"): (0.25, 128), ("default", "mobilenet_v2"): (1.4, 225),
     ("default", "mobilenet_v3_large"): (1.25, 250), ("default", "mobilenet_v3_small"): (0.75, 321),
     ("default", "my_v2"): (0.5, 33), ("keras_v1", "mobilenet_v1"): (0.75, 113),
     ("torchvision_v3", "mobilenet_v3_large"): (0.75, 128), ("torchvision_v3", "mobilenet_v3_small"): (0.5, 224)},
]
SHEETS = list(SETTINGS[0])

RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def recalculate(paths, outdir: Path) -> None:
    """LibreOffice headless, private profile set to recalculate every formula on load."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    profile = Path(tempfile.mkdtemp(prefix="lo-profile-"))
    try:
        (profile / "user").mkdir()
        (profile / "user" / "registrymodifications.xcu").write_text(RECALC_ALWAYS)
        subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                        "--convert-to", "xlsx", "--outdir", str(outdir), *map(str, paths)],
                       check=True, capture_output=True, timeout=240)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _user_table(folder: Path) -> Path:
    root = Path(__file__).resolve().parent.parent
    text = (root / "tables" / "mobilenet_v2.yaml").read_text().replace("name: mobilenet_v2", "name: my_v2", 1)
    path = folder / "my_v2.yaml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    """Each workbook, re-parameterised in two copies, each copy recalculated by LibreOffice."""
    folder = tmp_path_factory.mktemp("workbook")
    user = _user_table(folder)
    sources, copies = {}, []
    for book, (variants, semantics) in BOOKS.items():
        names = [str(user) if v == "my_v2" else v for v in variants]
        sources[book] = folder / f"{book}.xlsx"
        export_review(names, alphas=[1.0], resolutions=[224], xlsx=sources[book], semantics=semantics)
        for k, setting in enumerate(SETTINGS):
            wb = openpyxl.load_workbook(sources[book])
            for (b, variant), (alpha, res) in setting.items():
                if b == book:
                    wb[variant][ALPHA_CELL] = alpha
                    wb[variant][SIDE_CELL] = res  # the input is the side in pixels; rho is derived
            path = folder / f"{book}_{k}.xlsx"
            wb.save(path)
            copies.append(path)
    out = folder / "out"
    out.mkdir()
    recalculate(copies, out)
    formulas = {book: openpyxl.load_workbook(path) for book, path in sources.items()}
    values = {(book, k): openpyxl.load_workbook(out / f"{book}_{k}.xlsx", data_only=True)
              for book in BOOKS for k in range(len(SETTINGS))}
    return formulas, values, user


FIELD_OF = {header_of(field, "paper"): field for field in LAYER_COLUMNS}


def _header(ws):
    """The layer table's columns, by the field each header names."""
    return [FIELD_OF.get(c.value, c.value) for c in ws[FIRST_LAYER_ROW]]


def _totals(ws, header):
    total_row = next(r for r in range(FIRST_LAYER_ROW + 1, ws.max_row + 1) if ws.cell(r, 1).value == "total")
    return {name: ws.cell(total_row, col).value for col, name in enumerate(header, start=1)}


@pytest.mark.parametrize("k", range(len(SETTINGS)))
@pytest.mark.parametrize("sheet", SHEETS, ids=lambda s: f"{s[0]}-{s[1]}")
def test_every_formula_cell_recalculates_to_the_exact_count(recalculated, sheet, k):
    formulas, values, user = recalculated
    book, variant = sheet
    alpha, res = SETTINGS[k][sheet]
    costs = costs_for(str(user) if variant == "my_v2" else variant, "exact", BOOKS[book][1])
    expected = values_at(compiled_for(costs.spec, costs.mode, costs.semantics), alpha, res / 224).at(0)
    expected["params"] = expected["weights"] + expected["biases"]  # the paper convention
    fws, vws = formulas[book][variant], values[(book, k)][variant]
    header = _header(fws)
    # rho = side / 224, stored by LibreOffice to 15 significant digits (it computes with all 17)
    assert vws[SIDE_CELL].value == res and vws[RHO_CELL].value == pytest.approx(res / 224, rel=1e-14)
    checked = 0
    for i in range(len(costs.layers)):
        row = FIRST_LAYER_ROW + 1 + i
        for col, field in enumerate(header, start=1):
            cell = fws.cell(row, col).value
            if isinstance(cell, str) and cell.startswith("="):
                got = vws.cell(row, col).value
                assert got == expected[field][i], (sheet, costs.layers[i].layer.name, field, cell)
                checked += 1
    assert checked >= 14 * len(costs.layers)
    bottom = _totals(vws, header)
    top = {vws.cell(r, c).value: vws.cell(r, c + 4).value for r in range(3, 8) for c in (4, 11, 18)}
    assert {field: top[header_of(field)] for field in TOTAL_COLUMNS} == {f: bottom[f] for f in TOTAL_COLUMNS}


@pytest.mark.parametrize("k", range(len(SETTINGS)))
@pytest.mark.parametrize("sheet", [s for s in SHEETS if s[1] != "my_v2"], ids=lambda s: f"{s[0]}-{s[1]}")
def test_recalculated_totals_equal_the_reference_implementations(recalculated, keras_rows, torchvision_rows,
                                                                 sheet, k):
    formulas, values, _ = recalculated
    book, variant = sheet
    alpha, res = SETTINGS[k][sheet]
    totals = _totals(values[(book, k)][variant], _header(formulas[book][variant]))
    trainable = totals["weights"] + totals["biases"] + totals["bn_affine"]
    if book == "torchvision_v3":
        row = next(r for r in torchvision_rows if r["variant"] == variant and float(r["alpha"]) == alpha
                   and int(r["resolution"]) == res)
        assert (totals["macs"], trainable) == (int(row["macs"]), int(row["params"]))
        return
    row = next(r for r in keras_rows if r["variant"] == variant and float(r["alpha"]) == alpha
               and int(r["resolution"]) == res)
    assert totals["macs"] == int(row["macs"])
    assert trainable == int(row["trainable_params"])
    assert trainable + totals["bn_stats"] == int(row["total_params"])


def test_keras_v1_padding_is_a_live_formula(recalculated):
    formulas, _, _ = recalculated
    ws = formulas["keras_v1"]["mobilenet_v1"]
    header = _header(ws)
    sides = [ws.cell(r, header.index("out_side") + 1).value for r in range(FIRST_LAYER_ROW + 1, ws.max_row)]
    assert any(isinstance(f, str) and f.startswith("=(INT((") and "+1-3)/2)+1)" in f for f in sides)


def test_rounding_is_written_as_spreadsheet_formulas(recalculated):
    formulas = recalculated[0]["default"]
    header = _header(formulas["mobilenet_v2"])
    ws = formulas["mobilenet_v2"]
    out_ch = ws.cell(FIRST_LAYER_ROW + 1, header.index("out_ch") + 1).value  # conv1: make_divisible(32 alpha, 8)
    assert "MAX(8,INT(INT(32*$B$3+4)/8)*8)" in out_ch and "<0.9*(32*$B$3)" in out_ch  # $B$3: alpha
    in_side = ws.cell(FIRST_LAYER_ROW + 1, header.index("in_side") + 1)
    assert in_side.value == "=$B$4"  # the input side cell
    side = ws.cell(FIRST_LAYER_ROW + 1, header.index("out_side") + 1).value
    assert side == f"=CEILING({in_side.coordinate}/2,1)"  # stride 2, SAME padding: ceil(H / 2)
    assert formulas["mobilenet_v1"][SIDE_CELL].value == 224  # an input: the side in pixels
    assert formulas["mobilenet_v1"][RHO_CELL].value == "=$B$4/224"  # rho derived from it


INJECTION = "=cmd|' /C calc'!A0"


def test_table_text_is_written_as_text_never_a_formula(table_copy, tmp_path):
    text = (Path(__file__).resolve().parent.parent / "tables" / "mobilenet_v3_small.yaml").read_text()
    text = text.replace("title: MobileNetV3-Small", f'title: "{INJECTION}"', 1)
    text = text.replace("source: ", 'source: "@SUM(1+1)" #', 1)
    table = table_copy(text, "injected.yaml")
    target = tmp_path / "review.xlsx"
    export_review([str(table)], xlsx=target)
    wb = openpyxl.load_workbook(target)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    injected = [c for c in cells if INJECTION in c.value or "@SUM(1+1)" in c.value]
    assert injected, "the table's title and source should appear in the workbook"
    for cell in injected:
        assert cell.data_type == "s", (cell.coordinate, cell.value)
    # Formulas are only the engine's: none of them contains table text.
    assert not any(c.data_type == "f" and "cmd" in c.value for c in cells)


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    from mobilecost.outputs import workbook

    target = tmp_path / "review.xlsx"
    target.write_bytes(b"previous version")
    review = build_review(["mobilenet_v3_small"])

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(workbook, "_write_layer_sheet", broken)
    with pytest.raises(RuntimeError):
        write_xlsx(review, target)
    assert target.read_bytes() == b"previous version"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["review.xlsx"]


def test_missing_output_folder_is_a_clear_error(tmp_path):
    with pytest.raises(MobilecostError, match="output folder does not exist"):
        export_review(["mobilenet_v1"], xlsx=tmp_path / "nowhere" / "review.xlsx")


def test_summary_puts_published_figures_beside_the_counts(tmp_path):
    review = export_review(["mobilenet_v1"], alphas=[1.0, 0.5], resolutions=[224, 160],
                           csv_dir=tmp_path / "csv", json_path=tmp_path / "review.json")
    s = review.summary.set_index(["alpha", "resolution"])
    # MobileNets paper, Table 6: 1.0 MobileNet-224 569 M mult-adds, 4.2 M parameters.
    assert s.loc[(1.0, 224), "macs"] == 568_740_352  # Keras MobileNet(alpha=1.0), 224: 568,740,352 MACs
    assert s.loc[(1.0, 224), "published_macs_millions"] in (569, 569.0)
    assert round(s.loc[(1.0, 224), "params"] / 1e6, 1) == 4.2
    assert (tmp_path / "csv" / "summary.csv").exists() and (tmp_path / "csv" / "layers_mobilenet_v1.csv").exists()
    assert '"summary"' in (tmp_path / "review.json").read_text()


def test_progress_steps_are_announced_and_counted(tmp_path):
    from mobilecost.outputs.workbook import export_steps

    seen = []
    variants = ["mobilenet_v1", "mobilenet_v3_small"]
    export_review(variants, xlsx=tmp_path / "r.xlsx", json_path=tmp_path / "r.json", on_step=seen.append)
    assert len(seen) == export_steps(variants, tmp_path / "r.xlsx", None, tmp_path / "r.json") == 3 * 2 + 2
    assert seen[0] == "mobilenet_v1: summary" and seen[-1] == "JSON written"


def test_summary_columns_put_published_figures_beside_the_counts():
    review = build_review(["mobilenet_v2"], device=None)
    cols = list(review.summary.columns)
    assert cols[cols.index("macs") + 1] == "published_macs_millions"
    assert cols[cols.index("params") + 1] == "published_params_millions"
    assert "act_peak_bytes" in cols
    # MobileNetV2 paper Table 4: 300 M multiply-adds, 3.4 M parameters, 72.0 % top-1 for 1.0-224.
    row = review.summary.iloc[0]
    assert row["published_macs_millions"] == 300 and row["published_params_millions"] == 3.4


def test_sweep_honours_the_request_and_charts_each_resolution(tmp_path):
    import re
    import zipfile

    target = tmp_path / "review.xlsx"
    export_review(["mobilenet_v1", "mobilenet_v2"], alphas=[0.5, 1.0], resolutions=[160, 224], xlsx=target)
    ws = openpyxl.load_workbook(target)["Sweep"]
    header = [c.value for c in ws[3]]
    alpha_col, res_col = header.index(HEADERS["alpha"]) + 1, header.index(HEADERS["resolution"]) + 1
    rows = [r for r in range(4, ws.max_row + 1) if ws.cell(r, 1).value in ("mobilenet_v1", "mobilenet_v2")]
    alphas = sorted({ws.cell(r, alpha_col).value for r in rows})
    assert alphas[0] == 0.5 and alphas[-1] == 1.0 and len(alphas) == 11  # 0.5, 0.55, ..., 1.0
    assert {ws.cell(r, res_col).value for r in rows} == {160, 224}
    for k, variant in enumerate(["mobilenet_v1", "mobilenet_v2"], start=1):  # one chart per variant
        chart = zipfile.ZipFile(target).read(f"xl/charts/chart{k}.xml").decode()
        ranges = re.findall(r"<c:f>Sweep!\$([A-Z]+)\$(\d+):\$[A-Z]+\$(\d+)</c:f>", chart)
        assert len(ranges) == 4  # (alpha, MACs) for each of the two resolutions
        seen = set()
        for _, first, last in ranges[::2]:
            series = range(int(first), int(last) + 1)
            assert {ws.cell(r, 1).value for r in series} == {variant}
            xs = [ws.cell(r, alpha_col).value for r in series]
            assert xs == sorted(xs) and len(xs) == 11
            (res,) = {ws.cell(r, res_col).value for r in series}
            seen.add(res)
        assert seen == {160, 224}


def test_variant_sheets_open_at_the_first_configuration_asked_for(tmp_path):
    target = tmp_path / "review.xlsx"
    export_review(["mobilenet_v2"], alphas=[1.0, 0.5], resolutions=[224, 160], xlsx=target)
    ws = openpyxl.load_workbook(target)["mobilenet_v2"]
    assert (ws[ALPHA_CELL].value, ws[SIDE_CELL].value) == (1.0, 224)


def test_published_figures_have_a_difference_beside_them(tmp_path):
    target = tmp_path / "review.xlsx"
    export_review(["mobilenet_v1"], xlsx=target)
    ws = openpyxl.load_workbook(target)["Summary"]
    top = next(r for r in range(1, 20) if ws.cell(r, 1).value == "variant")
    header = [c.value for c in ws[top]]
    pub = header.index(HEADERS["published_macs_millions"])
    assert header[pub + 1] == "count - published (millions)" and header[pub + 2] == "count - published (% of published)"
    macs, published = ws.cell(top + 1, header.index(HEADERS["macs"]) + 1), ws.cell(top + 1, pub + 1)
    assert (macs.value, published.value) == (568_740_352, 569)  # Keras reference; MobileNets Table 6
    diff, pct = ws.cell(top + 1, pub + 2).value, ws.cell(top + 1, pub + 3).value
    assert diff == f'=IF(ISNUMBER({published.coordinate}),{macs.coordinate}/1000000-{published.coordinate},"")'
    assert pct.startswith(f"=IF(ISNUMBER({published.coordinate}),({macs.coordinate}/1000000-")
    values = openpyxl.load_workbook(target, data_only=True)["Summary"]
    assert values.cell(top + 1, pub + 2).value == pytest.approx(568.740352 - 569)  # -0.259648 M


CODE_NAMES = ("macs", "act_out", "act_in", "bn_ops", "act_ops", "ew_ops", "bn_affine", "bn_stats", "in_side",
              "out_ch", "act_peak_bytes", "weight_bytes", "published_macs_millions", "rho", "alpha")


def test_print_setup_frozen_panes_and_headers_with_units(tmp_path):
    target = tmp_path / "review.xlsx"
    export_review(["mobilenet_v1", "mobilenet_v3_small"], alphas=[0.5, 1.0], resolutions=[160, 224], xlsx=target)
    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames == ["Summary", "Sweep", "mobilenet_v1", "mobilenet_v3_small"]
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        # fit to one page wide (fitToWidth absent means 1, the ECMA-376 default), as many pages down as it takes
        assert ws.sheet_properties.pageSetUpPr.fitToPage and (ws.page_setup.fitToWidth or 1) == 1, ws.title
        assert ws.page_setup.fitToHeight == 0, ws.title
        assert ws.freeze_panes is not None, ws.title
        header_row = ws[ws.freeze_panes].row - 1  # panes frozen just under the header row
        assert ws.print_title_rows == f"${header_row}:${header_row}", ws.title
        headers = [c.value for c in ws[header_row] if c.value]
        assert len(headers) >= 15 and not set(headers) & set(CODE_NAMES), ws.title
        units = [h for h in headers if "(" in h]
        assert len(units) >= len(headers) - 8, (ws.title, headers)  # text columns (layer, type...) need none
    v1 = wb["mobilenet_v1"]
    assert v1[RHO_CELL].number_format == "0.0000" and v1[SIDE_CELL].data_type == "n"
    summary = wb["Summary"]
    top = summary.freeze_panes
    rho_col = [c.value for c in summary[summary[top].row - 1]].index(HEADERS["rho"]) + 1
    assert summary.cell(summary[top].row, rho_col).number_format == "0.0000"


def test_a_bad_destination_is_refused_before_anything_is_written(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("a file, not a folder")
    with pytest.raises(MobilecostError, match="not a folder"):
        export_review(["mobilenet_v1"], xlsx=tmp_path / "review.xlsx", csv_dir=blocker / "csv")
    with pytest.raises(MobilecostError, match="folder, not a file"):
        export_review(["mobilenet_v1"], xlsx=tmp_path / "review.xlsx", json_path=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_export_command(tmp_path):
    from typer.testing import CliRunner

    from mobilecost.cli import app

    runner = CliRunner()
    out = tmp_path / "review.xlsx"
    result = runner.invoke(app, ["export", "mobilenet_v1", "mobilenet_v2", "--xlsx", str(out), "--csv",
                                 str(tmp_path / "csv"), "--alpha", "0.5,1.0", "--resolution", "160,224"])
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Summary", "Sweep", "mobilenet_v1", "mobilenet_v2"]
    assert (tmp_path / "csv" / "layers_mobilenet_v2.csv").exists()
    bad = runner.invoke(app, ["export", "mobilenet_v2", "--semantics", "keras", "--xlsx", str(tmp_path / "x.xlsx")])
    lines = [line for line in bad.stderr.splitlines() if line.strip()]
    assert bad.exit_code == 2 and len(lines) == 1 and "--semantics" in lines[0]
    assert not (tmp_path / "x.xlsx").exists()


def test_the_summary_notes_configurations_outside_the_calibration_rows_sizes(tmp_path):
    # pixel4_a76_tflite_fp32_1t was calibrated on 56,510,400 to 568,740,352 MACs (V3-Small and V1 at 1.0/224,
    # Keras Applications); MobileNetV3-Small at 0.75/224 has fewer (43,399,344), at 1.0/224 exactly the lower end.
    path = tmp_path / "review.xlsx"
    write_xlsx(build_review(["mobilenet_v3_small"], alphas=(0.75, 1.0), device="pixel4_a76_tflite_fp32_1t"), str(path))
    cells = [str(c.value) for row in openpyxl.load_workbook(path)["Summary"].iter_rows(max_col=1) for c in row]
    assert ("note: outside the 56,510,400 to 568,740,352 MACs of the rows this profile was calibrated on: 1 of 2 "
            "configurations; the band comes from those rows and may understate the error there") in cells


def test_a_network_without_attention_beside_one_with_it_has_zero_attention_macs(tmp_path):
    """Exported together, MobileNetV2 (no attention) and MobileNetV4-Hybrid-M: V2's attention MACs are 0, not a
    blank cell or null, and the hybrid's stay whole numbers. Only some sweeps have the column; the concatenated
    frame once held NaN for V2, which made the column float (2129920.0 in the JSON)."""
    import csv
    import json

    rows = list(csv.DictReader((Path(__file__).parent / "reference" / "timm_mobilenet_v4.csv").open()))
    ref = next(r for r in rows if r["timm_model"] == "mobilenetv4_hybrid_medium" and r["resolution"] == "224")
    attention = int(ref["attn_qk"]) + int(ref["attn_av"])  # timm's two matrix products, 24,586,240
    export_review(["mobilenet_v2", "mobilenet_v4_hybrid_medium"], alphas=[1.0], resolutions=[224],
                  csv_dir=tmp_path / "csv", json_path=tmp_path / "r.json", xlsx=tmp_path / "r.xlsx")
    summary = json.loads((tmp_path / "r.json").read_text())["summary"]
    assert [(r["variant"], r["attn_macs"]) for r in summary] == [("mobilenet_v2", 0),
                                                                  ("mobilenet_v4_hybrid_medium", attention)]
    assert all(type(r["attn_macs"]) is int for r in summary)
    with open(tmp_path / "csv" / "summary.csv", encoding="utf-8") as handle:
        assert [(r["variant"], r["attn_macs"]) for r in csv.DictReader(handle)] == [
            ("mobilenet_v2", "0"), ("mobilenet_v4_hybrid_medium", str(attention))]
    with open(tmp_path / "csv" / "sweep.csv", encoding="utf-8") as handle:
        sweep = list(csv.DictReader(handle))
    assert {r["attn_macs"] for r in sweep if r["variant"] == "mobilenet_v2"} == {"0"}
    assert all(r["attn_macs"].isdigit() for r in sweep)
    ws = openpyxl.load_workbook(tmp_path / "r.xlsx")["Summary"]
    header = next(row for row in ws.iter_rows() if row[0].value == "variant")
    col = [c.value for c in header].index(header_of("attn_macs"))
    first = header[0].row + 1
    values = [(row[0].value, row[col].value) for row in ws.iter_rows(min_row=first, max_row=first + 1)]
    assert values == [("mobilenet_v2", 0), ("mobilenet_v4_hybrid_medium", attention)]
