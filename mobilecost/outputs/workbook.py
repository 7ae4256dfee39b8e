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
from ..api import default_sides, input_shapes, layer_columns, spec_for_shapes, square_inputs, sweep
from ..numeric.checked import costs_for
from ..spec.layers import COST_FIELDS, FIELDS, WIDTH_FIELDS
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
SWEEP_STEP = 0.05


def sweep_alphas(requested) -> np.ndarray:
    """The Sweep sheet's alphas: the requested values and every 0.05 between the smallest and the
    largest of them (0.25 to 1.5 when a single value is asked for, so that its chart has a curve)."""
    requested = np.asarray(requested, float)
    lo, hi = float(requested.min()), float(requested.max())
    if lo == hi:
        lo, hi = min(0.25, lo), max(1.5, hi)
    start = np.ceil(lo / SWEEP_STEP - 1e-9) * SWEEP_STEP
    grid = np.round(np.arange(start, hi + 1e-9, SWEEP_STEP), 10)
    return np.unique(np.concatenate([grid[grid > 0], requested]))


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
        # published figures are at square inputs: none for a rectangular one (height and width columns)
        found = figures_for(row.variant, row.alpha, int(row.resolution)) if "resolution" in frame.columns else []
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
    if costs.spec.input.width is None:  # a square map's width columns repeat its sides
        values = {field: column for field, column in values.items() if field not in WIDTH_FIELDS}
    frame = pd.DataFrame({**layer_columns([lc.layer for lc in costs.layers]), **values})
    frame["params"] = params_of(frame, convention)
    return frame


def build_review(variants, alphas=(1.0,), resolutions=None, semantics=None, convention="paper",
                 device=None, on_step=None) -> Review:
    """Summary (variants x configurations), sweep, and per-layer tables at the first configuration.
    `resolutions`: sides or HxW inputs for every table; None: each table's `default_sides`.

    `on_step(text)`, when given, is called after each of the three steps per variant (progress)."""
    step = on_step or (lambda text: None)
    if not variants:
        raise MobilecostError("name at least one variant", field="VARIANT")
    alphas = [float(a) for a in alphas]
    summaries, sweeps, layers = [], [], {}
    tables = [(variant, costs_for(variant, "exact", semantics)) for variant in variants]
    unique_tables([costs.spec for _, costs in tables])  # two files with one name: refused, not one dropped
    for variant, costs in tables:
        name = costs.spec.name
        if name in layers:  # the same table named twice
            continue
        wanted = default_sides(costs.spec) if resolutions is None else resolutions
        shapes = input_shapes(wanted)  # inputs named by height and width (HxW), or None
        sides = shapes if shapes is not None else [int(r) for r in wanted]
        # A side on a rectangular table names a square input, as in report (api.square_inputs).
        own = square_inputs(sides) if shapes is None and costs.spec.input.width is not None else shapes
        if own is not None:  # the table, re-based on the first input when no rho reaches it
            variant = spec_for_shapes(costs.spec, own, "exact", semantics)
            costs = costs_for(variant, "exact", semantics)
        summaries.append(sweep(variant, alphas, sides, semantics=semantics, convention=convention, device=device))
        step(f"{name}: summary")
        grid = sweep(variant, sweep_alphas(alphas), sides, semantics=semantics, convention=convention, device=device)
        side = "resolution" if "resolution" in grid.columns else "height"
        sweeps.append(grid.sort_values([side, "alpha"], kind="stable"))  # one run of rows per chart series
        step(f"{name}: sweep")
        rho = (shapes[0][0] if shapes is not None else sides[0]) / costs.spec.input.size
        layers[name] = (costs, alphas[0], rho, _layer_frame(costs, alphas[0], rho, convention))
        step(f"{name}: layers")
    summary = _published_columns(_concat(summaries))
    return Review(summary, _concat(sweeps), layers, convention, semantics, device)


def _concat(frames) -> pd.DataFrame:
    """The sweeps of several tables as one frame. A sweep has ``attn_macs`` only for a network with attention:
    the others' count is 0 (their column once came out blank in the CSV and workbook, null in the JSON, and
    the attention network's counts as floats)."""
    if any("attn_macs" in frame.columns for frame in frames):
        frames = [frame if "attn_macs" in frame.columns else
                  frame.assign(attn_macs=np.zeros(len(frame), dtype=np.int64))[
                      [*frame.columns[:frame.columns.get_loc("macs") + 1], "attn_macs",
                       *frame.columns[frame.columns.get_loc("macs") + 1:]]]
                  for frame in frames]
    return pd.concat(frames, ignore_index=True)


# -- xlsx ----------------------------------------------------------------------------------------
HEADERS = {  # column -> the workbook's header, with its unit (CSV and JSON keep the column names)
    "variant": "variant",
    "alpha": "width multiplier α",
    "rho": "resolution multiplier ρ",
    "resolution": "input side (pixels)",
    "height": "input height (pixels)",
    "width": "input width (pixels)",
    "macs": "MACs (multiply-accumulates)",
    "published_macs_millions": "published MACs (millions)",
    "flops": "FLOPs (2 per MAC)",
    "weights": "weights (count)",
    "biases": "biases (count)",
    "bn_affine": "BN γ, β (count)",
    "bn_stats": "BN mean, variance (count)",
    "published_params_millions": "published parameters (millions)",
    "act_in": "input activations (elements)",
    "act_out": "output activations (elements)",
    "bn_ops": "BN ops if unfolded (one per output element)",
    "act_ops": "activation-function ops (one per output element)",
    "ew_ops": "element-wise ops: pooling, SE scaling, adds (count)",
    "attn_macs": "attention QKᵀ and attention×V MACs (of MACs)",
    "act_peak_bytes": "peak activation memory (bytes, fp32)",
    "weight_bytes": "weights + biases (bytes, fp32)",
    "latency_ms": "simulated latency (ms)",
    "latency_ms_low": "simulated latency, band low (ms)",
    "latency_ms_high": "simulated latency, band high (ms)",
    "published_top1": "published ImageNet top-1 (%)",
    "published_source": "source (listed below)",
    "name": "layer",
    "block": "block",
    "op": "op",
    "type": "type",
    "kernel": "kernel (k x k)",
    "stride": "stride",
    "act": "activation",
    "in_side": "input side (pixels)",
    "in_ch": "input channels",
    "out_side": "output side (pixels)",
    "out_ch": "output channels",
}
PUBLISHED = {"published_macs_millions": "macs", "published_params_millions": "params"}  # figure -> its count


def header_of(column: str, convention: str = "paper") -> str:
    """The workbook's header of a column: what it is and its unit."""
    if column == "params":
        return f"parameters (count; {CONVENTION_TEXT[convention].removeprefix('params = ')})"
    return HEADERS.get(column, column)


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


def _print_setup(ws, header_row: int) -> None:
    """Landscape, one page wide, the header row repeated on every page, panes frozen under it."""
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.repeat_rows(header_row)
    ws.set_footer("&L&A&RPage &P of &N")


def _write_table(ws, top: int, frame: pd.DataFrame, formats, convention: str) -> list[str]:
    """The frame under a header row of names with units; beside each published figure, its difference
    from the count (absolute and %) as live formulas. Returns the columns as written."""
    columns = []
    for name in frame.columns:
        columns.append(name)
        if name in PUBLISHED:
            columns += [f"{name}:diff", f"{name}:pct"]
    where = {name: c for c, name in enumerate(columns)}
    for c, name in enumerate(columns):
        base, _, kind = name.partition(":")
        title = {"diff": f"count - published (millions)", "pct": "count - published (% of published)"}.get(
            kind, header_of(base, convention))
        ws.write_string(top, c, title, formats["header"])
    sources: dict = {}  # source text -> its key, listed under the table
    for r, row in enumerate(frame.itertuples(index=False), start=top + 1):
        values = dict(zip(frame.columns, row))
        for c, name in enumerate(columns):
            base, _, kind = name.partition(":")
            if name == "published_source":
                if values[name]:
                    ws.write_string(r, c, f"[{sources.setdefault(values[name], len(sources) + 1)}]")
                continue
            if not kind:
                value = values[name]
                fmt = (formats["rho"] if name == "rho" else formats["ms"] if name.startswith("latency_ms")
                       else formats["int"] if isinstance(value, (int, np.integer)) else None)
                _write_value(ws, r, c, value, fmt)
                continue
            published, count = values[base], values[PUBLISHED[base]]
            pub_cell, count_cell = _cell(r, where[base]), _cell(r, where[PUBLISHED[base]])
            if kind == "diff":
                formula = f'=IF(ISNUMBER({pub_cell}),{count_cell}/1000000-{pub_cell},"")'
                cached = "" if _missing(published) else count / 1e6 - published
                ws.write_formula(r, c, formula, formats["millions"], cached)
            else:
                formula = f'=IF(ISNUMBER({pub_cell}),({count_cell}/1000000-{pub_cell})/{pub_cell},"")'
                cached = "" if _missing(published) else (count / 1e6 - published) / published
                ws.write_formula(r, c, formula, formats["percent"], cached)
    for c, name in enumerate(columns):
        base = name.partition(":")[0]
        if base == "published_source":
            ws.set_column(c, c, 8)
            continue
        cells = [] if ":" in name else [len(f"{v:,}" if isinstance(v, (int, np.integer)) else f"{v:.4f}"
                                            if base == "rho" else f"{v:.2f}" if base.startswith("latency_ms")
                                            else str(v)) for v in frame[base].head(200)]
        ws.set_column(c, c, min(max([9] + cells) + 1.5, 24))
    ws.set_row(top, 76)
    below = top + len(frame) + 2
    for text, key in sources.items():
        ws.write_string(below + key - 1, 0, f"[{key}] {text}")
    return columns


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


LAYER_COLUMNS = (*LAYER_TEXT, *FIELDS[:4], "macs", *PARAM_PARTS, "params", "act_in", "act_out",
                 "bn_ops", "act_ops", "ew_ops", "attn_macs")
TOTAL_COLUMNS = ("macs", *PARAM_PARTS, "params", "act_out", "bn_ops", "act_ops", "ew_ops", "attn_macs")
FIRST_LAYER_ROW = 12  # 0-based row of the first layer (row 13 in the spreadsheet; its header is row 12)
ALPHA_CELL, SIDE_CELL, RHO_CELL = "B3", "B4", "B5"  # the per-layer sheets' inputs (alpha, side) and rho = side / size
TOTALS_TOP = 2  # 0-based row of the first total beside the inputs


def _write_layer_sheet(ws, name, costs, alpha, rho, frame, convention, formats) -> None:
    spec = costs.spec
    size = spec.input.size
    side = int(np.floor(size * rho + 0.5))
    ws.write_string(0, 0, f"{spec.title} ({spec.name}), exact mode, semantics {costs.semantics}", formats["title"])
    ws.write_string(1, 0, "Inputs (change these)", formats["bold"])
    ws.write_string(2, 0, "width multiplier α")
    ws.write_number(2, 1, alpha, formats["input"])
    # A rectangular input: its height is the input cell, and rho scales the width with it (aspect kept).
    side_name = "input side" if spec.input.width is None else "input height"
    ws.write_string(3, 0, f"{side_name} (pixels)")
    ws.write_number(3, 1, side, formats["input_side"])
    ws.data_validation(3, 1, 3, 1, {"validate": "integer", "criteria": ">", "value": 0,
                                    "error_message": f"The {side_name} is a whole number of pixels."})
    ws.write_string(4, 0, f"ρ = {side_name} / {size}")
    ws.write_formula(4, 1, f"={SIDE_CELL.replace('B', '$B$')}/{size}", formats["rho"], side / size)
    notes = ["Change α or the input side: every shape and cost below is a live formula (the reference rounding "
             "rules written out).",
             f"Source of the table: {spec.source}",
             header_line(convention, "exact", costs.semantics),
             "Shortcut adds whose two inputs have different widths do not exist: their costs are 0."]
    if spec.input.width is not None:
        notes.append(f"The input is {size}x{spec.input.width} (height x width) at ρ = 1; the width is "
                     f"round({spec.input.width} ρ) and every side column holds a map's height.")
    for i, note in enumerate(notes):
        ws.write_string(7 + i, 0, note)
    printer = SheetPrinter(input_cells(size, "$B$3", "$B$5", "$B$4"))
    col = {c: i for i, c in enumerate(LAYER_COLUMNS)}
    header = FIRST_LAYER_ROW - 1
    for c, field in enumerate(LAYER_COLUMNS):
        ws.write_string(header, c, header_of(field, convention), formats["header"])
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
    for field in TOTAL_COLUMNS:
        c = col[field]
        ws.write_formula(total, c, f"=SUM({_cell(FIRST_LAYER_ROW, c)}:{_cell(last, c)})", formats["total"],
                         int(frame[field].sum()))
    # The same totals at the top, beside the inputs: two columns of label and value.
    ws.write_string(1, 3, "Totals of the layers below", formats["bold"])
    for k, field in enumerate(TOTAL_COLUMNS):
        row, label_col = TOTALS_TOP + k % 5, 3 + 7 * (k // 5)
        ws.merge_range(row, label_col, row, label_col + 3, header_of(field, convention), formats["label"])
        ws.merge_range(row, label_col + 4, row, label_col + 5, None, formats["total_top"])
        ws.write_formula(row, label_col + 4, f"={_cell(total, col[field], absolute=True)}", formats["total_top"],
                         int(frame[field].sum()))
    ws.freeze_panes(FIRST_LAYER_ROW, 1)
    ws.set_column(0, 0, 19)
    ws.set_column(1, len(LAYER_COLUMNS) - 1, 11)
    ws.set_column(col["macs"], col["macs"], 13)
    ws.set_row(header, 76)
    _print_setup(ws, header)


def _write_summary(ws, review: Review, formats) -> None:
    ws.write_string(0, 0, "mobilecost design review: exact counts per configuration", formats["title"])
    notes = [
        header_line(review.convention, "exact", review.semantics or "default"),
        "Parameters split: weights, biases, BN affine (gamma, beta), BN statistics (mean, var); "
        + "; ".join(f"{k}: {v}" for k, v in CONVENTION_TEXT.items()),
        "Published figures beside each configuration (millions, as printed), each followed by the count's "
        "difference from it: " + SUMMARY_SOURCES,
        "Peak activation memory: the largest live set of activations, sequential schedule, fp32; weights + biases "
        "at fp32",
    ]
    if review.device is not None:
        from ..latency.devices import load_device
        from ..latency.point_report import configurations_note

        profile = load_device(review.device)
        notes.append(f"Simulated latency: {profile.label()}")
        note = configurations_note(review.summary["macs"], profile.calibrated_macs)
        if note:
            notes.append(note)
    top = 1 + len(notes) + 1
    columns = _write_table(ws, top, review.summary, formats, review.convention)
    for i, note in enumerate(notes):  # wrapped within the table's width, so that printing fits the table
        ws.merge_range(1 + i, 0, 1 + i, len(columns) - 1, note, formats["note"])
        ws.set_row(1 + i, 14 * (1 + len(note) // 260))
    ws.freeze_panes(top + 1, 1)
    _print_setup(ws, top)


def _write_sweep(wb, ws, review: Review, formats) -> None:
    frame = review.sweep
    alphas = np.unique(frame["alpha"].to_numpy(float))
    ws.write_string(0, 0, f"Totals over α ({alphas.min():g} to {alphas.max():g}) at each requested input side "
                          "(exact mode)", formats["title"])
    top = 2
    columns = _write_table(ws, top, frame, formats, review.convention)
    ws.freeze_panes(top + 1, 1)
    _print_setup(ws, top)
    xcol, ycol = columns.index("alpha"), columns.index("macs")
    variant_of = frame["variant"].to_numpy()
    rectangular = "resolution" not in frame.columns  # then height and width columns
    resolution_of = frame["height" if rectangular else "resolution"].to_numpy()
    width_of = frame["width" if rectangular else "resolution"].to_numpy()
    for k, variant in enumerate(dict.fromkeys(variant_of)):
        chart = wb.add_chart({"type": "scatter", "subtype": "straight_with_markers"})
        for res in dict.fromkeys(resolution_of[variant_of == variant]):
            rows = np.flatnonzero((variant_of == variant) & (resolution_of == res))
            a, b = top + 1 + rows[0], top + 1 + rows[-1]
            chart.add_series({
                "name": csv_cell(f"{res} x {width_of[rows[0]]}"),  # xlsxwriter reads a name starting '=' as a formula
                "categories": [ws.get_name(), a, xcol, b, xcol],
                "values": [ws.get_name(), a, ycol, b, ycol],
                "marker": {"type": "circle", "size": 3},
            })
        chart.set_title({"name": csv_cell(f"{variant}: MACs against α, one line per input side"),
                         "name_font": {"size": 11}})
        chart.set_x_axis({"name": "width multiplier α", "min": float(alphas.min()), "max": float(alphas.max())})
        chart.set_y_axis({"name": "MACs (multiply-accumulates)", "num_format": "#,##0"})
        chart.set_legend({"position": "right"})
        chart.set_size({"width": 640, "height": 340})
        ws.insert_chart(top + 1 + 18 * k, len(columns) + 1, chart)


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
        "bold": wb.add_format({"bold": True}),
        "header": wb.add_format({"bold": True, "bottom": 1, "bg_color": "#E8EEF4", "text_wrap": True,
                                 "valign": "top"}),
        "int": wb.add_format({"num_format": "#,##0"}),
        "rho": wb.add_format({"num_format": "0.0000"}),
        "ms": wb.add_format({"num_format": "0.00"}),
        "note": wb.add_format({"text_wrap": True, "valign": "top"}),
        "millions": wb.add_format({"num_format": "+0.00;-0.00;0.00"}),
        "percent": wb.add_format({"num_format": "+0.0%;-0.0%;0.0%"}),
        "total": wb.add_format({"num_format": "#,##0", "bold": True, "top": 1}),
        "total_top": wb.add_format({"num_format": "#,##0", "bold": True, "bg_color": "#EEF5E8", "border": 1}),
        "label": wb.add_format({"border": 1, "font_size": 9}),
        "wrap": wb.add_format({"text_wrap": True, "valign": "top", "font_size": 9}),
        "input": wb.add_format({"bg_color": "#FFF2CC", "border": 1, "num_format": "0.00##"}),
        "input_side": wb.add_format({"bg_color": "#FFF2CC", "border": 1, "num_format": "0"}),
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
    taken = set()  # names that differ only in other characters ('my net', 'my/net') or in case share a stem
    for name, (_, _, _, frame) in review.layers.items():
        stem = f"layers_{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}"
        candidate, n = stem, 1
        while candidate.lower() in taken:
            n += 1
            candidate = f"{stem}~{n}"
        taken.add(candidate.lower())
        files[folder / f"{candidate}.csv"] = frame
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


def export_review(variants, alphas=(1.0,), resolutions=None, xlsx=None, csv_dir=None, json_path=None,
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
