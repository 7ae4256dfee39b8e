"""One configuration as a user names it: alpha, and rho or the input side in pixels; checked.

Plain Python (no numpy): a report on a warm cache resolves its configuration here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import MobilecostError, quoted

# Configurations per sweep: a grid is refused before anything is allocated when it has more. Evaluating
# one takes about POINT_BYTES of memory at peak (measured: 1,000,000 configurations of mobilenet_v1 or
# mobilenet_v3_large peak at about 0.8 GB), so the default bound is about 1.6 GB.
MAX_POINTS = 2_000_000
POINT_BYTES = 800

# Far beyond any network (a width multiplier of a million gives MobileNetV2 2.7 * 10**20 MACs, still
# counted exactly), low enough that every channel count and side stays a finite float before rounding.
MAX_ALPHA = 1e9
MAX_SIDE = 10**8  # input side in pixels


def check_alpha(alpha) -> float:
    try:
        value = float(alpha)
    except (TypeError, ValueError, OverflowError):
        raise MobilecostError(f"alpha must be a number, got {quoted(alpha)}", field="--alpha") from None
    if not math.isfinite(value) or value <= 0:
        raise MobilecostError(f"alpha must be a positive number, got {quoted(alpha)}", field="--alpha")
    if value > MAX_ALPHA:
        raise MobilecostError(f"alpha must be at most {MAX_ALPHA:g}, got {value:g}", field="--alpha")
    return value


def _check_side(side: float, field: str, given) -> None:
    if side > MAX_SIDE:
        raise MobilecostError(f"the input side must be at most {MAX_SIDE:,} pixels, got {quoted(given)}"
                              + (f" (= {side:.3g} pixels)" if field == "--rho" else ""), field=field)


@dataclass(frozen=True)
class Point:
    """One configuration: alpha, rho and the input side they give."""

    alpha: float
    rho: float
    resolution: float  # an integer in exact mode; size * rho in ideal mode


def resolve_point(size: int, alpha=1.0, rho=None, resolution=None, mode="exact") -> Point:
    """The configuration that alpha and either rho or a resolution name, for a table whose input side is `size`."""
    alpha = check_alpha(alpha)
    if rho is not None and resolution is not None:
        raise MobilecostError("give either rho or resolution, not both", field="--rho/--resolution")
    if resolution is not None:
        try:
            res = int(resolution)
        except (TypeError, ValueError, OverflowError):
            raise MobilecostError(f"resolution must be a whole number of pixels, got {quoted(resolution)}",
                                  field="--resolution") from None
        if res != float(resolution) or res <= 0:
            raise MobilecostError(f"resolution must be a positive whole number, got {quoted(resolution)}",
                                  field="--resolution")
        _check_side(res, "--resolution", resolution)
        return Point(alpha, res / size, res)
    rho = 1.0 if rho is None else rho
    try:
        rho = float(rho)
    except (TypeError, ValueError, OverflowError):
        raise MobilecostError(f"rho must be a number, got {quoted(rho)}", field="--rho") from None
    if not math.isfinite(rho) or rho <= 0:
        raise MobilecostError(f"rho must be a positive number, got {rho}", field="--rho")
    side = size * rho
    _check_side(side, "--rho", rho)
    return Point(alpha, rho, int(math.floor(side + 0.5)) if mode == "exact" else side)


def total_stride(layers) -> int:
    """The largest product of strides on any path from the input (a branch, such as attention's
    downsampled keys, multiplies only its own path); in a head table, of its backbone's (a head's strided
    layers on small maps keep one pixel: 'same' padding gives ceil(1 / s) = 1, as SSD's extra layers
    reach 1x1)."""
    if any(layer.source for layer in layers):
        layers = [layer for layer in layers if layer.source]
    reached = {"input": 1}
    for layer in layers:
        reached[layer.name] = reached.get(layer.inputs[0] if layer.inputs else "input", 1) * layer.stride
    return max(reached.values())


def check_resolution(costs_or_layers, resolution: int, name: str | None = None) -> None:
    """Refuse inputs smaller than the network's total stride."""
    layers = getattr(costs_or_layers, "layers", costs_or_layers)
    layers = [getattr(item, "layer", item) for item in layers]
    stride = total_stride(layers)
    name = name or getattr(getattr(costs_or_layers, "spec", None), "name", "this network")
    if resolution < stride:
        raise MobilecostError(
            f"resolution {resolution} is too small for {name}: its strides divide the input "
            f"side by {stride}, so the input must be at least {stride}x{stride}",
            field="--resolution",
        )
