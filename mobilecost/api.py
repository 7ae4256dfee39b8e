"""The Python API: variants in, pandas DataFrames out.

>>> from mobilecost import evaluate, sweep
>>> layers = evaluate("mobilenet_v1", alpha=0.75, resolution=160)
>>> layers.attrs["totals"]["macs"]
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from .conventions import PARAM_PARTS, check_convention, dtype_bytes, flops_of, params_of
from .errors import MobilecostError
from .spec.files import brief
from .count.ops import type_label
from .spec.layers import COST_FIELDS
from .numeric.checked import as_spec, check_resolution, checked_spec, compiled_for, costs_for, spec_for  # noqa: F401 (the API names them)
from .numeric.points import MAX_POINTS, POINT_BYTES, Point, check_alpha, parse_shape, resolve_point, scales_to  # noqa: F401 (the API names them)
from .numeric.joins import check_joins_on
from .numeric.one_point import evaluate_one, share_by_type as shares_of
from .numeric.snapshot import snapshot_of
from .numeric.values import check_finite, values_at_point


def evaluate(variant, alpha=1.0, rho=None, resolution=None, mode="exact", semantics=None,
             convention="paper", dtype="fp32", attention="included") -> pd.DataFrame:
    """Per-layer table at one configuration; ``.attrs`` holds the point, the totals and the conventions.

    ``attn_macs`` holds attention's matrix products (QK^T, attention x V); `attention` says whether
    ``macs`` includes them: ``included`` or ``excluded`` (conventions.ATTENTION).

    Memory columns are bytes at `dtype`: ``in_bytes`` (first input), ``out_bytes``, ``weight_bytes``
    (weights + biases, BN folded) and ``live_bytes`` (the sequential schedule's live set while the layer
    runs); ``.attrs['memory']`` holds the peak and where it happens (numeric/one_point.py)."""
    spec = spec_for(variant, resolution, semantics, mode)
    report = evaluate_one(snapshot_of(compiled_for(spec, mode, semantics)), alpha, rho, resolution,
                          convention, dtype, attention)
    frame = pd.DataFrame(report.columns)
    frame.attrs.update(report.attrs)
    return frame


def layer_columns(layers) -> dict[str, list]:
    """The columns that describe each layer: name, block, op, type, kernel, stride, act."""
    return {
        "name": [layer.name for layer in layers],
        "block": [layer.block for layer in layers],
        "op": [layer.op.value for layer in layers],
        "type": [type_label(layer) for layer in layers],
        "kernel": [layer.kernel_label for layer in layers],
        "stride": [layer.stride for layer in layers],
        "act": [layer.act or "" for layer in layers],
    }


def layer_roles(variant, semantics=None) -> dict[str, str]:
    """Each layer's role in its block (`Layer.role`: ``expand``, ``dw``, ``se.reduce``, ...), by layer name."""
    return {layer.name: layer.role for layer in compiled_for(as_spec(variant), "exact", semantics).layers}


def receptive_field(variant, semantics=None, output_stride=None) -> pd.DataFrame:
    """Each layer's receptive field (input pixels one output sees, per axis; NaN: the whole input) and
    jump (input pixels between neighbouring outputs), optionally as a backbone of `output_stride`
    (analysis/receptive.py). Independent of alpha and the resolution."""
    from .analysis.receptive import receptive_fields
    from .analysis.transforms import with_output_stride

    spec = checked_spec(variant, semantics)
    if output_stride is not None:
        spec = checked_spec(with_output_stride(spec, output_stride), semantics)
    fields = receptive_fields(spec, semantics)
    return pd.DataFrame({"name": [f.name for f in fields], "jump": [f.jump for f in fields],
                         "rf_height": [f.height for f in fields], "rf_width": [f.width for f in fields]})


def share_by_type(frame: pd.DataFrame) -> pd.DataFrame:
    """Share of MACs and parameters by layer type (MobileNets Table 2's breakdown), largest MACs first."""
    rows = shares_of(frame["type"].tolist(), frame["macs"].tolist(), frame["params"].tolist())
    return pd.DataFrame(rows, columns=["type", "macs", "macs_pct", "params", "params_pct"])


def points_bound(max_points: int) -> str:
    """The bound as the messages state it; `sweep --max-points` sets it."""
    size = max_points * POINT_BYTES
    memory = f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:.3g} MB"
    return f"at most {max_points:,} configurations (about {memory} of memory; sweep's --max-points sets the bound)"


def parse_grid(text: str, field: str, integer: bool = False, max_points: int = MAX_POINTS):
    """'0.5,0.75,1' or 'START:STOP:STEP' (inclusive of STOP when it falls on the grid); with `integer`
    (input sides) also a list of HxW inputs ('240x320,480x640'), returned as a list of (height, width).

    Refuses, before allocating anything, non-finite values and grids of more than `max_points` values."""
    shown = brief(str(text))
    if integer and re.search("[x×]", str(text)):
        items = [x for x in str(text).split(",") if x.strip()]
        if len(items) > max_points:
            raise MobilecostError(f"{len(items):,} values; a sweep has {points_bound(max_points)}", field=field)
        if not items or ":" in str(text):
            raise MobilecostError(f"expected a list of HxW inputs like 240x320,480x640, got {shown!r}", field=field)
        return [parse_shape(x) or parse_shape(f"{x}x{x}") for x in items]
    try:
        if ":" in text:
            start, stop, step = (float(x) for x in text.split(":"))
            if not all(math.isfinite(x) for x in (start, stop, step)):
                raise MobilecostError(f"START, STOP and STEP must be finite numbers, got {shown!r}", field=field)
            if step <= 0:
                raise ValueError
            span = (stop - start) / step + 1e-9
            if not math.isfinite(span) or span + 1 > max_points:
                many = f"{span + 1:.3g}" if math.isfinite(span) else "unboundedly many"
                raise MobilecostError(f"{shown!r} makes {many} values; a sweep has {points_bound(max_points)}",
                                      field=field)
            count = int(math.floor(span)) + 1
            values = start + step * np.arange(count)
        else:
            items = [x for x in text.split(",") if x.strip()]
            if len(items) > max_points:
                raise MobilecostError(f"{len(items):,} values; a sweep has {points_bound(max_points)}", field=field)
            values = np.array([float(x) for x in items])
    except ValueError as exc:
        if isinstance(exc, MobilecostError):
            raise
        raise MobilecostError(f"expected a list like 0.5,1.0 or a range START:STOP:STEP, got {shown!r}",
                              field=field) from None
    if not np.all(np.isfinite(values)):
        raise MobilecostError(f"values must be finite numbers, got {shown!r}", field=field)
    if values.size == 0 or np.any(values <= 0):
        raise MobilecostError(f"values must be positive numbers, got {shown!r}", field=field)
    if integer:
        if np.any(values != np.round(values)):
            raise MobilecostError(f"resolutions are whole numbers of pixels, got {shown!r}", field=field)
        if np.any(values >= 2**53):
            raise MobilecostError(f"resolutions are below 2**53 pixels, got {shown!r}", field=field)
        return values.astype(np.int64)
    with np.errstate(over="ignore", invalid="ignore"):
        rounded = np.round(values, 10)
    return np.where(np.isfinite(rounded), rounded, values)


def check_points(count: int, max_points: int = MAX_POINTS, field: str = "--alpha") -> None:
    """Refuse a grid of more than `max_points` configurations before anything is allocated."""
    if count > max_points:
        raise MobilecostError(f"the grid has {count:,} configurations; a sweep has {points_bound(max_points)}", field=field)


def sweep(variant, alphas, resolutions=None, rhos=None, mode="exact", semantics=None,
          convention="paper", device=None, dtype="fp32", max_points=MAX_POINTS) -> pd.DataFrame:
    """Totals over the grid alphas x (resolutions or rhos): one row per configuration.

    ``act_peak_bytes`` is the peak live activation memory of the sequential schedule and
    ``weight_bytes`` the stored weights and biases (BN folded), both at `dtype` (numeric/liveness.py).
    A grid of more than `max_points` configurations is refused before anything is computed."""
    spec = as_spec(variant)
    compiled = compiled_for(spec, mode, semantics)
    check_convention(convention)
    dtype_bytes(dtype)
    alphas = _axis(alphas, "--alpha")
    for a in alphas:
        check_alpha(a)
    if resolutions is not None and rhos is not None:
        raise MobilecostError("give either rhos or resolutions, not both", field="--rho/--resolution")
    shapes = input_shapes(resolutions)
    if shapes is None and resolutions is not None and spec.input.width is not None:
        shapes = square_inputs(resolutions)
    if shapes is not None:  # inputs named by height and width
        spec = spec_for_shapes(spec, shapes, mode, semantics)
        compiled = compiled_for(spec, mode, semantics)
        if spec.input.width is None:  # all square on a square table: sides as ever
            resolutions, shapes = [h for h, _ in shapes], None
    size = spec.input.size
    widths = None
    if shapes is not None:
        res = np.array([h for h, _ in shapes], dtype=np.int64)
        widths = np.array([w for _, w in shapes], dtype=np.int64)
        rho = res / size
    elif resolutions is not None:
        res = checked_sides(resolutions)
        given = np.atleast_1d(np.asarray(resolutions))
        res = given if given.dtype.kind in "iuf" else res.astype(np.int64)
        rho = res / size
    else:
        rho = _axis(1.0 if rhos is None else rhos, "--rho")
        if np.any(rho <= 0) or np.any(rho >= 2**53 / size):
            raise MobilecostError(f"rho must be positive and give an input side below 2**53 pixels, got "
                                  f"{brief(rho.tolist())}", field="--rho")
        res = np.floor(size * rho + 0.5).astype(np.int64) if mode == "exact" else size * rho
        if spec.input.width is not None:
            width = spec.input.width
            widths = np.floor(width * rho + 0.5).astype(np.int64) if mode == "exact" else width * rho
    check_points(alphas.size * rho.size, max_points, "--alpha" if alphas.size >= rho.size else
                 ("--resolution" if resolutions is not None else "--rho"))
    if mode == "exact":
        for i, r in enumerate(res):
            check_resolution(compiled.layers, int(r), spec.name, None if widths is None else int(widths[i]))
    a_all, r_all = np.meshgrid(alphas, rho, indexing="ij")
    check_joins_on(compiled, a_all.ravel(), r_all.ravel())
    with np.errstate(over="ignore", invalid="ignore"):
        frame = _grid_frame(spec, compiled, alphas, rho, res, mode, convention, dtype, device, widths)
    if mode != "exact":
        check_finite(frame.select_dtypes("number").to_numpy(), "a count")
    return frame


def input_shapes(resolutions) -> list[tuple[int, int]] | None:
    """The inputs of a sweep as (height, width) when any is named by both sides ('HxW' or a pair), else None."""
    if isinstance(resolutions, str):
        shape = parse_shape(resolutions)
        return None if shape is None else [shape]
    if resolutions is None or isinstance(resolutions, np.ndarray) or not hasattr(resolutions, "__len__"):
        return None
    if not any(isinstance(r, (str, tuple, list)) for r in resolutions):
        return None
    return [parse_shape(r) or parse_shape(f"{r}x{r}") for r in resolutions]


def default_sides(spec) -> list:
    """The inputs `sweep` and `export` take when none is given: 224 on a square table, a rectangular table's own
    input (HxW), so that a rectangular table's default counts are report's."""
    return [224] if spec.input.width is None else [f"{spec.input.size}x{spec.input.width}"]


def square_inputs(resolutions) -> list[tuple[int, int]]:
    """Input sides as square (height, width) inputs: what a side names on a rectangular table, in a sweep as in
    report, latency, memory and check (`points.resolve_point`). A sweep once took it as the height, the width
    following the table's aspect, and wrote the counts of 97x139 under 'resolution 97' where report counted 97x97."""
    return [(int(side), int(side)) for side in checked_sides(resolutions)]


def checked_sides(resolutions) -> np.ndarray:
    """Input sides as an array, refused unless every one is a positive whole number of pixels below 2**53."""
    sides = _axis(resolutions, "--resolution")
    if np.any(sides != np.round(sides)) or np.any(sides <= 0) or np.any(sides >= 2**53):
        raise MobilecostError("resolutions are positive whole numbers of pixels below 2**53, got "
                              f"{brief(sides.tolist())}", field="--resolution")
    return sides


def spec_for_shapes(spec, shapes, mode="exact", semantics=None):
    """The spec whose input one rho takes to every shape of a sweep: the table's own, or the table
    re-based on the first shape; a sweep whose inputs no single rho relates is refused."""
    from .numeric.checked import rebased

    size, width = spec.input.size, spec.input.width
    if not all((width is None and h == w) or scales_to(size, width, h, w, mode) for h, w in shapes):
        spec = rebased(spec, *shapes[0], semantics)
        size, width = spec.input.size, spec.input.width
    for h, w in shapes:
        if not ((width is None and h == w) or scales_to(size, width, h, w, mode)):
            raise MobilecostError(f"{h}x{w} is not {shapes[0][0]}x{shapes[0][1]} scaled by one rho: the inputs "
                                  "of one sweep share their aspect ratio (sweep others separately)", field="--resolution")
    return spec


def _axis(values, field: str) -> np.ndarray:
    """One axis of a grid as a 1-D float array of finite numbers, or one line saying why not."""
    try:
        axis = np.atleast_1d(np.asarray(values, dtype=float))
    except (TypeError, ValueError, OverflowError):
        raise MobilecostError(f"expected numbers, got {brief(values)}", field=field) from None
    if axis.ndim != 1 or axis.size == 0:
        raise MobilecostError(f"expected a non-empty list of numbers, got {brief(values)}", field=field)
    if not np.all(np.isfinite(axis)):
        raise MobilecostError(f"values must be finite numbers, got {brief(values)}", field=field)
    return axis


def _grid_frame(spec, compiled, alphas, rho, res, mode, convention, dtype, device, widths=None) -> pd.DataFrame:
    from .numeric.liveness import peak_live
    from .numeric.plan import build_plan
    from .numeric.values import grid_shaped, values_on_grid

    values = values_on_grid(compiled, alphas, rho)
    a_grid, r_index = np.meshgrid(alphas, np.arange(rho.size), indexing="ij")
    a_flat, i_flat = a_grid.ravel(), r_index.ravel()
    totals = {f: grid_shaped(values, v).ravel() for f, v in values.totals(COST_FIELDS).items()}
    # A rectangular input: its height and width in place of one side.
    sides = {"resolution": res[i_flat]} if widths is None else {"height": res[i_flat], "width": widths[i_flat]}
    frame = pd.DataFrame({"variant": spec.name, "alpha": a_flat, "rho": rho[i_flat], **sides, **totals})
    frame["params"] = params_of(frame, convention)
    nbytes = dtype_bytes(dtype)
    peak = grid_shaped(values, peak_live(build_plan(compiled), values)[0]).ravel()
    frame["act_peak_bytes"] = (peak * nbytes).astype(np.int64) if mode == "exact" else peak * nbytes
    frame["weight_bytes"] = (frame["weights"] + frame["biases"]) * nbytes
    frame["flops"] = flops_of(frame["macs"])
    cols = ["variant", "alpha", "rho", *sides, "macs", "flops", *PARAM_PARTS, "params",
            "act_out", "bn_ops", "act_ops", "ew_ops", "act_peak_bytes", "weight_bytes"]
    if frame["attn_macs"].any():  # a network with attention: its matrix products (in macs) apart as well
        cols.insert(cols.index("macs") + 1, "attn_macs")
    if device is not None:  # simulated latency on a device profile (latency/model.py); .attrs says so
        from .latency.devices import load_device
        from .latency.model import describe, total_latency

        profile = load_device(device)
        frame["latency_ms"] = grid_shaped(values, total_latency(profile, values)).ravel()
        band = profile.band()  # the model's error either way (DeviceProfile.band says from what)
        frame["latency_ms_low"] = band.low(frame["latency_ms"])
        frame["latency_ms_high"] = band.high(frame["latency_ms"])
        cols += ["latency_ms", "latency_ms_low", "latency_ms_high"]
        frame = frame[cols]
        frame.attrs.update({"device": describe(profile), "label": profile.label(), "simulated": True})
        from .latency.point_report import configurations_note

        note = configurations_note(frame["macs"], profile.calibrated_macs)
        if note:
            frame.attrs["calibration_note"] = note
        return frame
    return frame[cols]


def estimate_latency(variant, device, alpha=1.0, rho=None, resolution=None, mode="exact", semantics=None) -> pd.DataFrame:
    """Per-layer simulated time and bound at one configuration; ``.attrs`` holds totals and the profile.

    The configuration is evaluated once, from the table's cached snapshot, in plain Python
    (latency/point_report.py); this is that report as a DataFrame."""
    from .latency.point_report import latency_report
    from .latency.profile_cache import device_figures
    from .numeric.snapshot import snapshot_for

    figures = device_figures(device)
    report = latency_report(snapshot_for(variant, resolution, mode, semantics), figures, alpha, rho, resolution)
    out = pd.DataFrame(report.columns)
    out.attrs.update(report.attrs)
    return out


def live_activations(variant, alpha=1.0, rho=None, resolution=None, mode="exact", semantics=None,
                     schedule="sequential", slices=None, dtype="fp32"):
    """The live tensors and elements of every step of `schedule` at one configuration (numeric/one_point.py)."""
    from .numeric.one_point import configuration, live_sets
    from .numeric.snapshot import snapshot_for

    table = snapshot_for(variant, resolution, mode, semantics)
    _, values = configuration(table, alpha, rho, resolution)
    return live_sets(table, values, schedule, slices, dtype)