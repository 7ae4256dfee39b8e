"""One configuration of a table, in plain Python: every layer's counts, the totals, the live
activations of the sequential schedule and the share of each layer type.

Counts are the reference code's integer arithmetic (exact at any size). No numpy or pandas: the
`report` command on a warm cache runs on this alone, and `api.evaluate` builds its DataFrame from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..conventions import CONVENTIONS, check_attention, check_convention, dtype_bytes, flops_of
from ..count.ops import type_label
from ..errors import MobilecostError
from ..spec.layers import COST_FIELDS, FIELDS, WIDTH_FIELDS
from .joins import check_joins
from .plan import INPUT, build_plan
from .points import check_resolution, resolve_point

DESCRIPTION = ("name", "block", "op", "type", "kernel", "stride", "act", "row")
BYTES = ("in_bytes", "out_bytes", "weight_bytes", "live_bytes")


@dataclass(frozen=True)
class PointReport:
    """column -> one value per layer that exists at this configuration (``DESCRIPTION``, the engine's
    FIELDS, ``params``, ``BYTES``), and what a report states about it (``attrs``)."""

    columns: dict
    attrs: dict
    shares: list = field(default_factory=list)

    def rows(self, names) -> list[dict]:
        return [dict(zip(names, values)) for values in zip(*(self.columns[n] for n in names))]


def evaluate_one(table, alpha=1.0, rho=None, resolution=None, convention="paper", dtype="fp32",
                 attention="included") -> PointReport:
    """`table`: a `snapshot.TableSnapshot`. Bytes are at `dtype`; ``live_bytes`` is the sequential
    schedule's live set while the layer runs, and ``attrs['memory']`` its peak and where it happens.
    `attention` (conventions.ATTENTION): whether ``macs`` includes attention's matrix products."""
    point, values = configuration(table, alpha, rho, resolution)
    check_convention(convention)
    check_attention(attention)
    nbytes = dtype_bytes(dtype)
    layers = table.layers
    columns = {
        "name": [layer.name for layer in layers], "block": [layer.block for layer in layers],
        "op": [layer.op.value for layer in layers], "type": [type_label(layer) for layer in layers],
        "kernel": [layer.kernel_label for layer in layers], "stride": [layer.stride for layer in layers],
        "act": [layer.act or "" for layer in layers], "row": [layer.row + 1 for layer in layers], **values,
    }
    if attention == "excluded":
        columns["macs"] = [m - a for m, a in zip(values["macs"], values["attn_macs"])]
    parts = CONVENTIONS[convention]
    columns["params"] = [exact_sum(values[p][i] for p in parts) for i in range(len(layers))]
    live_set = live_sets(table, values, dtype=dtype)
    live, live_names = live_set.step_live, [tuple(t for t, _ in step) for step in live_set.all_members]
    columns["in_bytes"] = [v * nbytes for v in values["act_in"]]
    columns["out_bytes"] = [v * nbytes for v in values["act_out"]]
    columns["weight_bytes"] = [(w + b) * nbytes for w, b in zip(values["weights"], values["biases"])]
    columns["live_bytes"] = [v * nbytes for v in live]
    peak = live_set.peak_step
    memory = {"dtype": dtype, "act_peak_bytes": live[peak] * nbytes, "peak_layer": layers[peak].name,
              "peak_live": list(live_names[peak]), "weight_bytes": exact_sum(columns["weight_bytes"])}
    kept = [i for i, layer in enumerate(layers) if not (layer.residual and values["act_out"][i] == 0)]
    columns = {name: [column[i] for i in kept] for name, column in columns.items()}
    totals = {f: exact_sum(columns[f]) for f in (*COST_FIELDS, "params")}
    totals["flops"] = flops_of(totals["macs"])
    attrs = {"variant": table.name, "title": table.title, "alpha": point.alpha, "rho": point.rho,
             "resolution": point.resolution, "mode": table.mode, "semantics": table.semantics,
             "convention": convention, "attention": attention, "totals": totals, "memory": memory}
    if point.width is not None:  # a rectangular input: resolution is its height
        attrs["height"], attrs["width"] = point.resolution, point.width
    else:  # a square map's width columns repeat its sides
        columns = {name: column for name, column in columns.items() if name not in WIDTH_FIELDS}
    backbone = [i for i, k in enumerate(kept) if layers[k].source]
    if backbone:  # a head table: its backbone's share and the head's
        head = [i for i in range(len(kept)) if i not in set(backbone)]
        attrs["parts"] = {part: {"layers": len(index), "macs": exact_sum(columns["macs"][i] for i in index),
                                 "params": exact_sum(columns["params"][i] for i in index),
                                 **({"table": layers[kept[backbone[0]]].source} if part == "backbone" else {})}
                          for part, index in (("backbone", backbone), ("head", head))}
    return PointReport(columns, attrs, share_by_type(columns["type"], columns["macs"], columns["params"]))


def exact_sum(values):
    """The sum, exactly: whole numbers as integers; reals rounded once (math.fsum), whatever their order."""
    values = list(values)
    return sum(values) if all(isinstance(v, int) for v in values) else math.fsum(values)


def configuration(table, alpha=1.0, rho=None, resolution=None):
    """The checked configuration (`points.Point`) and every per-layer field there: field -> list over layers."""
    point = resolve_point(table.size, alpha, rho, resolution, table.mode, table.width)
    if table.mode == "exact":
        check_resolution(table.layers, point.resolution, table.name, point.width)
    raw = point_values(table, point)
    values = {f: [_number(v, table.mode) for v in raw[j::len(FIELDS)]] for j, f in enumerate(FIELDS)}
    check_joins(table.layers, values["out_side"], values["out_ch"], point.alpha, point.rho)
    return point, values


def point_values(table, point) -> list:
    """The table's flat per-layer values at `point`; a count that overflows float64 (ideal mode at an
    absurd alpha or rho) is refused rather than printed as inf."""
    try:
        raw = table.point_function(float(point.alpha), float(point.rho))
    except OverflowError:
        raw = None
    if raw is None or any(isinstance(v, float) and not math.isfinite(v) for v in raw):
        raise MobilecostError(f"alpha {point.alpha:g} at rho {point.rho:g} gives counts beyond float64's range "
                              f"(about 1.8e308); use a smaller alpha or resolution", field="--alpha/--rho")
    return raw


def _number(value, mode: str):
    """A count as a Python integer in exact mode (where it is one), else the value itself."""
    if mode == "exact" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@dataclass(frozen=True)
class LiveSet:
    """The live set of every step of a schedule at one configuration."""

    plan: object  # plan.MemoryPlan
    dtype: str
    step_live: list  # elements per step, slices included
    tensor_elems: dict  # tensor -> elements
    all_members: tuple  # per step: (tensor, 1) for every tensor live then (1: whole, so counts stay integers)
    peak_step: int  # the first step where the live set is largest

    @property
    def members(self) -> tuple:
        """Per step, the live tensors that have elements: (tensor, 1)."""
        return tuple(tuple((t, w) for t, w in step if self.tensor_elems[t] != 0) for step in self.all_members)

    @property
    def peak_elems(self):
        """Elements of the peak live set: an integer in exact mode (exact at any size), a float in ideal mode."""
        return self.step_live[self.peak_step]

    @property
    def bytes_per_element(self) -> int:
        return dtype_bytes(self.dtype)


def live_sets(table, values: dict, schedule: str = "sequential", slices=None, dtype: str = "fp32") -> LiveSet:
    """Every step's live tensors and elements, from one configuration's per-layer values (field -> list).

    A sliced block's step also holds one slice of its expanded tensor and of its depthwise output:
    ceil(expanded channels / k) channels of each (MobileNetV2 Sec. 5.1)."""
    dtype_bytes(dtype)
    plan = build_plan(table, schedule, slices)
    act_out = values["act_out"]
    members = plan.members(tuple(act_out[i] > 0 for i in plan.residuals))
    size = {INPUT: values["act_in"][0], **{layer.name: act_out[i] for i, layer in enumerate(plan.layers)}}
    live = []
    for step, here in zip(plan.steps, members):
        elements = exact_sum(size[t] for t in here)
        if step.sliced is not None:
            expand, dw = step.sliced
            channels, sides, widths = values["out_ch"][expand], values["out_side"], values["out_width"]
            per_slice = -(-channels // step.slices) if isinstance(channels, int) else channels / step.slices
            elements += per_slice * (sides[expand] * widths[expand] + sides[dw] * widths[dw])
        live.append(elements)
    peak = max(range(len(live)), key=live.__getitem__)
    tensors = {t: size[t] for t in size if any(t in here for here in members) or size[t] == 0}
    return LiveSet(plan, dtype, live, tensors, tuple(tuple((t, 1) for t in here) for here in members), peak)


def share_by_type(types, macs, params) -> list[dict]:
    """Share of MACs and parameters by layer type (MobileNets Table 2's breakdown), largest MACs first."""
    grouped: dict[str, tuple[list, list]] = {}
    for t, m, p in zip(types, macs, params):
        grouped.setdefault(t, ([], []))
        grouped[t][0].append(m)
        grouped[t][1].append(p)
    sums = {t: (exact_sum(m), exact_sum(p)) for t, (m, p) in grouped.items()}
    kept = [t for t in sums if sums[t][0] > 0 or sums[t][1] > 0]
    total_macs = exact_sum(sums[t][0] for t in kept)
    total_params = exact_sum(sums[t][1] for t in kept)
    rows = [{"type": t, "macs": sums[t][0], "macs_pct": sums[t][0] / total_macs * 100,
             "params": sums[t][1], "params_pct": sums[t][1] / total_params * 100} for t in kept]
    return sorted(rows, key=lambda row: row["macs"], reverse=True)
