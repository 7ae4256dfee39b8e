"""Device profiles: hardware + runtime + threads + precision, read from YAML and validated.

A profile is named by a built-in name (``tables/devices/<name>.yaml``) or by the path of a
profile file (for instance one written by ``mobilecost calibrate``). Every number carries its
source; ``status`` says whether the figures are spec-only or calibrated, and on what.
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import MobilecostError
from ..conventions import DTYPE_BYTES as ACTIVATION_BYTES
from ..spec.loader import first_error, read_located_yaml
from ..spec.models import NumbersNotBooleans
from ..spec.files import display_path, read_text_file
from .figures import Band, EFFICIENCIES, OP_CLASSES, devices_dir, list_devices, resolve_device  # noqa: F401 (named here too)

DTYPE_BYTES = {**ACTIVATION_BYTES, "uint8": 1}  # a profile's precision may also be uint8


class _Strict(NumbersNotBooleans):
    # Numbers are finite: an `.inf` clock would make every layer free and print wrong latencies.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# Bounds far beyond any device, low enough that a mistyped value is refused at its key:
MAX_CORES = 1_000_000
MAX_THREADS = 4096
MAX_CACHE_BYTES = 2**50  # 1 PiB
RATE = dict(ge=1e-3, le=1e6)  # GHz, MACs per cycle, GB/s
# Calibration keeps 1 / efficiency >= 1e-6 and rounds efficiencies to 6 decimals; below 1e-6 (5e-324 is
# above 0) a layer's time overflows to inf ms.
EFFICIENCY = dict(ge=1e-6, le=1e6)


class Peak(_Strict):
    """Peak multiply-accumulate rate = clock x MACs per cycle per core x cores used."""

    clock_ghz: float = Field(**RATE)
    macs_per_cycle: float = Field(**RATE, description="per core, at the profile's precision")
    cores: int = Field(ge=1, le=MAX_CORES)
    source: str = Field(min_length=1)

    @property
    def gmacs(self) -> float:
        return self.clock_ghz * self.macs_per_cycle * self.cores

    def arithmetic(self) -> str:
        cores = "core" if self.cores == 1 else "cores"
        return (f"{self.clock_ghz:g} GHz x {self.macs_per_cycle:g} MAC/cycle x {self.cores} {cores}"
                f" = {self.gmacs:.4g} GMAC/s")


class Memory(_Strict):
    """Bandwidth: a layer whose bytes fit in `cache_bytes` streams at cache speed, others at DRAM speed."""

    cache_bytes: int = Field(ge=0, le=MAX_CACHE_BYTES)
    cache_gb_s: float = Field(**RATE)
    dram_gb_s: float = Field(**RATE)
    source: str = Field(min_length=1)


class Efficiency(_Strict):
    """Achieved fraction of peak (MAC classes) or of bandwidth (memory, elementwise)."""

    conv: float = Field(**EFFICIENCY)
    pointwise: float = Field(**EFFICIENCY)
    depthwise: float = Field(**EFFICIENCY)
    fc: float = Field(**EFFICIENCY)
    memory: float = Field(**EFFICIENCY)
    elementwise: float = Field(**EFFICIENCY)
    source: str = Field(min_length=1)


class Overhead(_Strict):
    us: float = Field(ge=0, le=1e6, description="fixed cost of every executed step (op dispatch, kernel launch)")
    elementwise_us: Optional[float] = Field(default=None, ge=0, le=1e6,
                                            description="fixed cost of every element-wise step; absent: `us`")
    per_inference_us: float = Field(default=0.0, ge=0, le=1e7,
                                    description="fixed cost of every inference (invoking the runtime, input and output copies)")
    source: str = Field(min_length=1)


class Layout(_Strict):
    """A runtime whose kernels take channels in blocks.

    Depthwise (`channel_block`): a depthwise layer whose channels are not whole blocks runs in a slower, generic
    kernel: its compute takes MACs / (peak x unblocked) on top of its class's time, plus `per_channel_us` for
    each of its channels. Pointwise (`pointwise_block`): a 1x1 convolution's input and output channels are
    rounded up to whole blocks, each output element costs `per_output_macs` MACs more, and an input of fewer
    channels than one block takes `narrow_input` times as long (`count.ops.Blocking.work_factor`)."""

    channel_block: Optional[int] = Field(default=None, ge=2, le=1024)
    unblocked: Optional[float] = Field(default=None, **EFFICIENCY)
    per_channel_us: Optional[float] = Field(default=None, ge=0, le=1e6)
    pointwise_block: Optional[int] = Field(default=None, ge=2, le=1024)
    per_output_macs: float = Field(default=0.0, ge=0, le=1e4)
    narrow_input: float = Field(default=1.0, ge=1, le=100)
    isa: Optional[str] = Field(default=None, min_length=1, max_length=64,
                               description="the vector instruction set the blocks were measured with (avx512f)")
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _complete(self):
        depthwise = (self.channel_block, self.unblocked, self.per_channel_us)
        if any(v is not None for v in depthwise) and any(v is None for v in depthwise):
            raise ValueError("channel_block, unblocked and per_channel_us go together (the depthwise channel blocks)")
        if self.channel_block is None and self.pointwise_block is None:
            raise ValueError("a layout needs channel_block (depthwise) or pointwise_block (1x1 convolutions)")
        return self


# Up to this many rows each is predicted by a fit without it (leave-one-out); beyond, the rows are dealt into
# this many folds (row i into fold i mod HELD_OUT_FOLDS) and each row is predicted by a fit without its fold,
# so that the held-out fits stay this many whatever the rows.
HELD_OUT_FOLDS = 50


def held_out_rule(rows: int) -> str:
    """How a calibration of `rows` rows predicted each row without it: 'leave-one-out' or 'N-fold held-out'."""
    return "leave-one-out" if rows <= HELD_OUT_FOLDS else f"{HELD_OUT_FOLDS}-fold held-out"


class Calibration(_Strict):
    base: str = Field(min_length=1)
    data: str = Field(min_length=1)
    rows: tuple[str, ...] = Field(min_length=1)
    fit_mape_pct: float = Field(ge=0)
    loo_mape_pct: Optional[float] = Field(default=None, ge=0)
    # Relative errors (predicted - measured) / measured in %, one per row, in the order of `rows`:
    residuals_pct: Optional[tuple[float, ...]] = None  # of the fit on all rows
    loo_residuals_pct: Optional[tuple[float, ...]] = None  # each row predicted by a fit without it (`held_out_rule`)
    # The smallest and the largest MACs of the rows: a prediction outside them extrapolates from the rows.
    macs_span: Optional[tuple[int, int]] = None

    @field_validator("macs_span")
    @classmethod
    def _ordered(cls, span):
        if span is not None and not 0 <= span[0] <= span[1]:
            raise ValueError("the smallest and the largest MACs of the rows, in that order")
        return span


class StatedError(_Strict):
    """The error a profile without leave-one-out residuals claims, as a symmetric band of +-pct."""

    pct: float = Field(gt=0, lt=100)
    source: str = Field(min_length=1)


# What a spec-only profile that states no error is assumed to err by. benchmarks/latency_validation.py
# reports 6.7 % mean absolute error for profiles calibrated on 4 rows of the same group and 21.1 % when
# a family is predicted from others; a spec-only profile has not seen its device at all (its speed factor is
# a guess), so twice the worse of the two, rounded up, is assumed.
SPEC_ONLY_ERROR = StatedError(
    pct=50.0, source="assumed for spec-only profiles: over twice the 21.1 % cross-family held-out error that "
                     "benchmarks/latency_validation.py reports after calibration; the device was never measured")


class DeviceProfile(_Strict):
    name: str = Field(min_length=1)
    title: str = Field(min_length=1)
    hardware: str = Field(min_length=1)
    runtime: str = Field(min_length=1)
    threads: int = Field(ge=1, le=MAX_THREADS)
    precision: Literal["fp32", "fp16", "int8", "uint8"]
    peak: Peak
    memory: Memory
    efficiency: Efficiency
    overhead: Overhead
    layout: Optional[Layout] = None
    status: Literal["spec-only", "calibrated"]
    obtained: str = Field(min_length=1, description="how the figures were obtained, in one sentence")
    calibration: Optional[Calibration] = None
    stated_error: Optional[StatedError] = None
    path: Optional[str] = Field(default=None, exclude=True)

    @property
    def dtype_bytes(self) -> int:
        return DTYPE_BYTES[self.precision]

    @property
    def calibrated_macs(self) -> tuple[int, int] | None:
        """The smallest and largest MACs of the calibration rows, when the profile records them."""
        if self.calibration is None or self.calibration.macs_span is None:
            return None
        return tuple(self.calibration.macs_span)

    def error_label(self) -> str:
        """The calibration error as printed beside every simulated latency."""
        if self.calibration is None:
            return "uncalibrated (no measurements of this device)"
        loo = self.calibration.loo_mape_pct
        loo_text = f", {held_out_rule(len(self.calibration.rows))} {loo:.1f} %" if loo is not None else ""
        return f"calibration fit error {self.calibration.fit_mape_pct:.1f} %{loo_text} on {len(self.calibration.rows)} rows"

    def band(self) -> Band:
        """The error band around every simulated latency on this profile (see `Band`)."""
        cal = self.calibration
        if cal is not None and cal.loo_residuals_pct:
            hi, lo = max(max(cal.loo_residuals_pct), 0.0), min(min(cal.loo_residuals_pct), 0.0)
            lo = max(lo, -99.0)  # a row predicted at 0 ms (-100 %): the band's top would be infinite
            return Band(1 / (1 + hi / 100), 1 / (1 + lo / 100),
                        f"band from the {held_out_rule(len(cal.loo_residuals_pct))} residuals of "
                        f"{len(cal.loo_residuals_pct)} rows "
                        f"({lo:+.1f} % to {hi:+.1f} %)")
        if self.stated_error is not None:
            pct, how = self.stated_error.pct, f"stated by the profile ({self.stated_error.source})"
        elif cal is not None and cal.loo_mape_pct is not None:
            pct, how = cal.loo_mape_pct, f"the stated {held_out_rule(len(cal.rows))} mean error (no residuals stored)"
        elif cal is not None:
            pct, how = cal.fit_mape_pct, "the fit error (too few rows for leave-one-out)"
        else:
            pct, how = SPEC_ONLY_ERROR.pct, SPEC_ONLY_ERROR.source
        pct = min(pct, 99.0)  # a band that reaches zero says nothing
        return Band(1 - pct / 100, 1 + pct / 100, f"+-{pct:g} % band: {how}")

    def label(self) -> str:
        return (f"simulated latency on {self.name} ({self.title}); source: {self.obtained}; "
                f"{self.status}: {self.error_label()}; {self.band().rule}")


def load_device(device) -> DeviceProfile:
    """A built-in device name, a profile path, or an already loaded profile."""
    if isinstance(device, DeviceProfile):
        return device
    path = resolve_device(device)
    shown = display_path(path)
    return parse_device(read_text_file(path, shown, "a device profile"), shown)


def parse_device(text: str, path: str) -> DeviceProfile:
    document = read_located_yaml(text, path)
    if not isinstance(document, dict):
        raise MobilecostError("a device profile is a YAML mapping (name, title, hardware, runtime, ...)", where=path)
    try:
        profile = DeviceProfile.model_validate(dict(document))
    except ValidationError as exc:
        raise first_error(exc, document, path) from None
    if profile.status == "calibrated" and profile.calibration is None:
        raise MobilecostError("a calibrated profile needs a calibration block (base, data, rows, fit_mape_pct)",
                              where=f"{path}:{document.lines['status']}", field="calibration")
    return profile.model_copy(update={"path": path})


def dump_device(profile: DeviceProfile) -> str:
    """The profile as YAML text, in the order of the shipped profiles."""
    import yaml

    data = profile.model_dump(mode="json", exclude_none=True)
    if "calibration" in data:
        for key in ("rows", "residuals_pct", "loo_residuals_pct"):
            if key in data["calibration"]:
                data["calibration"][key] = list(data["calibration"][key])
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)


__all__ = ["Band", "DeviceProfile", "SPEC_ONLY_ERROR", "StatedError", "EFFICIENCIES", "OP_CLASSES", "dump_device", "list_devices", "load_device",
           "parse_device", "resolve_device"]
