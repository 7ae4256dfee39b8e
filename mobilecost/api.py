"""The Python API: variants in, pandas DataFrames out.

>>> from mobilecost import evaluate, sweep
>>> layers = evaluate("mobilenet_v1", alpha=0.75, resolution=160)
>>> layers.attrs["totals"]["macs"]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .conventions import PARAM_PARTS, check_convention, flops_of, params_of
from .numeric.compiled import compiled_layers
from .errors import MobilecostError
from .count.ops import type_label
from .spec.layers import COST_FIELDS
from .spec.loader import load_variant
from .numeric.evaluation import check_resolution, grid_peak, grid_totals
from .spec.models import VariantSpec


def as_spec(variant) -> VariantSpec:
    return variant if isinstance(variant, VariantSpec) else load_variant(variant)


def check_alpha(alpha) -> float:
    try:
        value = float(alpha)
    except (TypeError, ValueError):
        raise MobilecostError(f"alpha must be a number, got {alpha!r}", field="--alpha") from None
    if not math.isfinite(value) or value <= 0:
        raise MobilecostError(f"alpha must be a positive number, got {alpha!r}", field="--alpha")
    return value


@dataclass(frozen=True)
class Point:
    """One configuration: alpha, rho and the input side they give."""

    alpha: float
    rho: float
    resolution: float  # an integer in exact mode; size * rho in ideal mode


def resolve_point(spec: VariantSpec, alpha=1.0, rho=None, resolution=None, mode="exact") -> Point:
    alpha = check_alpha(alpha)
    size = spec.input.size
    if rho is not None and resolution is not None:
        raise MobilecostError("give either rho or resolution, not both", field="--rho/--resolution")
    if resolution is not None:
        try:
            res = int(resolution)
        except (TypeError, ValueError):
            raise MobilecostError(f"resolution must be a whole number of pixels, got {resolution!r}",
                                  field="--resolution") from None
        if res != float(resolution) or res <= 0:
            raise MobilecostError(f"resolution must be a positive whole number, got {resolution!r}",
                                  field="--resolution")
        return Point(alpha, res / size, res)
    rho = 1.0 if rho is None else rho
    try:
        rho = float(rho)
    except (TypeError, ValueError):
        raise MobilecostError(f"rho must be a number, got {rho!r}", field="--rho") from None
    if not math.isfinite(rho) or rho <= 0:
        raise MobilecostError(f"rho must be a positive number, got {rho}", field="--rho")
    side = size * rho
    return Point(alpha, rho, int(math.floor(side + 0.5)) if mode == "exact" else side)


def costs_for(variant, mode="exact", semantics=None):
    """The cached symbolic CostTable; in exact mode the table's input-size column has been checked."""
    from .count.engine import build_costs

    spec = as_spec(variant)
    if mode == "exact":
        _checked(spec, mode, semantics)
    return build_costs(spec, mode, semantics)


def checked_spec(variant, semantics=None) -> VariantSpec:
    """The table's spec after the checks `costs_for` makes in exact mode, without the symbolic build
    (for callers that only read its name, title or source)."""
    spec = as_spec(variant)
    _checked(spec, "exact", semantics)
    return spec


def _checked(spec, mode, semantics):
    """The compiled per-layer evaluator, after the table's input-size column has been checked."""
    from .numeric.checked import check_input_column

    if mode not in ("exact", "ideal"):
        raise MobilecostError(f"unknown mode {mode!r}; use exact or ideal", field="--mode")
    compiled = compiled_layers(spec, mode, semantics)
    if mode == "exact":
        check_input_column(compiled)
    return compiled


def evaluate(variant, alpha=1.0, rho=None, resolution=None, mode="exact", semantics=None,
             convention="paper", dtype="fp32") -> pd.DataFrame:
    """Per-layer table at one configuration; ``.attrs`` holds the point, the totals and the conventions.

    Memory columns (memory.py) are bytes at `dtype`: ``in_bytes`` (first input), ``out_bytes``,
    ``weight_bytes`` (weights + biases, BN folded) and ``live_bytes`` (the sequential schedule's
    live set while the layer runs); ``.attrs['memory']`` holds the peak and where it happens."""
    spec = as_spec(variant)
    compiled = _checked(spec, mode, semantics)
    point = resolve_point(spec, alpha, rho, resolution, mode)
    if mode == "exact":
        check_resolution(compiled.layers, point.resolution, spec.name)
    check_convention(convention)
    values = compiled.counts(point.alpha, point.rho)
    layers = compiled.layers
    frame = pd.DataFrame({**layer_columns(layers), "row": [layer.row + 1 for layer in layers], **values})
    frame["params"] = params_of(frame, convention)
    from .numeric.liveness import dtype_bytes, sequential_live

    nbytes = dtype_bytes(dtype)
    live, live_names = sequential_live(layers, values["act_in"][0], values["act_out"])
    frame["in_bytes"] = frame["act_in"] * nbytes
    frame["out_bytes"] = frame["act_out"] * nbytes
    frame["weight_bytes"] = (frame["weights"] + frame["biases"]) * nbytes
    frame["live_bytes"] = np.asarray(live) * nbytes
    peak = int(np.argmax(live))
    memory = {"dtype": dtype, "act_peak_bytes": _scalar(live[peak] * nbytes), "peak_layer": layers[peak].name,
              "peak_live": list(live_names[peak]), "weight_bytes": _scalar(frame["weight_bytes"].sum())}
    frame = _drop_absent_shortcuts(frame)
    totals = {f: _scalar(frame[f].sum()) for f in (*COST_FIELDS, "params")}
    totals["flops"] = flops_of(totals["macs"])
    frame.attrs.update({
        "variant": spec.name, "title": spec.title, "alpha": point.alpha, "rho": point.rho,
        "resolution": point.resolution, "mode": mode, "semantics": compiled.semantics,
        "convention": convention, "totals": totals, "memory": memory,
    })
    return frame


def layer_columns(layers) -> dict[str, list]:
    """The columns that describe each layer: name, block, op, type, kernel, stride, act."""
    return {
        "name": [layer.name for layer in layers],
        "block": [layer.block for layer in layers],
        "op": [layer.op.value for layer in layers],
        "type": [type_label(layer) for layer in layers],
        "kernel": [layer.kernel for layer in layers],
        "stride": [layer.stride for layer in layers],
        "act": [layer.act or "" for layer in layers],
    }


def layer_roles(variant, semantics=None) -> dict[str, str]:
    """Each layer's role in its block (`Layer.role`: ``expand``, ``dw``, ``se.reduce``, ...), by layer name."""
    return {layer.name: layer.role for layer in _checked(as_spec(variant), "exact", semantics).layers}


def _drop_absent_shortcuts(frame: pd.DataFrame) -> pd.DataFrame:
    """Shortcut adds that the rounded widths rule out are not layers of this configuration."""
    absent = (frame["op"] == "add") & (frame["act_out"] == 0)
    return frame[~absent].reset_index(drop=True)


def _scalar(value):
    return int(value) if float(value).is_integer() else float(value)


def share_by_type(frame: pd.DataFrame) -> pd.DataFrame:
    """Share of MACs and parameters by layer type (MobileNets Table 2's breakdown)."""
    groups = frame.groupby("type", sort=False)[["macs", "params"]].sum()
    groups = groups[(groups["macs"] > 0) | (groups["params"] > 0)]
    shares = groups / groups.sum() * 100
    out = pd.DataFrame({"type": groups.index, "macs": groups["macs"].values, "macs_pct": shares["macs"].values,
                        "params": groups["params"].values, "params_pct": shares["params"].values})
    return out.sort_values("macs", ascending=False).reset_index(drop=True)


def parse_grid(text: str, field: str, integer: bool = False) -> np.ndarray:
    """'0.5,0.75,1' or 'START:STOP:STEP' (inclusive of STOP when it falls on the grid)."""
    try:
        if ":" in text:
            start, stop, step = (float(x) for x in text.split(":"))
            if step <= 0:
                raise ValueError
            count = int(math.floor((stop - start) / step + 1e-9)) + 1
            values = start + step * np.arange(count)
        else:
            values = np.array([float(x) for x in text.split(",") if x.strip()])
    except ValueError:
        raise MobilecostError(f"expected a list like 0.5,1.0 or a range START:STOP:STEP, got {text!r}",
                              field=field) from None
    if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise MobilecostError(f"values must be positive numbers, got {text!r}", field=field)
    if integer:
        if np.any(values != np.round(values)):
            raise MobilecostError(f"resolutions are whole numbers of pixels, got {text!r}", field=field)
        values = values.astype(np.int64)
    return np.round(values, 10) if not integer else values


def sweep(variant, alphas, resolutions=None, rhos=None, mode="exact", semantics=None,
          convention="paper", device=None, dtype="fp32") -> pd.DataFrame:
    """Totals over the grid alphas x (resolutions or rhos): one row per configuration.

    ``act_peak_bytes`` is the peak live activation memory of the sequential schedule and
    ``weight_bytes`` the stored weights and biases (BN folded), both at `dtype` (memory.py)."""
    costs = costs_for(variant, mode, semantics)
    check_convention(convention)
    alphas = np.atleast_1d(np.asarray(alphas, dtype=float))
    for a in alphas:
        check_alpha(a)
    size = costs.spec.input.size
    if resolutions is not None and rhos is not None:
        raise MobilecostError("give either rhos or resolutions, not both", field="--rho/--resolution")
    if resolutions is not None:
        res = np.atleast_1d(np.asarray(resolutions))
        rho = res / size
    else:
        rho = np.atleast_1d(np.asarray(1.0 if rhos is None else rhos, dtype=float))
        res = np.floor(size * rho + 0.5).astype(np.int64) if mode == "exact" else size * rho
    if mode == "exact":
        for r in res:
            check_resolution(costs, int(r))
    a_grid, r_index = np.meshgrid(alphas, np.arange(rho.size), indexing="ij")
    a_flat, i_flat = a_grid.ravel(), r_index.ravel()
    # The grid's totals are matrix products of alpha-only and rho-only factors (numeric.grid_totals).
    totals = {f: v.ravel() for f, v in grid_totals(costs, alphas, rho).items()}
    frame = pd.DataFrame({"variant": costs.spec.name, "alpha": a_flat, "rho": rho[i_flat],
                          "resolution": res[i_flat], **totals})
    frame["params"] = params_of(frame, convention)
    from .count.memory import build_memory, dtype_bytes, peak_elements

    nbytes = dtype_bytes(dtype)
    plan = build_memory(costs)
    grid = grid_peak(costs, ("live", id(plan)), plan.live, alphas, rho)
    peak = grid[0].ravel() if grid is not None else peak_elements(plan, a_flat, rho[i_flat])[0]
    frame["act_peak_bytes"] = (peak * nbytes).astype(np.int64) if mode == "exact" else peak * nbytes
    frame["weight_bytes"] = (frame["weights"] + frame["biases"]) * nbytes
    frame["flops"] = flops_of(frame["macs"])
    cols = ["variant", "alpha", "rho", "resolution", "macs", "flops", *PARAM_PARTS, "params",
            "act_out", "bn_ops", "act_ops", "ew_ops", "act_peak_bytes", "weight_bytes"]
    if device is not None:  # simulated latency on a device profile (latency.py); .attrs says so
        from .latency.model import describe, grid_latency
        from .latency.devices import load_device

        profile = load_device(device)
        # Over the whole grid at once: per-layer counts are alpha factors x rho factors (latency.grid_latency).
        frame["latency_ms"] = grid_latency(profile, costs, alphas, rho).ravel()
        cols.append("latency_ms")
        frame = frame[cols]
        frame.attrs.update({"device": describe(profile), "label": profile.label(), "simulated": True})
        return frame
    return frame[cols]


def estimate_latency(variant, device, alpha=1.0, rho=None, resolution=None, mode="exact", semantics=None) -> pd.DataFrame:
    """Per-layer simulated time and bound at one configuration; ``.attrs`` holds totals and the profile."""
    from .latency.devices import load_device
    from .latency.model import BOUNDS, describe, layer_terms, layer_times, theta_of
    from .spec.layers import FIELDS

    profile = load_device(device)
    frame = evaluate(variant, alpha, rho, resolution, mode, semantics)
    fields = {f: frame[f].to_numpy(dtype=float)[:, None] for f in FIELDS}
    terms = layer_terms(profile, frame["op"], frame["act"], fields)
    times = layer_times(terms, theta_of(profile))
    out = frame[["name", "op", "type", "act", "macs", "act_in", "act_out", "weights"]].copy()
    out["bytes_moved"] = terms.bytes_moved[:, 0]
    for key in ("compute_ms", "memory_ms", "overhead_ms", "time_ms"):
        out[key] = times[key][:, 0]
    out["bound"] = times["bound"][:, 0]
    totals = {key: float(out[key].sum()) for key in ("compute_ms", "memory_ms", "overhead_ms")}
    totals["latency_ms"] = float(out["time_ms"].sum())
    totals["macs"] = int(frame["macs"].sum())
    totals["bound_ms"] = {b: float(out.loc[out["bound"] == b, "time_ms"].sum()) for b in BOUNDS}
    out.attrs.update({k: frame.attrs[k] for k in ("variant", "title", "alpha", "rho", "resolution", "mode", "semantics")})
    out.attrs.update({"totals": totals, "device": describe(profile), "label": profile.label(), "simulated": True})
    return out
