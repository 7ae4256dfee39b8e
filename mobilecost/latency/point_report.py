"""Simulated latency of one configuration, in plain Python: per-layer times and what limits each layer,
the totals, the error band and the profile's description.

The latency model (model.py) runs here on one configuration's `PointColumn`s; `api.estimate_latency`
builds its DataFrame from this report and the `latency` and `check` commands render it, so a warm
cache loads neither numpy nor pandas. Totals are added in numpy's order (`pairwise_sum`), as the
DataFrame's sums were.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..count.ops import type_label
from ..numeric.one_point import configuration
from ..numeric.point_columns import pairwise_sum, point_values
from .model import BOUNDS, describe, layer_terms, layer_times, limits, parameters_of

COLUMNS = ("name", "op", "type", "act", "macs", "act_in", "act_out", "weights", "bytes_moved", "compute_ms",
           "memory_ms", "overhead_ms", "time_ms", "bound", "limit", "peak_pct")


@dataclass(frozen=True)
class LatencyReport:
    """column -> one value per layer that exists at this configuration (`COLUMNS`), and the point,
    totals and profile (``attrs``)."""

    columns: dict
    attrs: dict

    def rows(self) -> list[dict]:
        return [dict(zip(self.columns, values)) for values in zip(*self.columns.values())]


def latency_report(table, device, alpha=1.0, rho=None, resolution=None) -> LatencyReport:
    """`table`: a `numeric.snapshot.TableSnapshot`; `device`: its profile's `figures.DeviceFigures`."""
    point, per_layer = configuration(table, alpha, rho, resolution)
    terms = layer_terms(device, point_values(table.layers, table.mode, per_layer))
    params = parameters_of(device)
    times = layer_times(terms, params)
    labels = limits(device, terms, times, params)
    kept = [i for i, layer in enumerate(table.layers) if not (layer.residual and per_layer["act_out"][i] == 0)]
    layers = [table.layers[i] for i in kept]
    columns = {"name": [layer.name for layer in layers], "op": [layer.op.value for layer in layers],
               "type": [type_label(layer) for layer in layers], "act": [layer.act or "" for layer in layers],
               **{f: _as_one_type([per_layer[f][i] for i in kept]) for f in ("macs", "act_in", "act_out", "weights")},
               "bytes_moved": [float(terms.bytes_moved[i]) for i in kept],
               **{key: [float(times[key][i]) for i in kept] for key in ("compute_ms", "memory_ms", "overhead_ms", "time_ms")},
               "bound": [times["bound"][i] for i in kept],  # the largest term in the model, not a measured bottleneck
               "limit": [labels[i] for i in kept]}  # that term in the model's own figures
    # Attained share of the profile's peak: MACs / (time x peak); a depthwise layer labelled "compute" may sit at a few %.
    peak_macs = [t * device.gmacs * 1e6 for t in columns["time_ms"]]  # MACs the peak allows in that time
    columns["peak_pct"] = [float(m) * 100 / p if p > 0 else 0.0 for m, p in zip(columns["macs"], peak_macs)]
    totals = {key: pairwise_sum(columns[key]) for key in ("compute_ms", "memory_ms", "overhead_ms")}
    totals["fixed_ms"] = params.fixed_ms  # once per inference, beside the layers
    totals["latency_ms"] = pairwise_sum(columns["time_ms"]) + params.fixed_ms
    band = device.band()
    totals["latency_ms_low"] = band.low(totals["latency_ms"])
    totals["latency_ms_high"] = band.high(totals["latency_ms"])
    macs = columns["macs"]
    totals["macs"] = sum(macs) if all(isinstance(m, int) for m in macs) else int(pairwise_sum(macs))
    span = device.calibrated_macs  # a band from calibration rows says nothing certain beyond their sizes
    totals["outside_calibration"] = None if span is None else not span[0] <= totals["macs"] <= span[1]
    totals["bound_ms"] = {b: pairwise_sum(t for t, here in zip(columns["time_ms"], columns["bound"]) if here == b)
                          for b in BOUNDS}
    attrs = {"variant": table.name, "title": table.title, "alpha": point.alpha, "rho": point.rho,
             "resolution": point.resolution, "mode": table.mode, "semantics": table.semantics}
    if point.width is not None:  # a rectangular input
        attrs["height"], attrs["width"] = point.resolution, point.width
    attrs.update({"totals": totals, "device": describe(device), "label": device.label, "simulated": True,
                  "calibration_note": calibration_note(totals["macs"], span)})
    return LatencyReport(columns, attrs)


def calibration_note(macs: int, span) -> str:
    """A sentence when `macs` lies outside the MACs `span` of the profile's calibration rows, else ''."""
    if span is None or span[0] <= macs <= span[1]:
        return ""
    return outside_span_note(f"this configuration's {macs:,} MACs", span)


def configurations_note(macs, span) -> str:
    """A sentence counting the configurations (their MACs) outside the MACs `span` of the calibration rows, or ''."""
    macs = list(macs)
    outside = 0 if span is None else sum(not span[0] <= m <= span[1] for m in macs)
    return outside_span_note(f"{outside:,} of {len(macs):,} configurations", span) if outside else ""


def outside_span_note(what: str, span) -> str:
    """That `what` (some MACs, some configurations) lies outside the MACs `span` of the calibration rows."""
    return (f"note: outside the {span[0]:,} to {span[1]:,} MACs of the rows this profile was calibrated on: {what}; "
            f"the band comes from those rows and may understate the error there")


def _as_one_type(values: list) -> list:
    """A column of whole numbers, or, where any is a real number, of real numbers (as a DataFrame holds it)."""
    if all(isinstance(v, int) for v in values):
        return values
    return [float(v) for v in values]
