"""Render evaluated tables: terminal table, JSON, CSV, Markdown. No arithmetic here.

A one-configuration report renders a `numeric.one_point.PointReport` (plain Python); sweeps render DataFrames.
"""

from __future__ import annotations

import csv
import io
import json

from ..conventions import header_line
from ..analysis.published import figures_for
from .files import csv_cell, csv_text
from .terminal_table import TerminalTable, render as render_text
from .text import dropped_message, fit_columns, natural_width, text_table

LAYER_COLUMNS = ["name", "op", "kernel", "stride", "in_side", "in_ch", "out_side", "out_ch",
                 "macs", "weights", "biases", "bn_affine", "bn_stats", "params", "act_out",
                 "bn_ops", "act_ops", "ew_ops", "attn_macs"]


def layer_columns(report) -> list[str]:
    """LAYER_COLUMNS; for a rectangular input also each map's width beside its height (in_side, out_side)."""
    if "in_width" not in report.columns:
        return LAYER_COLUMNS
    columns = list(LAYER_COLUMNS)
    for side in ("in_side", "out_side"):
        columns.insert(columns.index(side) + 1, side.replace("side", "width"))
    return columns


def _rows(report) -> list[dict]:
    return report.rows(layer_columns(report))


def _published(a: dict) -> list:
    """The published figures for this configuration (none for a rectangular input: they are at square ones)."""
    return figures_for(a["variant"], a["alpha"], a["resolution"]) if a["mode"] == "exact" and "width" not in a else []


def _conventions(a: dict) -> str:
    """The header line; for a network with attention, also whether its MACs include the attention products."""
    attention = a.get("attention") if a["totals"].get("attn_macs") else None
    return header_line(a["convention"], a["mode"], a["semantics"], attention)


def _dim(value) -> str:
    value = _py(value)
    return str(value) if isinstance(value, int) else f"{value:.4g}"


def _shape(side, ch, width=None) -> str:
    return f"{_dim(side)}x{_dim(side if width is None else width)}x{_dim(ch)}"


def report_dict(report) -> dict:
    a = report.attrs
    published = [
        {"label": p.label, "macs_millions": p.macs_millions, "params_millions": p.params_millions,
         "top1": p.top1, "source": p.source}
        for p in _published(a)
    ]
    return {
        "variant": a["variant"], "alpha": a["alpha"], "rho": a["rho"], "resolution": a["resolution"],
        **({"height": a["height"], "width": a["width"]} if "width" in a else {}),
        "mode": a["mode"], "semantics": a["semantics"], "convention": a["convention"],
        "conventions": _conventions(a),
        "totals": {k: _py(v) for k, v in a["totals"].items()},
        "layers": [{k: _py(v) for k, v in row.items()} for row in _rows(report)],
        "share_by_type": [{k: _py(v) for k, v in row.items()} for row in report.shares],
        "published": published,
        "memory": a.get("memory"),
        **({"parts": {k: {f: _py(v) for f, v in part.items()} for k, part in a["parts"].items()}}
           if "parts" in a else {}),
    }


def parts_line(a: dict) -> str | None:
    """A head table's totals split between its backbone and its head, or None for a plain table."""
    parts = a.get("parts")
    if not parts:
        return None
    b, h = parts["backbone"], parts["head"]
    return (f"backbone {b['table']}: {commas(b['macs'])} MACs, {commas(b['params'])} params ({b['layers']} layers); "
            f"head: {commas(h['macs'])} MACs, {commas(h['params'])} params ({h['layers']} layers)")


def _py(value):
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def render(report, fmt: str, width: int = 80) -> str:
    """A `numeric.one_point.PointReport` as json, csv, markdown or terminal tables of at most `width` columns."""
    if fmt == "json":
        return json.dumps(report_dict(report), indent=2)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(layer_columns(report))
        for row in _rows(report):
            writer.writerow([csv_cell(v) if isinstance(v, str) else v for v in row.values()])
        return buf.getvalue()
    if fmt == "markdown":
        return _markdown(report)
    return _table_text(report, width)


def commas(value) -> str:
    """A count with thousands separators (commas): whole numbers as such, others with one decimal."""
    value = _py(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def _title(a: dict) -> str:
    def side(res):
        return f"{res}" if isinstance(res, int) or float(res).is_integer() else f"{res:.1f}"

    res = side(a["resolution"])
    return f"{a['title']}  alpha={a['alpha']:g}  rho={a['rho']:.4g}  input {res}x{side(a.get('width', a['resolution']))}"


def _markdown(report) -> str:
    a = report.attrs
    lines = [f"## {_title(a)}", "", f"_{_conventions(a)}_", ""]
    lines.append("| layer | op | k | s | input | output | MACs | params | activations |")
    lines.append("|---|---|---|---|---|---|---:|---:|---:|")
    for row in _rows(report):
        lines.append(f"| {row['name']} | {row['op']} | {row['kernel']} | {row['stride']} | "
                     f"{_shape(row['in_side'], row['in_ch'], row.get('in_width'))} | "
                     f"{_shape(row['out_side'], row['out_ch'], row.get('out_width'))} | "
                     f"{commas(row['macs'])} | {commas(row['params'])} | {commas(row['act_out'])} |")
    t = a["totals"]
    lines.append(f"| **total** | | | | | | **{commas(t['macs'])}** | **{commas(t['params'])}** | "
                 f"{commas(t['act_out'])} |")
    if parts_line(a):
        lines += ["", parts_line(a)]
    mem = a.get("memory")
    if mem:
        lines += ["", f"Peak live activations: {commas(mem['act_peak_bytes'])} bytes ({mem['dtype']}) at "
                  f"{mem['peak_layer']} (live: {', '.join(mem['peak_live'])}); weights {commas(mem['weight_bytes'])} bytes"]
    lines += ["", "| layer type | MACs | % | params | % |", "|---|---:|---:|---:|---:|"]
    for row in report.shares:
        lines.append(f"| {row['type']} | {commas(row['macs'])} | {row['macs_pct']:.2f} | {commas(row['params'])} | "
                     f"{row['params_pct']:.2f} |")
    pub = report_dict(report)["published"]
    if pub:
        lines += ["", "| published | MACs (M) | params (M) | source |", "|---|---:|---:|---|"]
        for p in pub:
            lines.append(f"| {p['label']} | {p['macs_millions'] or ''} | {p['params_millions'] or ''} | {p['source']} |")
    return "\n".join(lines) + "\n"


# Left out of the per-layer table, in this order, when it would not fit: the input shape is the previous
# row's output, kernel and stride are in the table file; MACs, parameters and activations always stay.
LAYER_OPTIONAL = ("input", "k", "s", "op")


def _table_text(report, width: int) -> str:
    a = report.attrs
    headers = ["layer", "op", "k", "s", "input", "output", "MACs", "params", "activations"]
    rows = [[row["name"], row["op"], str(row["kernel"]), str(row["stride"]),
             _shape(row["in_side"], row["in_ch"], row.get("in_width")),
             _shape(row["out_side"], row["out_ch"], row.get("out_width")), commas(row["macs"]), commas(row["params"]),
             commas(row["act_out"])] for row in _rows(report)]
    t = a["totals"]
    total = ["total", "", "", "", "", "", commas(t["macs"]), commas(t["params"]), commas(t["act_out"])]
    headers, rows, dropped = fit_columns(headers, rows + [total], width, LAYER_OPTIONAL)
    table = TerminalTable(title=_title(a), caption=_conventions(a))
    for col in headers:
        table.add_column(col, justify="left" if col in ("layer", "op") else "right", overflow="fold")
    for row in rows[:-1]:
        table.add_row(*row)
    table.add_section()
    table.add_row(*rows[-1])
    items = [table]
    if dropped:
        items.append(dropped_message(dropped, width))

    attention = [("attention MACs", commas(t["attn_macs"]))] if t.get("attn_macs") else []
    names = ["MACs", *(name for name, _ in attention), "FLOPs (2 x MACs)", "weights", "biases", "BN gamma/beta",
             "BN mean/var", "params", "elementwise ops"]
    values = [commas(t["macs"]), *(value for _, value in attention), commas(t["flops"]), commas(t["weights"]),
              commas(t["biases"]), commas(t["bn_affine"]), commas(t["bn_stats"]), commas(t["params"]),
              commas(t["bn_ops"] + t["act_ops"] + t["ew_ops"])]
    if natural_width(names, [values]) <= width:  # one row, a column per total
        split = TerminalTable(title="Totals")
        for col in names:
            split.add_column(col, justify="right")
        split.add_row(*values)
    else:  # folded: a row per total
        split = TerminalTable(title="Totals")
        split.add_column("total")
        split.add_column("value", justify="right")
        for name, value in zip(names, values):
            split.add_row(name, value)
    items.append(split)
    if parts_line(a):
        items.append(parts_line(a))
    mem = a.get("memory")
    if mem:
        items.append(f"Peak live activations {commas(mem['act_peak_bytes'])} bytes ({mem['dtype']}, sequential "
                     f"schedule) at {mem['peak_layer']}: live {', '.join(mem['peak_live'])}; weights "
                     f"{commas(mem['weight_bytes'])} bytes; sum of outputs {commas(t['act_out'])} elements "
                     "(a sum, not a peak)")

    by_type = TerminalTable(title="Share by layer type")
    for col in ("type", "MACs", "% MACs", "params", "% params"):
        by_type.add_column(col, justify="left" if col == "type" else "right")
    for row in report.shares:
        by_type.add_row(row["type"], commas(row["macs"]), f"{row['macs_pct']:.2f}", commas(row["params"]),
                        f"{row['params_pct']:.2f}")
    items.append(by_type)

    pub = _published(a)
    if pub:  # each figure as its source prints it
        pt = TerminalTable(title="Published figures for this configuration")
        for col in ("source", "MACs (M)", "params (M)", "top-1"):
            pt.add_column(col, justify="left" if col == "source" else "right", no_wrap=col != "source")
        pt.add_row("mobilecost", f"{t['macs'] / 1e6:.1f}", f"{t['params'] / 1e6:.3f}", "")
        for p in pub:  # a figure printed in G (B) is shown in M, with its printed form
            macs = p.macs_printed if p.macs_decimals is None else f"{p.macs_millions:,.0f} ({p.macs_printed} G)"
            pt.add_row(f"{p.label}: {p.source}", macs, p.params_printed, f"{p.top1 or ''}")
        items.append(pt)
    return render_text(*items, width=width)


# Left out of a sweep's table, in this order, when it would not fit: what is constant or follows from
# another column first (variant, rho, FLOPs), then the parts of the totals that stay.
SWEEP_OPTIONAL = ("variant", "rho", "flops", "weights", "biases", "bn_affine", "bn_stats", "bn_ops", "act_ops",
                  "ew_ops", "act_out", "weight_bytes", ("latency_ms_low", "latency_ms_high"), "act_peak_bytes")


def render_sweep(frame, fmt: str, width: int = 80) -> str:
    """A sweep's DataFrame as json, a terminal table (at most `width` columns) or csv."""
    if fmt == "json":
        return frame.to_json(orient="records", indent=1)
    if fmt == "table":
        rows = [[f"{v:,}" if isinstance(v, (int,)) or (hasattr(v, "dtype") and v.dtype.kind == "i")
                 else (f"{v:.4g}" if isinstance(v, float) else str(v)) for v in row]
                for row in frame.itertuples(index=False)]
        return text_table(list(frame.columns), rows, right=[c for c in frame.columns if c != "variant"], width=width,
                          optional=SWEEP_OPTIONAL)
    buf = io.StringIO()
    csv_text(frame, buf)
    return buf.getvalue()
