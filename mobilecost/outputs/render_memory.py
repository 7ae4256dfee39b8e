"""Text rendering for `memory`, `explain` and `paper`. No arithmetic beyond formatting."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ..analysis.explain import Explanation, Walk
from .report import commas

if TYPE_CHECKING:
    from ..numeric.one_point import LiveSet


def _kb(nbytes) -> str:
    return f"{float(nbytes) / 1000:,.1f} KB"


def render_memory(ls: LiveSet, title: str, outputs_sum: float, fmt: str = "table") -> str:
    plan, b = ls.plan, ls.bytes_per_element
    steps = []
    for i, step in enumerate(plan.steps):
        live = [(t, w * ls.tensor_elems[t]) for t, w in ls.members[i]]
        steps.append({"step": step.name, "layers": list(step.layers), "slices": step.slices,
                      "live": [{"tensor": t, "elements": e, "bytes": e * b} for t, e in live],
                      "scratch_elements": float(ls.step_live[i]) - sum(e for _, e in live),
                      "live_elements": float(ls.step_live[i]), "live_bytes": float(ls.step_live[i]) * b})
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
    lines.append(f"{'step':<16} {'live tensors (elements)':<70} {'live elements':>14} {'live bytes':>14}")
    for i, s in enumerate(steps):
        if len(s["layers"]) == 1 and ls.tensor_elems.get(s["step"], 1) == 0:
            continue  # a shortcut add the rounded widths rule out: not a step of this configuration
        live = ", ".join(f"{x['tensor']} {commas(x['elements'])}" for x in s["live"])
        if s["scratch_elements"]:
            live += f", {s['slices']} slices: {commas(s['scratch_elements'])} per slice"
        mark = "  <- peak" if i == ls.peak_step else ""
        lines.append(f"{s['step']:<16} {live:<70} {commas(s['live_elements']):>14} {commas(s['live_bytes']):>14}{mark}")
    lines += ["",
              f"peak live activations: {commas(ls.peak_elems)} elements = {commas(ls.peak_elems * b)} bytes "
              f"({_kb(ls.peak_elems * b)}) at step {peak['step']}",
              "  live there: " + ", ".join(f"{x['tensor']} ({commas(x['elements'])})" for x in peak["live"])
              + (f" + one slice pair ({commas(peak['scratch_elements'])})" if peak["scratch_elements"] else ""),
              f"sum of all layer outputs (not a peak; what naive counters call memory): {commas(outputs_sum)} elements"]
    return "\n".join(lines) + "\n"


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


def render_explain(e: Explanation, fmt: str = "table") -> str:
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
    lines.append(f"{'published':<58} {'MACs (M)':>9} {'ours':>9} {'params (M)':>11} {'ours':>9}  status")
    seen = {}
    for w in e.walks:
        seen.setdefault((w.figure.label, w.figure.source), []).append(w)
    for (label, source), walks in seen.items():
        by = {w.metric: w for w in walks}
        macs, params = by.get("macs"), by.get("params")
        status = " / ".join(f"{m}: {'explained' if w.matched else 'residual'}" for m, w in by.items())
        lines.append(f"{(label + ': ' + source)[:58]:<58} "
                     f"{(f'{macs.printed / 1e6:g}' if macs else ''):>9} {(_m(e.macs, 1) if macs else ''):>9} "
                     f"{(f'{params.printed / 1e6:g}' if params else ''):>11} "
                     f"{(_m(e.params, 3) if params else ''):>9}  {status}")
    lines += ["", "Walks, one per published figure:"]
    for w in e.walks:
        lines += [""] + _walk_lines(w, "MACs" if w.metric == "macs" else "parameters")
    lines += ["", "per-element work mobilecost does not count as MACs (for the residuals above):"]
    lines += [f"    {commas(v):>14}  {k}" for k, v in e.elementwise.items()]
    return "\n".join(lines) + "\n"


def _fig(value) -> str:
    if value is None:
        return ""
    value = float(value)
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.3f}".rstrip("0")


def render_paper(frame, ratio=None, fmt: str = "table") -> str:
    if fmt == "json":
        return frame.to_json(orient="records", indent=1)
    lines = []
    if ratio is not None:
        full, simple = ratio
        lines += ["MobileNets Eq. (5): depthwise separable / full convolution cost",
                  f"  ({full})  =  {simple}", ""]
    for table, rows in frame.groupby("table", sort=False):
        lines.append(table)
        lines.append(f"  {'row':<52} {'metric':<18} {'published':>10} {'mobilecost':>12} {'difference':>11}  note")
        for r in rows.itertuples():
            diff = "" if r.difference is None or r.difference != r.difference else f"{r.difference:+,.3f}"
            lines.append(f"  {str(r.row)[:52]:<52} {r.metric:<18} {_fig(r.published):>10} {r.mobilecost:>12,.3f} "
                         f"{diff:>11}  {r.note}")
        sources = sorted({s for s in rows["source"] if s})
        lines += [f"  source: {s}" for s in sources] + [""]
    return "\n".join(lines)
