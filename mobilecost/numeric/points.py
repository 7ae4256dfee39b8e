"""One configuration as a user names it: alpha, and rho or the input side in pixels; checked.

Plain Python (no numpy): a report on a warm cache resolves its configuration here.
"""

from __future__ import annotations

import math
import re
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
    """One configuration: alpha, rho and the input side they give (its height, and its width when the
    input is rectangular)."""

    alpha: float
    rho: float
    resolution: float  # an integer in exact mode; size * rho in ideal mode
    width: float | None = None  # None: a square input, resolution x resolution

    @property
    def shape_text(self) -> str:
        """'HxW' of the input."""
        width = self.resolution if self.width is None else self.width
        return f"{self.resolution:g}x{width:g}"


_SHAPE = re.compile(r"^\s*([^x×\s]+)\s*[x×]\s*([^x×\s]+)\s*$")


def _whole_side(text, given, which: str) -> int:
    try:
        value = float(text)
    except (TypeError, ValueError, OverflowError):
        value = math.nan
    if not math.isfinite(value) or value != int(value) or value <= 0:
        raise MobilecostError(f"the input {which} must be a positive whole number of pixels, got {quoted(given)}",
                              field="--resolution")
    _check_side(value, "--resolution", given)
    return int(value)


def parse_shape(resolution) -> tuple[int, int] | None:
    """(height, width) when `resolution` names an input by both sides -- text 'HxW' (height x width, as
    '240x320') or a pair (h, w) -- checked; None when it is one number (a square side) or None."""
    if resolution is None:
        return None
    if isinstance(resolution, (tuple, list)):
        if len(resolution) != 2:
            raise MobilecostError(f"a resolution pair is (height, width), got {quoted(resolution)}", field="--resolution")
        height, width = resolution
    elif isinstance(resolution, str) and re.search("[x×]", resolution):
        match = _SHAPE.match(resolution)
        if match is None:
            raise MobilecostError(f"expected HxW (height x width in pixels, as 240x320), got {quoted(resolution)}",
                                  field="--resolution")
        height, width = match.groups()
    else:
        return None
    return _whole_side(height, resolution, "height"), _whole_side(width, resolution, "width")


def scales_to(size: int, width: int | None, height: int, target_width: int, mode: str = "exact") -> bool:
    """Whether one rho takes the table's input (size x width, square when width is None) to height x
    target_width: rho = height / size, and the width then rounds (exact mode) to target_width."""
    rho = height / size
    base = size if width is None else width
    return (math.floor(base * rho + 0.5) if mode == "exact" else base * rho) == target_width


def rebased_shape(size: int, width: int | None, resolution, mode: str = "exact") -> tuple[int, int] | None:
    """(height, width) of the input a resolution names when no rho reaches it from the table's own
    input (a rectangle on a square table, or a rectangle of another aspect): the table is then
    evaluated re-based on that input (`numeric.checked.rebased`) at rho 1. None when rho reaches it."""
    shape = parse_shape(resolution)
    if shape is None and resolution is not None and width is not None:
        side = _whole_side(resolution, resolution, "side")  # a square input on a rectangular table
        shape = (side, side)
    if shape is None or (width is None and shape[0] == shape[1]) or scales_to(size, width, *shape, mode=mode):
        return None
    return shape


def resolve_point(size: int, alpha=1.0, rho=None, resolution=None, mode="exact", width=None) -> Point:
    """The configuration that alpha and either rho or a resolution name, for a table whose input side is
    `size` (its height; `width` its width when rectangular). A resolution is a side in pixels or
    (height, width) ('HxW' text or a pair)."""
    alpha = check_alpha(alpha)
    if rho is not None and resolution is not None:
        raise MobilecostError("give either rho or resolution, not both", field="--rho/--resolution")
    shape = parse_shape(resolution)
    if shape is not None and width is None and shape[0] == shape[1]:
        resolution, shape = shape[0], None
    if width is not None and shape is None and resolution is not None:
        side = _whole_side(resolution, resolution, "side")
        shape = (side, side)
    if shape is not None:
        if not scales_to(size, width, *shape, mode=mode):
            raise MobilecostError(f"{shape[0]}x{shape[1]} is not this table's input "
                                  f"{size}x{size if width is None else width} scaled by one rho", field="--resolution")
        return Point(alpha, shape[0] / size, shape[0], shape[1])
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
    if width is not None:
        _check_side(width * rho, "--rho", rho)
        if mode == "exact":
            return Point(alpha, rho, int(math.floor(side + 0.5)), int(math.floor(width * rho + 0.5)))
        return Point(alpha, rho, side, width * rho)
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


def check_resolution(costs_or_layers, resolution: int, name: str | None = None, width: int | None = None) -> None:
    """Refuse inputs smaller than the network's total stride (along either side of a rectangular one)."""
    layers = getattr(costs_or_layers, "layers", costs_or_layers)
    layers = [getattr(item, "layer", item) for item in layers]
    stride = total_stride(layers)
    name = name or getattr(getattr(costs_or_layers, "spec", None), "name", "this network")
    if width is not None and width < stride:
        raise MobilecostError(
            f"input width {width} is too small for {name}: its strides divide each side of the input by "
            f"{stride}, so the input must be at least {stride}x{stride}", field="--resolution")
    if resolution < stride:
        raise MobilecostError(
            f"resolution {resolution} is too small for {name}: its strides divide the input "
            f"side by {stride}, so the input must be at least {stride}x{stride}",
            field="--resolution",
        )
