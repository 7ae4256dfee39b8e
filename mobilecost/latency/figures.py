"""A device profile as the latency model reads it: plain numbers and text (`DeviceFigures`), built
from a validated profile (devices.py) and kept in the cache (profile_cache.py), so that a warm
`latency` reads neither YAML nor pydantic. Also where profiles are: built-in names and profile files.

Nothing here imports numpy, pydantic or YAML.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from ..errors import MobilecostError
from ..spec.files import brief, is_file, tables_dir

# Operation classes of the latency model; `memory` is the achieved share of the spec bandwidth
# for the memory-bound branch of multiply-accumulate layers.
OP_CLASSES = ("conv", "pointwise", "depthwise", "fc", "elementwise")
EFFICIENCIES = (*OP_CLASSES[:4], "memory", "elementwise")


@dataclass(frozen=True)
class Band:
    """The interval of latencies consistent with the profile's calibration error.

    From relative residuals e_i = (predicted - measured) / measured a prediction p corresponds to a
    measurement p / (1 + e), so the band is [p / (1 + max(e, 0)), p / (1 + min(e, 0))]: the latencies
    that would have been measured had the prediction erred like the worst rows either way. A stated
    error of +-s % gives the symmetric band [p (1 - s), p (1 + s)]."""

    low_factor: float
    high_factor: float
    rule: str

    def low(self, ms):
        return ms * self.low_factor

    def high(self, ms):
        return ms * self.high_factor


@dataclass(frozen=True)
class DeviceFigures:
    """What the latency model and its reports read of a profile (`devices.DeviceProfile`)."""

    name: str
    title: str
    runtime: str
    threads: int
    precision: str
    dtype_bytes: int
    gmacs: float  # peak multiply-accumulates per second / 1e9
    peak_text: str  # how the peak is made (`Peak.arithmetic`)
    cache_bytes: int
    cache_gb_s: float
    dram_gb_s: float
    efficiency: dict  # EFFICIENCIES -> achieved share of peak or bandwidth
    overhead_us: float
    elementwise_us: float | None
    per_inference_us: float
    status: str
    obtained: str
    error_label: str
    label: str
    band_low: float
    band_high: float
    band_rule: str
    path: str | None = None
    channel_block: int | None = None  # the runtime's blocked channel layout (`devices.Layout`), if any
    unblocked: float = 0.0  # efficiency of the extra compute outside the blocks (0: no blocks)
    unblocked_channel_us: float = 0.0  # fixed cost per channel outside the blocks
    calibrated_macs: tuple | None = None  # the smallest and the largest MACs of the calibration rows, if known
    pointwise_block: int | None = None  # the runtime pads a 1x1 convolution's channels to these blocks, if any
    per_output_macs: float = 0.0  # and charges each of its output elements this many MACs more
    narrow_input: float = 1.0  # and is this many times slower on an input of fewer channels than one block

    def band(self) -> Band:
        return Band(self.band_low, self.band_high, self.band_rule)

    def stored(self) -> dict:
        """Every field but the path (the same file may be named by several paths)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "path"}


class _NoLayout:
    channel_block = unblocked = per_channel_us = pointwise_block = None
    per_output_macs, narrow_input = 0.0, 1.0


_NO_LAYOUT = _NoLayout()


def figures_of(profile) -> DeviceFigures:
    """The figures of a `devices.DeviceProfile` (a `DeviceFigures` is returned as it is)."""
    if isinstance(profile, DeviceFigures):
        return profile
    band, overhead = profile.band(), profile.overhead
    layout = profile.layout or _NO_LAYOUT
    return DeviceFigures(
        profile.name, profile.title, profile.runtime, profile.threads, profile.precision, profile.dtype_bytes,
        profile.peak.gmacs, profile.peak.arithmetic(), profile.memory.cache_bytes, profile.memory.cache_gb_s,
        profile.memory.dram_gb_s, {name: getattr(profile.efficiency, name) for name in EFFICIENCIES}, overhead.us,
        overhead.elementwise_us, overhead.per_inference_us, profile.status, profile.obtained, profile.error_label(),
        profile.label(), band.low_factor, band.high_factor, band.rule, profile.path,
        layout.channel_block, layout.unblocked or 0.0, layout.per_channel_us or 0.0, profile.calibrated_macs,
        layout.pointwise_block, layout.per_output_macs, layout.narrow_input)


def devices_dir() -> Path:
    return tables_dir() / "devices"


def list_devices() -> list[str]:
    return [p.stem for p in sorted(devices_dir().glob("*.yaml"))]


def resolve_device(name_or_path: str) -> Path:
    text = str(name_or_path)
    candidate = Path(text)
    if text.endswith((".yaml", ".yml")) or is_file(candidate, text):
        if not is_file(candidate, text):
            raise MobilecostError("no such device profile file", where=brief(text), field="--device")
        return candidate
    builtin = devices_dir() / f"{text}.yaml"
    if is_file(builtin, text):
        return builtin
    known = list_devices()
    close = [k for k in known if k.startswith(text)][:3] or difflib.get_close_matches(text, known, n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; known devices: {', '.join(known)}"
    raise MobilecostError(f"unknown device {brief(repr(text))}{hint} (or give the path of a profile .yaml)",
                          field="--device")
