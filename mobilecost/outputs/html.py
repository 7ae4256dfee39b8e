"""The design review as one self-contained HTML page (``mobilecost export ... --html PATH``).

The page carries, per variant, the layer graph (names, ops, inputs: data) and one JavaScript function
of alpha and rho printed from the engine's exact-mode expressions (``html_formulas``, the same
expressions the workbook's live formulas are printed from). Everything the page shows -- per-layer
counts, totals, the live activation set and its peak, simulated latency and its band, the alpha-rho
plane -- is computed in the browser from those functions; no count is stored in the page.

Text from tables and device profiles (names, titles, sources) travels as JSON inside a
``<script type="application/json">`` element with ``<``, ``>`` and ``&`` escaped, and the page puts
it into the document as text nodes only. Scripts and styles are inline: the page loads nothing.
"""

from __future__ import annotations

import html
import json
import re
from importlib.resources import files

from ..conventions import CONVENTION_TEXT, CONVENTIONS, PARAM_PARTS, header_line
from ..count.ops import ExtraReads, record_of, type_label
from ..errors import MobilecostError
from ..spec.layers import COST_FIELDS, SHAPE_FIELDS, network_outputs
from ..spec.loader import unique_tables
from ..analysis.published import published_rows, published_v4_rows
from ..numeric.checked import costs_for
from ..numeric.joins import joins
from ..numeric.points import MAX_ALPHA, MAX_SIDE, total_stride
from .html_formulas import JS_RULES, js_function

FIELDS = SHAPE_FIELDS + COST_FIELDS  # the page's fields: its maps are square (a rectangular table is refused)

SOURCES = ("MobileNets arXiv:1704.04861; MobileNetV2 arXiv:1801.04381; Searching for MobileNetV3 arXiv:1905.02244; "
           "TF-slim READMEs; Keras Applications; torchvision (published checkpoints as listed in "
           "mobilecost/data/published_models.csv, each with its source); MobileNetV4 arXiv:2404.10518, ImageNet-1K "
           "table (mobilecost/data/published_mobilenet_v4.csv)")


def _json_for_script(data) -> str:
    """JSON that cannot end its <script> element or open markup: <, > and & as \\u escapes."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _checkpoints(name: str) -> list[dict]:
    """The published float-model configurations of a family: one button each, with what was published."""
    found: dict = {}
    for p in published_rows() + published_v4_rows():
        if p.variant != name or "quant" in p.label.lower():
            continue
        entry = found.setdefault((p.alpha, p.resolution), {"alpha": p.alpha, "resolution": p.resolution,
                                                           "published": []})
        entry["published"].append({"label": p.label, "macs_millions": p.macs_millions,
                                   "params_millions": p.params_millions, "top1": p.top1, "source": p.source})
    return [found[k] for k in sorted(found)]


def _layer_data(layer) -> dict:
    from ..latency.model import MAC_CLASSES, SEPARATE_ACTS

    record = record_of(layer)
    return {
        "name": layer.name, "block": layer.block, "op": layer.op.value, "type": type_label(layer),
        "kernel": layer.kernel_label, "stride": layer.stride, "act": layer.act or "", "row": layer.row + 1,
        "inputs": list(layer.inputs), "residual": bool(layer.residual), "backbone": bool(layer.source),
        "mac_class": MAC_CLASSES.index(record.latency_class) if record.latency_class in MAC_CLASSES else -1,
        "second_input": record.extra_reads == ExtraReads.second_input,
        "gate": record.extra_reads == ExtraReads.channel_gate,
        "other_inputs": record.extra_reads == ExtraReads.other_inputs,
        "separate": (layer.act or "") in SEPARATE_ACTS,
        "blocking": record.blocking.value,
    }


def _device_data(device) -> dict | None:
    if device is None:
        return None
    from ..latency.devices import load_device
    from ..latency.model import parameters_of

    profile = load_device(device)
    band = profile.band()
    p = parameters_of(profile)
    return {
        "name": profile.name, "title": profile.title, "label": profile.label(),
        "peak": profile.peak.arithmetic(), "peak_source": profile.peak.source,
        "memory_source": profile.memory.source, "efficiency_source": profile.efficiency.source,
        "dtype_bytes": profile.dtype_bytes, "gmacs": profile.peak.gmacs,
        "cache_bytes": profile.memory.cache_bytes, "cache_gb_s": profile.memory.cache_gb_s,
        "dram_gb_s": profile.memory.dram_gb_s,
        "inverse_efficiency": [p.conv, p.pointwise, p.depthwise, p.fc], "memory": p.memory,
        "elementwise": p.elementwise, "overhead_ms": p.overhead_ms,
        "elementwise_overhead_ms": p.elementwise_overhead_ms, "fixed_ms": p.fixed_ms,
        "channel_block": profile.layout.channel_block if profile.layout else None,
        "pointwise_block": profile.layout.pointwise_block if profile.layout else None,
        "per_output_macs": profile.layout.per_output_macs if profile.layout else 0.0,
        "narrow_input": profile.layout.narrow_input if profile.layout else 1.0,
        "unblocked": p.unblocked, "unblocked_channel_ms": p.unblocked_channel_ms,
        "calibrated_macs": profile.calibrated_macs,
        "band": {"low": band.low_factor, "high": band.high_factor, "rule": band.rule},
    }


def page_data(variants, semantics=None, convention="paper", device=None, start=None):
    """(data for the page as plain JSON, the JavaScript evaluator of each variant in the same order).
    `start`: the configuration the page opens at, ``{"alpha": ..., "resolution": ...}`` (either may be
    absent: alpha 1 and each table's own input side)."""
    if not variants:
        raise MobilecostError("name at least one variant", field="VARIANT")
    tables = [costs_for(v, "exact", semantics) for v in variants]
    unique_tables([costs.spec for costs in tables])
    shown, functions, seen = [], [], set()
    for costs in tables:
        spec = costs.spec
        if spec.input.width is not None:
            raise MobilecostError(f"{spec.name} has a rectangular input ({spec.input.size}x{spec.input.width}); the review "
                                  "page covers square inputs only (use report, sweep or export --xlsx)", field="VARIANT")
        if spec.name in seen:
            continue
        seen.add(spec.name)
        layers = [lc.layer for lc in costs.layers]
        position = {layer.name: i for i, layer in enumerate(layers)}
        backbones = sorted({layer.source for layer in layers if layer.source})
        shown.append({
            "name": spec.name, "title": spec.title, "source": spec.source, "size": spec.input.size,
            "semantics": costs.semantics, "stride": total_stride(layers),
            "layers": [_layer_data(layer) for layer in layers], "checkpoints": _checkpoints(spec.name),
            "outputs": [position[name] for name in network_outputs(layers)],
            "joins": [{"join": j, "first": a, "other": b, "widths": w, "broadcast": layers[j].op.value == "multiply"}
                      for j, a, b, w in joins(layers)],
            "backbone": backbones[0] if backbones else None,
            "attention": any(_nonzero(lc.exprs["attn_macs"]) for lc in costs.layers),
        })
        functions.append(js_function([lc.exprs[f] for lc in costs.layers for f in FIELDS]))
    data = {
        "variants": shown, "fields": list(FIELDS), "param_parts": list(PARAM_PARTS),
        "conventions": {k: list(v) for k, v in CONVENTIONS.items()}, "convention_text": CONVENTION_TEXT,
        "convention": convention,
        "headers": {c: header_line(c, "exact", semantics or "default") for c in CONVENTIONS},
        "sources": SOURCES, "device": _device_data(device), "max_alpha": MAX_ALPHA, "max_side": MAX_SIDE,
        "start": {k: v for k, v in (start or {}).items() if v is not None},
    }
    return data, functions


def _asset(name: str) -> str:
    return files(__package__).joinpath("review_page", name).read_text(encoding="utf-8")


def _nonzero(expr) -> bool:
    """Whether an engine expression is not the constant zero."""
    return not (getattr(expr, "is_zero", False) or expr == 0)


def review_page(variants, semantics=None, convention="paper", device=None, start=None) -> str:
    """The whole page as text, opening at `start` (see `page_data`)."""
    data, functions = page_data(variants, semantics, convention, device, start)
    evaluators = "const EVALUATORS = [\n" + ",\n".join(functions) + "\n];\n"
    names = ", ".join(v["name"] for v in data["variants"])
    parts = {"TITLE": html.escape(f"mobilecost design review: {names}"), "STYLE": _asset("review.css"),
             "DATA": _json_for_script(data), "RULES": JS_RULES, "EVALUATORS": evaluators, "APP": _asset("review.js")}
    # One pass: a table's text that looks like a placeholder is never filled in.
    return re.sub(r"/\*([A-Z]+)\*/", lambda m: parts[m.group(1)], _asset("page.html"))
