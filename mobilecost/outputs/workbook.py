"""The design-review workbook: Summary, Sweep (with a chart) and one live per-layer sheet per variant.

Each per-layer sheet has alpha and rho input cells; every shape and cost cell below them is a
formula printed from the engine's exact-mode expressions (``workbook_formulas``), so a reviewer can
change alpha or rho and the spreadsheet recomputes the same integers mobilecost computes.
Text that comes from tables (titles, sources, layer names) is written as text, never as a formula.
Files are written to a temporary path and renamed into place.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..conventions import CONVENTION_TEXT, CONVENTIONS, PARAM_PARTS, header_line, params_of
from ..errors import MobilecostError
from ..api import layer_columns, sweep
from ..numeric.checked import costs_for
from ..spec.layers import COST_FIELDS, FIELDS
from ..spec.loader import unique_tables
from ..spec.files import brief
from ..numeric.compiled import compiled_layers
from ..numeric.values import values_at
from .files import Batch, csv_cell, csv_text, destination
from ..analysis.published import figures_for
from .workbook_formulas import SheetPrinter, input_cells

LAYER_TEXT = ("name", "block", "op", "type", "kernel", "stride", "act")
SUMMARY_SOURCES = ("MobileNets arXiv:1704.04861; MobileNetV2 arXiv:1801.04381; Searching for MobileNetV3 "
                   "arXiv:1905.02244; TF-slim READMEs; Keras Applications; torchvision (published figures as "
                   "listed in mobilecost/data/published_models.csv)")
SWEEP_ALPHAS = np.round(np.arange(0.25, 1.5001, 0.05), 10)


@dataclass
class Review:
    """Everything the workbook shows, as plain tables (also written as CSV / JSON)."""

    summary: pd.DataFrame
    sweep: pd.DataFrame
    layers: dict  # variant name -> (CostTable, alpha, rho, per-layer DataFrame incl. absent shortcuts)
    convention: str
    semantics: str | None
    device: str | None


# -- data --------------------------------------------------------------------------------------
def _published_columns(frame: pd.DataFrame) -> pd.DataFrame:
    macs, params, top1, source = [], [], [], []
    for row in frame.itertuples():
        found = figures_for(row.variant, row.alpha, int(row.resolution))
        first = found[0] if found else None
        macs.append(first.macs_millions if first else None)
        params.append(first.params_millions if first else None)
        top1.append(next((p.top1 for p in found if p.top1 is not None), None))
        source.append(first.source if first else "")
    out = frame.copy()
    out.insert(out.columns.get_loc("macs") + 1, "published_macs_millions", macs)
    out.insert(out.columns.get_loc("params") + 1, "published_params_millions", params)
    out["published_top1"] = top1
    out["published_source"] = source
    return out


def _layer_frame(costs, alpha: float, rho: float, convention: str) -> pd.DataFrame:
    values = values_at(compiled_layers(costs.spec, costs.mode, costs.semantics), alpha, rho).at(0)
    frame = pd.DataFrame({**layer_columns([lc.layer for lc in costs.layers]), **values})
    frame["params"] = params_of(frame, convention)
    return frame


def build_review(variants, alphas=(1.0,), resolutions=(224,), semantics=None, convention="paper",
                 device=None, on_step=None) -> Review:
    """Summary (variants x configurations), sweep, and per-layer tables at the first configuration.

    `on_step(text)`, when given, is called after each of the three steps per variant (progress)."""
    step = on_step or (lambda text: None)
    if not variants:
        raise MobilecostError("name at least one variant", field="VARIANT")
    alphas = [float(a) for a in alphas]
    resolutions = [int(r) for r in resolutions]
    summaries, sweeps, layers = [], [], {}
    tables = [(variant, costs_for(variant, "exact", semantics)) for variant in variants]
    unique_tables([costs.spec for _, costs in tables])  # two files with one name: refused, not one dropped
    for variant, costs in tables:
        name = costs.spec.name
        if name in layers:  # the same table named twice
            continue
        summaries.append(sweep(variant, alphas, resolutions, semantics=semantics, convention=convention, device=device))
        step(f"{name}: summary")
        grid = sweep(variant, SWEEP_ALPHAS, resolutions, semantics=semantics, convention=convention, device=device)
        sweeps.append(grid.sort_values(["resolution", "alpha"], kind="stable"))  # one run of rows per chart series
        step(f"{name}: sweep")
        rho = resolutions[0] / costs.spec.input.size
        layers[name] = (costs, alphas[0], rho, _layer_frame(costs, alphas[0], rho, convention))
        step(f"{name}: layers")
    summary = _published_columns(pd.concat(summaries, ignore_index=True))
    return Review(summary, pd.concat(sweeps, ignore_index=True), layers, convention, semantics, device)


# -- xlsx ----------------------------------------------------------------------------------------
def _sheet_name(name: str, taken: set) -> str:
    base = re.sub(r"[\[\]:*?/\\']", "_", name)[:28] or "variant"
    candidate, n = base, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{base[:26]}~{n}"
    taken.add(candidate.lower())
    return candidate


def _cell(row: int, col: int, absolute: bool = False) -> str:
    from xlsxwriter.utility import xl_rowcol_to_cell

    return xl_rowcol_to_cell(row, col, row_abs=absolute, col_abs=absolute)


def _write_value(ws, row, col, value, fmt=None):
    """Numbers as numbers, everything else as text (never a formula)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, (bool, np.bool_)):
        ws.write_string(row, col, str(bool(value)), fmt)
    elif isinstance(value, (int, float, np.integer, np.floating)):
        ws.write_number(row, col, float(value), fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def _write_table(ws, top: int, frame: pd.DataFrame, formats) -> None:
    for col, name in enumerate(frame.columns):
        ws.write_string(top, col, str(name), formats["header"])
    for r, values in enumerate(frame.itertuples(index=False), start=top + 1):
        for col, value in enumerate(values):
            fmt = formats["int"] if isinstance(value, (int, np.integer)) else None
            _write_value(ws, r, col, value, fmt)
    for col, name in enumerate(frame.columns):
        longest = max([len(str(name))] + [len(f"{v:,}" if isinstance(v, (int, np.integer)) else str(v))
                                          for v in frame.iloc[:, col].head(200)])
        ws.set_column(col, col, min(max(longest + 2, 8), 40))


LAYER_COLUMNS = (*LAYER_TEXT, *FIELDS[:4], "macs", *PARAM_PARTS, "params", "act_in", "act_out",
                 "bn_ops", "act_ops", "ew_ops", "attn_macs")
FIRST_LAYER_ROW = 8  # 0-based row of the first layer (row 9 in the spreadsheet)
ALPHA_CELL, RHO_CELL, SIDE_CELL = "B2", "B3", "B4"  # the per-layer sheets' input cells


def _write_layer_sheet(ws, name, costs, alpha, rho, frame, convention, formats) -> None:
    spec = costs.spec
    ws.write_string(0, 0, f"{spec.title} ({spec.name}), exact mode, semantics {costs.semantics}", formats["title"])
    ws.write_string(1, 0, "alpha (input)")
    ws.write_number(1, 1, alpha, formats["input"])
    ws.write_string(2, 0, "rho (input)")
    ws.write_number(2, 1, rho, formats["input"])
    ws.write_string(3, 0, "input side, pixels")
    ws.write_formula(3, 1, f"=INT({spec.input.size}*$B$3+0.5)", formats["int"],
                     int(np.floor(spec.input.size * rho + 0.5)))
    ws.write_string(1, 3, "Change alpha or rho: every shape and cost below is a live formula "
                          "(the reference rounding rules written out).")
    ws.write_string(2, 3, f"Source of the table: {spec.source}")
    ws.write_string(3, 3, header_line(convention, "exact", costs.semantics))
    ws.write_string(4, 3, "Shortcut adds whose two inputs have different widths do not exist: their costs are 0.")
    printer = SheetPrinter(input_cells(spec.input.size, "$B$2", "$B$3", "$B$4"))
    col = {c: i for i, c in enumerate(LAYER_COLUMNS)}
    header = FIRST_LAYER_ROW - 1
    for c, title in enumerate(LAYER_COLUMNS):
        ws.write_string(header, c, title, formats["header"])
    produced: dict = {}
    for i, lc in enumerate(costs.layers):
        r = FIRST_LAYER_ROW + i
        values = frame.iloc[i]
        for field in LAYER_TEXT:
            _write_value(ws, r, col[field], values[field])
        here: dict = {}
        for field in ("in_side", "in_ch", "out_ch", "out_side", *COST_FIELDS):
            expr = lc.exprs[field]
            formula = printer.formula(expr, {**produced, **here})
            ws.write_formula(r, col[field], formula, formats["int"], int(values[field]))
            if field in ("in_side", "in_ch", "out_ch", "out_side") and not expr.is_Number:
                here[expr] = _cell(r, col[field])
        parts = "+".join(_cell(r, col[p]) for p in CONVENTIONS[convention])
        ws.write_formula(r, col["params"], f"={parts}", formats["int"], int(values["params"]))
        for field in ("out_side", "out_ch"):
            if not lc.exprs[field].is_Number:
                produced[lc.exprs[field]] = _cell(r, col[field])
    last = FIRST_LAYER_ROW + len(costs.layers) - 1
    total = last + 1
    ws.write_string(total, 0, "total", formats["header"])
    for field in ("macs", *PARAM_PARTS, "params", "act_out", "bn_ops", "act_ops", "ew_ops", "attn_macs"):
        c = col[field]
        ws.write_formula(total, c, f"=SUM({_cell(FIRST_LAYER_ROW, c)}:{_cell(last, c)})", formats["total"],
                         int(frame[field].sum()))
    ws.freeze_panes(FIRST_LAYER_ROW, 1)
    ws.set_column(0, 0, 14)
    ws.set_column(1, len(LAYER_COLUMNS) - 1, 11)


def _write_summary(ws, review: Review, formats) -> None:
    ws.write_string(0, 0, "mobilecost design review: exact counts per configuration", formats["title"])
    ws.write_string(1, 0, header_line(review.convention, "exact", review.semantics or "default"))
    ws.write_string(2, 0, "Parameters split: weights, biases, BN affine (gamma, beta), BN statistics (mean, var); "
                          + "; ".join(f"{k}: {v}" for k, v in CONVENTION_TEXT.items()))
    ws.write_string(3, 0, "Published figures beside each configuration (millions, as printed): " + SUMMARY_SOURCES)
    notes = ["act_peak_bytes: peak live activation memory, sequential schedule, fp32; weight_bytes: weights and "
             "biases at fp32"]
    if review.device is not None:
        from ..latency.devices import load_device

        notes.append(f"latency_ms: {load_device(review.device).label()}")
    for i, note in enumerate(notes):
        ws.write_string(4 + i, 0, note)
    _write_table(ws, 4 + len(notes) + 1, review.summary, formats)
    ws.set_column(len(review.summary.columns) - 1, len(review.summary.columns) - 1, 60)


def _write_sweep(wb, ws, review: Review, formats) -> None:
    frame = review.sweep
    ws.write_string(0, 0, "Totals over alpha for each resolution (exact mode)", formats["title"])
    top = 2
    _write_table(ws, top, frame, formats)
    chart = wb.add_chart({"type": "scatter", "subtype": "straight_with_markers"})
    xcol = list(frame.columns).index("alpha")
    ycol = list(frame.columns).index("macs")
    first_res = frame["resolution"].iloc[0]
    for variant in frame["variant"].unique():
        rows = np.flatnonzero((frame["variant"] == variant).to_numpy() & (frame["resolution"] == first_res).to_numpy())
        a, b = top + 1 + rows[0], top + 1 + rows[-1]
        chart.add_series({
            "name": csv_cell(f"{variant} @ {first_res}"),  # xlsxwriter reads a name starting '=' as a formula
            "categories": [ws.get_name(), a, xcol, b, xcol],
            "values": [ws.get_name(), a, ycol, b, ycol],
            "marker": {"type": "circle", "size": 3},
        })
    chart.set_title({"name": f"MACs against alpha at {first_res} x {first_res}"})
    chart.set_x_axis({"name": "width multiplier alpha"})
    chart.set_y_axis({"name": "MACs (multiply-accumulates)", "num_format": "#,##0"})
    chart.set_size({"width": 760, "height": 420})
    ws.insert_chart(2, len(frame.columns) + 1, chart)


def write_xlsx(review: Review, path) -> None:
    """Write the workbook to `path` atomically."""
    with Batch() as batch:
        batch.render(path, "--xlsx", lambda tmp: _render_xlsx(review, tmp), suffix=".part.xlsx")


def _render_xlsx(review: Review, tmp: str) -> None:
    import xlsxwriter
    from xlsxwriter.exceptions import FileCreateError

    wb = xlsxwriter.Workbook(tmp, {"strings_to_formulas": False, "strings_to_urls": False,
                                   "strings_to_numbers": False})
    formats = {
        "title": wb.add_format({"bold": True, "font_size": 13}),
        "header": wb.add_format({"bold": True, "bottom": 1, "bg_color": "#E8EEF4"}),
        "int": wb.add_format({"num_format": "#,##0"}),
        "total": wb.add_format({"num_format": "#,##0", "bold": True, "top": 1}),
        "input": wb.add_format({"bg_color": "#FFF2CC", "border": 1, "num_format": "0.0000####"}),
    }
    taken = {"summary", "sweep"}
    _write_summary(wb.add_worksheet("Summary"), review, formats)
    _write_sweep(wb, wb.add_worksheet("Sweep"), review, formats)
    for name, (costs, alpha, rho, frame) in review.layers.items():
        _write_layer_sheet(wb.add_worksheet(_sheet_name(name, taken)), name, costs, alpha, rho, frame,
                           review.convention, formats)
    try:
        wb.close()
    except FileCreateError as exc:  # it wraps the OSError, naming the temporary file
        raise exc.__context__ if isinstance(exc.__context__, OSError) else OSError(str(exc)) from None


# -- csv / json ------------------------------------------------------------------------------------
def csv_files(review: Review, directory) -> dict:
    """The files `--csv DIRECTORY` writes: path -> the frame written there."""
    folder = Path(directory)
    files = {folder / "summary.csv": review.summary, folder / "sweep.csv": review.sweep}
    for name, (_, _, _, frame) in review.layers.items():
        files[folder / f"layers_{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.csv"] = frame
    return files


def write_csv_dir(review: Review, directory) -> list[Path]:
    check_destinations(csv_dir=directory)
    with Batch() as batch:
        _stage_csv(batch, review, directory)
    return list(csv_files(review, directory))


def _stage_csv(batch: Batch, review: Review, directory) -> None:
    batch.folder(directory, "--csv")
    for path, frame in csv_files(review, directory).items():
        batch.write(path, csv_text(frame), "--csv")


def _records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records"))


def review_json(review: Review) -> str:
    doc = {
        "conventions": header_line(review.convention, "exact", review.semantics or "default"),
        "summary": _records(review.summary),
        "layers": {name: {"alpha": alpha, "rho": rho, "layers": _records(frame)}
                   for name, (_, alpha, rho, frame) in review.layers.items()},
    }
    return json.dumps(doc, indent=1)


def check_destinations(xlsx=None, csv_dir=None, json_path=None) -> None:
    """Refuse before any work is done when an output cannot be written where it is asked for."""
    for path, field in ((xlsx, "--xlsx"), (json_path, "--json")):
        if path:
            destination(path, field)
    if csv_dir:
        folder = Path(csv_dir)
        try:
            exists, is_dir = folder.exists(), folder.is_dir()
        except OSError as exc:
            raise MobilecostError(f"cannot write here: {exc.strerror or exc}", where=brief(str(folder), 100),
                                  field="--csv") from None
        if exists and not is_dir:
            raise MobilecostError("not a folder", where=str(folder), field="--csv")
        parent = folder.parent
        if not exists and not parent.is_dir():
            problem = "not a folder" if parent.exists() else "the parent folder does not exist"
            raise MobilecostError(problem, where=str(parent), field="--csv")
        if not os.access(folder if exists else parent, os.W_OK | os.X_OK):
            raise MobilecostError("the folder is not writable", where=str(folder if exists else parent), field="--csv")


def export_steps(variants, xlsx=None, csv_dir=None, json_path=None) -> int:
    """How many times `export_review` calls `on_step` (for a progress bar)."""
    return 3 * len(dict.fromkeys(variants)) + sum(1 for out in (xlsx, csv_dir, json_path) if out)


def export_review(variants, alphas=(1.0,), resolutions=(224,), xlsx=None, csv_dir=None, json_path=None,
                  semantics=None, convention="paper", device=None, on_step=None) -> Review:
    """Build the review once and write whichever outputs are asked for: all of them or none.

    Every destination is checked before the work starts; the outputs are then prepared in full
    beside their targets and renamed into place together (`files.Batch`)."""
    if not (xlsx or csv_dir or json_path):
        raise MobilecostError("nothing to write: give --xlsx, --csv or --json", field="--xlsx")
    step = on_step or (lambda text: None)
    check_destinations(xlsx, csv_dir, json_path)
    review = build_review(variants, alphas, resolutions, semantics, convention, device, step)
    with Batch() as batch:
        if xlsx:
            batch.render(xlsx, "--xlsx", lambda tmp: _render_xlsx(review, tmp), suffix=".part.xlsx")
            step("workbook written")
        if csv_dir:
            _stage_csv(batch, review, csv_dir)
            step("CSV written")
        if json_path:
            batch.write(json_path, review_json(review), "--json")
            step("JSON written")
    return review
