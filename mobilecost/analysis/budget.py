"""Budgets: the check of a configuration's metrics against limits.

A row of `frames.sweep` holds every metric a limit names: MACs, parameters, the peak activation memory
of the memory model (sequential schedule, bytes at the given dtype) and, when a device is named, the
simulated latency of the latency model; the ``check`` command compares one such row with its limits.
Limits accept SI suffixes: counts ``150M``, ``4.2M``, ``600K``, ``1.5G``; bytes ``2MB`` (10^6),
``2MiB`` (2^20), ``512KB``, ``512KiB``; latency ``20`` or ``20ms``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..errors import MobilecostError, quoted

COUNT_SUFFIX = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9}
BYTE_SUFFIX = {"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}
TIME_SUFFIX = {"": 1.0, "MS": 1.0, "S": 1000.0, "US": 1e-3}


def parse_quantity(text: str, kind: str, field: str) -> float:
    """'150M' -> 150e6 (kind 'count'), '2MB' -> 2e6 and '2MiB' -> 2**20 (kind 'bytes'), '20ms' -> 20 ('ms')."""
    table = {"count": COUNT_SUFFIX, "bytes": BYTE_SUFFIX, "ms": TIME_SUFFIX}[kind]
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*", str(text))
    if not match or match.group(2).upper() not in table:
        units = ", ".join(s for s in table if s) or "none"
        raise MobilecostError(f"expected a number with an optional unit ({units}), got {quoted(text)}", field=field)
    value = float(match.group(1)) * table[match.group(2).upper()]
    if not math.isfinite(value) or value <= 0:
        raise MobilecostError(f"a limit must be a positive number, got {quoted(text)}", field=field)
    return value


@dataclass(frozen=True)
class Limit:
    metric: str  # column of frames.sweep
    label: str
    value: float
    unit: str


def check_budget(row: dict, limits: list[Limit]) -> list[str]:
    """One reason per exceeded limit (empty when everything fits)."""
    reasons = []
    for limit in limits:
        got = float(row[limit.metric])
        if got > limit.value:
            reasons.append(f"{limit.label} {_show(got, limit.unit)} exceeds the budget {_show(limit.value, limit.unit)}")
    return reasons


def near_budget(row: dict, limits: list[Limit]) -> list[str]:
    """One reason per limit that is met while the top of the metric's error band is not (a ``<metric>_high``
    column of the row: the simulated latency's band); empty when no band reaches over a limit."""
    reasons = []
    for limit in limits:
        high = row.get(f"{limit.metric}_high")
        if high is not None and float(row[limit.metric]) <= limit.value < float(high):
            low = float(row[f"{limit.metric}_low"])
            reasons.append(f"{limit.label} {_show(float(row[limit.metric]), limit.unit)} <= {_show(limit.value, limit.unit)}"
                           f" but its error band {_show(low, limit.unit)} to {_show(float(high), limit.unit)} reaches over")
    return reasons


def describe_fit(row: dict, limits: list[Limit]) -> str:
    return "; ".join(f"{l.label} {_show(float(row[l.metric]), l.unit)} <= {_show(l.value, l.unit)}" for l in limits)


def _show(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:.2f} ms"
    if unit == "bytes":
        return f"{value:,.0f} bytes ({value / 1e6:.2f} MB)"
    return f"{value:,.0f} ({value / 1e6:.2f} M)"
