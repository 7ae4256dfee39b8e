"""Text rendering for `memory`, `explain` and `paper`. No arithmetic beyond formatting."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ..analysis.explain import Explanation, Walk
from ..numeric.one_point import exact_sum
from .report import commas
from .text import dropped_message, natural_width, pack, text_table, wrap_lines

if TYPE_CHECKING:
    from ..numeric.one_point import LiveSet


def _kb(nbytes) -> str:
    if isinstance(nbytes, int):  # exact mode: tenths of a kilobyte, rounded half up in integers
        tenths = (nbytes + 50) // 100
        return f"{tenths // 10:,}.{tenths % 10} KB"
    return f"{float(nbytes) / 1000:,.1f} KB"


def render_memory(ls: LiveSet, title: str, outputs_sum: float, fmt: str = "table", width: int = 80) -> str:
    plan, b = ls.plan, ls.bytes_per_element
    steps = []
    for i, step in enumerate(plan.steps):
        # Counts stay Python integers in exact mode: floats past 2**53 printed 9,999,790,001,200,000.0 for
        # 9,999,790,001,200,001 and a bogus slice pair from the rounding of the difference.
        live = [(t, w * ls.tensor_elems[t]) for t, w in ls.members[i]]
        steps.append({"step": step.name, "layers": list(step.layers), "slices": step.slices,
                      "live": [{"tensor": t, "elements": e, "bytes": e * b} for t, e in live],
                      "scratch_elements": ls.step_live[i] - exact_sum(e for _, e in live),
                      "live_elements": ls.step_live[i], "live_bytes": ls.step_live[i] * b})
    peak = steps[ls.peak_step]
    if fmt == "json":
        return json.dumps({"title": title, "schedule": plan.schedule, "dtype": ls.dtype,
                           "peak_elements": ls.peak_elems, "peak_bytes": ls.peak_elems * b,
                           "peak_step": peak["step"], "peak_live": peak["live"],
                           "sum_of_outputs_elements": outputs_sum, "steps": steps}, indent=1)
    sliced = sorted({s.slices for s in plan.steps if s.slices})
    lines = [f"{title}  schedule {plan.schedule}  activations {ls.dtype} ({b} bytes/element)"]
    if plan.schedule == "v2-sliced":
        lines.append(f"  inverted residual blocks without SE run in slices of the expanded tensor "
                     f"(MobileNetV2 Sec. 5.1); slice count used: {', '.join(map(str, sliced)) or 'none'}")
    lines.append("")
    head = len(lines)
    table = []
    for i, s in enumerate(steps):
        if len(s["layers"]) == 1 and ls.tensor_elems.get(s["step"], 1) == 0:
            continue  # a shortcut add the rounded widths rule out: not a step of this configuration
        live = [f"{x['tensor']} {commas(x['elements'])}" for x in s["live"]]
        if s["scratch_elements"]:
            live.append(f"{s['slices']} slices: {commas(s['scratch_elements'])} per slice")
        table.append((s["step"], live, commas(s["live_elements"]), commas(s["live_bytes"]),
                      "  <- peak" if i == ls.peak_step else ""))
    # The live tensors wrap inside their column, a tensor never split; the other columns keep their width.
    step_w = max(len("step"), *(len(r[0]) for r in table))
    elems_w = max(len("live elements"), *(len(r[2]) for r in table))
    bytes_w = max(len("live bytes"), *(len(r[3]) for r in table))
    natural = max(len("live tensors (elements)"), *(len(", ".join(r[1])) for r in table))
    longest = max(len(item) for r in table for item in r[1])
    room = width - step_w - elems_w - 3 - len("  <- peak") - 1
    with_bytes = room - bytes_w - 1 >= min(natural, 2 * longest)  # else: bytes = elements x bytes/element
    live_w = max(min(natural, room - (bytes_w + 1 if with_bytes else 0)), longest)
    lines.append(f"{'step':<{step_w}} {'live tensors (elements)':<{live_w}} {'live elements':>{elems_w}}"
                 + (f" {'live bytes':>{bytes_w}}" if with_bytes else ""))
    for step, live, elems, nbytes, mark in table:
        packed = pack(live, live_w)
        lines.append(f"{step:<{step_w}} {packed[0]:<{live_w}} {elems:>{elems_w}}"
                     + (f" {nbytes:>{bytes_w}}" if with_bytes else "") + mark)
        lines += [f"{'':<{step_w}} {more}" for more in packed[1:]]
    body = len(lines)
    if not with_bytes:
        lines.append(dropped_message(["live bytes"], width, "json"))
    lines += ["",
              f"peak live activations: {commas(ls.peak_elems)} elements = {commas(ls.peak_elems * b)} bytes "
              f"({_kb(ls.peak_elems * b)}) at step {peak['step']}",
              "  live there: " + ", ".join(f"{x['tensor']} ({commas(x['elements'])})" for x in peak["live"])
              + (f" + one slice pair ({commas(peak['scratch_elements'])})" if peak["scratch_elements"] else ""),
              f"sum of all layer outputs (not a peak; what naive counters call memory): {commas(outputs_sum)} elements"]
    return "\n".join(wrap_lines(lines[:head], width) + lines[head:body] + wrap_lines(lines[body:], width)) + "\n"


def _m(value: float, decimals: int = 2) -> str:
    return f"{value / 1e6:.{decimals}f}"


def _walk_lines(w: Walk, unit: str) -> list[str]:
    fig = w.figure
    printed = f"{fig.macs_millions if w.metric == 'macs' else fig.params_millions:g}"
    head = f"[{w.metric}] {printed} M  {fig.label}: {fig.source}"
    base_text = ("mobilecost count: multiply-accumulates of conv and fc layers (and of attention, if any)"
                 if w.metric == "macs"
                 else "mobilecost count: weights + biases, BN folded into the convolutions")
    lines = [head, f"    {commas(w.base):>14}  {base_text}"]
    value = w.base
    for step in w.reading.steps:
        value += step.delta
        sign = "+" if step.delta >= 0 else "-"
        lines.append(f"  {sign} {commas(abs(step.delta)):>14}  {step.label}")
    if w.matched:
        precision = (f"{w.decimals} decimals in millions" if w.decimals >= 0
                     else f"the nearest {10 ** -w.decimals:,} millions")
        lines.append(f"  = {commas(value):>14}  prints as {printed} M ({w.printing} to {precision}) "
                     f"-- explained by: {w.reading.name}")
        return lines
    pct = 100 * w.residual / w.base
    lines.append(f"  unexplained residual: {'+' if w.residual >= 0 else '-'}{commas(abs(w.residual))} {unit} "
                 f"({pct:+.2f} %) from {commas(w.base)} to the printed {printed} M")
    tried = "; ".join(f"{r.name} {_m(r.value, max(w.decimals + 1, 0))} M" for r in w.tried)
    lines.append(f"    readings tried (none prints as {printed} M): {tried}")
    if w.also_matched_by:
        lines.append("    other sources for this configuration that the plain count matches: "
                     + "; ".join(w.also_matched_by))
    return lines


def render_explain(e: Explanation, fmt: str = "table", width: int = 80) -> str:
    if fmt == "json":
        return json.dumps({
            "variant": e.variant, "alpha": e.alpha, "resolution": e.resolution, "macs": e.macs, "params": e.params,
            "walks": [{"metric": w.metric, "label": w.figure.label, "source": w.figure.source,
                       "printed_millions": w.printed / 1e6, "base": w.base, "matched": w.matched,
                       "printing": w.printing, "reading": w.reading.name,
                       "steps": [{"label": s.label, "delta": s.delta} for s in w.reading.steps],
                       "residual": w.residual} for w in e.walks],
            "elementwise_not_in_macs": e.elementwise}, indent=1)
    lines = [f"{e.title}  alpha={e.alpha:g}  input {e.resolution}x{e.resolution}",
             f"mobilecost: {commas(e.macs)} MACs ({_m(e.macs)} M); {commas(e.params)} parameters ({_m(e.params, 3)} M; "
             "weights + biases, BN folded)", ""]
    if not e.walks:
        lines.append("no published figures for this configuration")
        return "\n".join(lines) + "\n"
    seen = {}
    for w in e.walks:
        seen.setdefault((w.figure.label, w.figure.source), []).append(w)
    rows, entries = [], []
    for (label, source), walks in seen.items():
        by = {w.metric: w for w in walks}
        macs, params = by.get("macs"), by.get("params")
        status = " / ".join(f"{m}: {'explained' if w.matched else 'residual'}" for m, w in by.items())
        rows.append((f"{label}: {source}", f"{macs.printed / 1e6:g}" if macs else "", _m(e.macs, 1) if macs else "",
                     f"{params.printed / 1e6:g}" if params else "", _m(e.params, 3) if params else "", status))
        figures = [f"{name} {w.printed / 1e6:g} M (ours {ours}): {'explained' if w.matched else 'residual'}"
                   for name, w, ours in (("MACs", macs, _m(e.macs, 1)), ("params", params, _m(e.params, 3))) if w]
        entries += [f"{label}: {source}", "    " + "; ".join(figures)]
    right = ("MACs (M)", "ours", "params (M)", "ours ")
    headers = ("published", *right, "status")
    if natural_width(headers, rows) <= width:  # a row per source, nothing wrapped
        table = text_table(headers, rows, right, width).rstrip("\n").split("\n")
    else:  # folded: each source on its own lines, its figures under it
        table = wrap_lines(entries, width)
    head, n_head = wrap_lines(lines, width), len(lines)
    lines += ["", "Walks, one per published figure:"]
    for w in e.walks:
        lines += [""] + _walk_lines(w, "MACs" if w.metric == "macs" else "parameters")
    lines += ["", "per-element work mobilecost does not count as MACs (for the residuals above):"]
    lines += [f"    {commas(v):>14}  {k}" for k, v in e.elementwise.items()]
    return "\n".join(head + table + wrap_lines(lines[n_head:], width)) + "\n"


def render_paper(frame, ratio=None, fmt: str = "table", width: int = 80) -> str:
    """A paper's tables beside mobilecost's figures: JSON records, or text of at most `width` columns in which a
    table too narrow for its notes numbers them and prints them below it."""
    if fmt == "json":
        return frame.drop(columns=["printed"]).to_json(orient="records", indent=1)
    lines = []
    if ratio is not None:
        full, simple = ratio
        lines += ["MobileNets Eq. (5): depthwise separable / full convolution cost",
                  f"  ({full})  =  {simple}", ""]
    lines = wrap_lines(lines, width)
    headers = ("row", "metric", "published", "mobilecost", "difference", "note")
    right = ("published", "mobilecost", "difference")
    for table, rows in frame.groupby("table", sort=False):
        cells = [[str(r.row), r.metric, r.printed, "" if r.mobilecost != r.mobilecost else f"{r.mobilecost:,.3f}",
                  "" if r.difference is None or r.difference != r.difference else f"{r.difference:+,.3f}", r.note]
                 for r in rows.itertuples()]
        notes: list[str] = []
        if natural_width(headers, cells) > width:  # fold: a number in the note column, the notes below
            for cell in cells:
                if cell[-1]:
                    if cell[-1] not in notes:
                        notes.append(cell[-1])
                    cell[-1] = str(notes.index(cell[-1]) + 1)
        lines += text_table(headers, cells, right, width, title=table).rstrip("\n").split("\n")
        lines += wrap_lines([f"  note {i}: {note}" for i, note in enumerate(notes, 1)], width, hanging="          ")
        sources = sorted({s for s in rows["source"] if s})
        lines += wrap_lines([f"  source: {s}" for s in sources], width) + [""]
    return "\n".join(lines)
