"""Budgets: the check of a configuration's metrics against limits.

A row of `frames.sweep` holds every metric a limit names: MACs, parameters, the peak activation memory
of the memory model (sequential schedule, bytes at the given dtype) and, when a device is named, the
simulated latency of the latency model; the ``check`` command compares one such row with its limits.
Limits accept SI suffixes: counts ``150M``, ``4.2M``, ``600K``, ``1.5G``; bytes ``2MB`` (10^6),
``2MiB`` (2^20), ``512KB``, ``512KiB``; latency ``20`` or ``20ms``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from ..errors import MobilecostError, quoted

COUNT_SUFFIX = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9}
BYTE_SUFFIX = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}
TIME_SUFFIX = {"": 1, "MS": 1, "S": 1000, "US": Fraction(1, 1000)}
MAX_LIMIT_DIGITS = 40  # of a limit's number as written; 1e30 MACs is far past any network
MAX_EXPONENT = 30  # |e| of a limit written 1.5e8


def parse_quantity(text: str, kind: str, field: str) -> Fraction:
    """'150M' -> 150e6 (kind 'count'), '2MB' -> 2e6 and '2MiB' -> 2**20 (kind 'bytes'), '20ms' -> 20 ('ms'),
    as an exact fraction: '568.740352M' is 568,740,352, not the float product 568740351.99999994.

    Counts and bytes are whole numbers: a limit between two of them (0.5, 1.5B) is refused, not rounded
    (it would print rounded and read '... 568,740,352 exceeds the budget 568,740,352')."""
    table = {"count": COUNT_SUFFIX, "bytes": BYTE_SUFFIX, "ms": TIME_SUFFIX}[kind]
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)(?:[eE]([+-]?[0-9]+))?\s*([A-Za-z]*)\s*", str(text))
    if not match or match.group(3).upper() not in table:
        units = ", ".join(s for s in table if s) or "none"
        raise MobilecostError(f"expected a number with an optional unit ({units}), got {quoted(text)}", field=field)
    digits, exponent = match.group(1), match.group(2) or "0"
    if len(digits) > MAX_LIMIT_DIGITS or len(exponent.lstrip("+-")) > 3 or abs(int(exponent)) > MAX_EXPONENT:
        raise MobilecostError(f"a limit has at most {MAX_LIMIT_DIGITS} digits and an exponent from "
                              f"-{MAX_EXPONENT} to {MAX_EXPONENT}, got {quoted(text)}", field=field)
    value = Fraction(digits) * Fraction(10) ** int(exponent) * table[match.group(3).upper()]
    if value <= 0:
        raise MobilecostError(f"a limit must be a positive number, got {quoted(text)}", field=field)
    if kind != "ms" and value.denominator != 1:
        what = "a count" if kind == "count" else "a number of bytes"
        written = "" if match.group(1) == str(text).strip() else f" = {_decimal(value)}"
        raise MobilecostError(f"{what} is a whole number, got {quoted(text)}{written}", field=field)
    return value


@dataclass(frozen=True)
class Limit:
    metric: str  # column of frames.sweep
    label: str
    value: Fraction  # exact (parse_quantity)
    unit: str


def check_budget(row: dict, limits: list[Limit]) -> list[str]:
    """One reason per exceeded limit (empty when everything fits)."""
    reasons = []
    for limit in limits:
        got = row[limit.metric]
        if _exact(got) > limit.value:
            reasons.append(f"{limit.label} {_show(got, limit.unit, limit.value)} exceeds the budget "
                           f"{_show(limit.value, limit.unit)}")
    return reasons


def near_budget(row: dict, limits: list[Limit]) -> list[str]:
    """One reason per limit that is met while the top of the metric's error band is not (a ``<metric>_high``
    column of the row: the simulated latency's band); empty when no band reaches over a limit."""
    reasons = []
    for limit in limits:
        high = row.get(f"{limit.metric}_high")
        if high is not None and _exact(row[limit.metric]) <= limit.value < _exact(high):
            low = float(row[f"{limit.metric}_low"])
            reasons.append(f"{limit.label} {_show(row[limit.metric], limit.unit, limit.value)} <= "
                           f"{_show(limit.value, limit.unit)} but its error band {_show(low, limit.unit)} to "
                           f"{_show(float(high), limit.unit, limit.value)} reaches over")
    return reasons


def describe_fit(row: dict, limits: list[Limit]) -> str:
    return "; ".join(f"{l.label} {_show(row[l.metric], l.unit, l.value)} <= {_show(l.value, l.unit)}" for l in limits)


def _exact(value) -> Fraction:
    """A metric's value as an exact fraction (a float's own value; counts are ints)."""
    if isinstance(value, Fraction):
        return value
    return Fraction(int(value)) if hasattr(value, "__index__") else Fraction(float(value))


def _decimal(value: Fraction) -> str:
    """A limit as the decimal it was written as (its denominator divides a power of 10): 0.0001, 568,740,351.5."""
    whole, rest = divmod(value, 1)
    if not rest:
        return f"{int(whole):,}"
    places = 1
    while (rest * 10**places).denominator != 1:
        places += 1
    return f"{int(whole):,}.{int(rest * 10**places):0{places}d}"


def _show(value, unit: str, other=None) -> str:
    """A metric or a limit for a verdict; a Fraction (a limit) exactly as written. A latency shows 2 decimals,
    more when 2 would print it equal to `other` (the limit it is compared with) while it is not."""
    if isinstance(value, Fraction):
        text = _decimal(value)
    elif unit == "ms":
        places = 2
        while other is not None and places < 9 and Fraction(f"{value:.{places}f}") == other != _exact(value):
            places += 1
        text = f"{value:.{places}f}"
    else:
        exact = _exact(value)
        text = f"{int(exact):,}" if exact.denominator == 1 else f"{float(value):,}"
    if unit == "ms":
        return f"{text} ms"
    hundredths = round(_exact(value) / 10**4)  # of a million, rounded exactly
    millions = f"{hundredths // 100}.{hundredths % 100:02d}"
    return f"{text} bytes ({millions} MB)" if unit == "bytes" else f"{text} ({millions} M)"
