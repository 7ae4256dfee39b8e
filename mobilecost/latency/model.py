"""Simulated latency: a roofline-style time per layer on a device profile.

For every executed step of the network

    time = max(MACs / (peak x efficiency[class]), bytes moved / (bandwidth x efficiency[memory])) + overhead

where the class is full conv, pointwise, depthwise or fully connected. Element-wise steps (pooling,
SE scaling, residual add, softmax, and activations that are not fused into the producing layer:
h-swish and h-sigmoid) have no multiply-accumulates and are costed by the bytes they move,
``bytes / (bandwidth x efficiency[elementwise]) + elementwise overhead``. Bytes moved are the step's
input and output activations plus its weights and biases, at the profile's precision; a step whose
bytes fit in the profile's cache streams at cache bandwidth, otherwise at DRAM bandwidth. The total
adds a fixed cost once per inference (invoking the runtime, copying the input in and the result
out). The two fixed costs beyond the per-step overhead were kept because they lowered held-out error
on published measurements (benchmarks/latency_validation.py): the per-inference cost above all on
GPUs and NNAPI, where a tiny network still takes milliseconds.

A runtime whose depthwise kernel is fast only on whole blocks of channels (a profile's `layout`:
onnxruntime's, on blocks of 4) runs a depthwise layer off those blocks in a slower kernel: its compute
takes MACs / (peak x unblocked) more, and its overhead a fixed cost per channel more
(benchmarks/depthwise_channels.py measures both). A runtime that pads a 1x1 convolution's channels to
blocks (onnxruntime's NCHWc blocks of 16 with AVX-512) does the padded layer's work, plus a cost per
output element, and more on an input narrower than one block (benchmarks/pointwise_shapes.py).

Each layer is labelled with the term that is largest in the model: ``compute``, ``memory`` or
``overhead`` (a label of the model, not a measured bottleneck; reports print it as "compute term"
beside the attained share of peak). The model is linear in the inverse efficiencies and the overhead once the
compute/memory branch of each layer is fixed, which is what `calibrate` fits.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ..count.ops import Blocking, ExtraReads, record_of
from ..numeric.column_math import (
    choose, divide_by_threshold, entrywise, first_largest, maximum, per_layer, positive, scaled, total,
)
from .figures import figures_of

# The MAC classes, each with its own efficiency.
MAC_CLASSES = ("conv", "pointwise", "depthwise", "fc")
# Activations that runtimes (TFLite, ncnn) execute as a separate element-wise pass; ReLU and ReLU6
# are fused into the producing convolution.
SEPARATE_ACTS = frozenset({"hswish", "hsigmoid", "swish", "sigmoid", "gelu"})
BOUNDS = ("compute", "memory", "overhead")
# The per-layer fields the model reads (on a grid only these are built).
MODEL_FIELDS = ("in_ch", "out_ch", "macs", "weights", "biases", "act_in", "act_out")


@dataclass(frozen=True)
class Parameters:
    """What calibration fits: inverse efficiencies (1 / efficiency) and the per-step overhead in ms."""

    conv: float
    pointwise: float
    depthwise: float
    fc: float
    memory: float  # the memory branch of layers with MACs
    elementwise: float  # layers without MACs, and separate activation passes
    overhead_ms: float
    fixed_ms: float = 0.0  # once per inference: invoking the runtime, copying the input in and the result out
    elementwise_overhead_ms: float | None = None  # per element-wise step; None: the same as overhead_ms
    unblocked: float = 0.0  # added to a layer's class for compute outside the runtime's channel blocks
    unblocked_channel_ms: float = 0.0  # per channel of a layer outside the runtime's channel blocks

    def __post_init__(self):
        if self.elementwise_overhead_ms is None:
            object.__setattr__(self, "elementwise_overhead_ms", self.overhead_ms)

    @classmethod
    def of(cls, value) -> "Parameters":
        """A Parameters from itself or from a vector in field order (what the least-squares fit works on)."""
        return value if isinstance(value, cls) else cls(*(float(v) for v in value))

    def vector(self):
        import numpy as np

        return np.array([getattr(self, f.name) for f in fields(self)])


PARAMS = tuple(f.name for f in fields(Parameters))


def parameters_of(profile) -> Parameters:
    """`profile`: a `devices.DeviceProfile` or its `figures.DeviceFigures`."""
    device = figures_of(profile)
    eff = device.efficiency
    return Parameters(1 / eff["conv"], 1 / eff["pointwise"], 1 / eff["depthwise"], 1 / eff["fc"], 1 / eff["memory"],
                      1 / eff["elementwise"], device.overhead_us / 1000.0, device.per_inference_us / 1000.0,
                      (device.overhead_us if device.elementwise_us is None else device.elementwise_us) / 1000.0,
                      1 / device.unblocked if device.channel_block else 0.0,
                      device.unblocked_channel_us / 1000.0 if device.channel_block else 0.0)


def theta_of(profile):
    """`parameters_of` as a vector in `PARAMS` order."""
    return parameters_of(profile).vector()


@dataclass(frozen=True)
class Terms:
    """The model's per-layer terms at efficiency 1 (columns: layers x points, or one configuration's)."""

    mac_class: tuple  # per layer: index into MAC_CLASSES, or -1 for element-wise steps
    compute_ms: object  # MACs / peak
    memory_ms: object  # the layer's own bytes moved / bandwidth
    act_ms: object  # a separate activation pass: bytes / bandwidth
    steps: object  # executed multiply-accumulate steps (0 for an absent layer)
    ew_steps: object  # executed element-wise steps (0 for an absent shortcut), separate activation passes included
    bytes_moved: object  # the layer's own bytes plus its separate activation pass
    # compute_ms and channels of the layers outside the runtime's channel blocks, 0 elsewhere; None: no blocks
    unblocked_ms: object = None
    unblocked_channels: object = None
    padded: tuple = ()  # per layer: whether the runtime pads its channels to blocks (empty: no layer is)

    def column_names(self) -> tuple:
        """The names of the per-layer columns this Terms holds."""
        return tuple(f.name for f in fields(self)
                     if f.name not in ("mac_class", "padded") and getattr(self, f.name) is not None)


def _per_layer(layers):
    """What the model reads from each layer's op record: its MAC class and the tensors it reads besides
    its input (a residual add its second input in full, an SE scale its per-channel gate, a concatenation
    every further input: its output less its first input)."""
    records = [record_of(layer) for layer in layers]
    mac_class = tuple(MAC_CLASSES.index(r.latency_class) if r.latency_class in MAC_CLASSES else -1 for r in records)
    second_input = [1.0 if r.extra_reads == ExtraReads.second_input else 0.0 for r in records]
    gate = [1.0 if r.extra_reads == ExtraReads.channel_gate else 0.0 for r in records]
    other_inputs = [1.0 if r.extra_reads == ExtraReads.other_inputs else 0.0 for r in records]
    separate = [1.0 if (layer.act or "") in SEPARATE_ACTS else 0.0 for layer in layers]
    return mac_class, second_input, gate, other_inputs, separate, [r.blocking for r in records]


def layer_terms(profile, values) -> Terms:
    """The model's per-layer terms from the numeric stage's values (any form: points, grid or one
    configuration); `profile`: a `devices.DeviceProfile` or its `figures.DeviceFigures`."""
    device = figures_of(profile)
    mac_class, second_input, gate, other_inputs, separate, blocking = _per_layer(values.layers)
    values.need(MODEL_FIELDS)
    dtype = device.dtype_bytes
    act_in, act_out = values["act_in"], values["act_out"]
    second_input, gate, other_inputs, separate = (per_layer(act_out, c)
                                                  for c in (second_input, gate, other_inputs, separate))
    nbytes = (act_in + act_out + values["weights"] + values["biases"] + act_in * second_input
              + values["out_ch"] * gate + (act_out - act_in) * other_inputs) * dtype
    act_bytes = act_out * (2.0 * dtype) * separate  # read and written once more, element-wise

    def stream_ms(x):  # bytes / bandwidth: cache bandwidth where the bytes fit in the cache, else DRAM
        return divide_by_threshold(x, device.cache_bytes, device.cache_gb_s * 1e6, device.dram_gb_s * 1e6)

    present = positive(act_out)  # 0 where a layer is absent (a shortcut between blocks of different widths)
    with_macs = per_layer(act_out, [1.0 if c >= 0 else 0.0 for c in mac_class])
    without_macs = per_layer(act_out, [0.0 if c >= 0 else 1.0 for c in mac_class])
    compute_ms = values["macs"] / (device.gmacs * 1e6)
    if device.pointwise_block:
        block, per_output, narrow = device.pointwise_block, device.per_output_macs, device.narrow_input

        def work(i, in_ch, out_ch):
            return blocking[i].work_factor(in_ch, out_ch, block, per_output, narrow)

        compute_ms = scaled(compute_ms, work, values["in_ch"], values["out_ch"])
    unblocked_ms = unblocked_channels = None
    if device.channel_block:
        block, channels = device.channel_block, values["out_ch"]

        def outside(i, c):
            return blocking[i].outside(c, block)

        unblocked_ms, unblocked_channels = scaled(compute_ms, outside, channels), scaled(channels, outside, channels)
    return Terms(
        mac_class=mac_class,
        padded=tuple(b == Blocking.gemm for b in blocking) if device.pointwise_block else (),
        compute_ms=compute_ms,
        memory_ms=stream_ms(nbytes),
        act_ms=stream_ms(act_bytes),
        steps=present * with_macs,
        ew_steps=present * (without_macs + separate),
        bytes_moved=nbytes + act_bytes,
        unblocked_ms=unblocked_ms,
        unblocked_channels=unblocked_channels,
    )


def layer_times(terms: Terms, params) -> dict:
    """Per-layer compute, memory, overhead and total time in ms (columns), and, except on a grid, the bound.

    time = max(compute, own memory) + separate activation pass + overhead; ``memory_ms`` includes the pass."""
    p = Parameters.of(params)
    like, mac_class = terms.compute_ms, terms.mac_class  # class -1 (element-wise) picks the last option
    compute = terms.compute_ms * choose(like, mac_class, (p.conv, p.pointwise, p.depthwise, p.fc, 0.0))
    if terms.unblocked_ms is not None:
        compute = compute + terms.unblocked_ms * p.unblocked
    own_memory = terms.memory_ms * choose(like, mac_class, (p.memory,) * len(MAC_CLASSES) + (p.elementwise,))
    act_pass = terms.act_ms * p.elementwise  # a separate step: added, not overlapped with the layer
    overhead = terms.steps * p.overhead_ms + terms.ew_steps * p.elementwise_overhead_ms
    if terms.unblocked_channels is not None:
        overhead = overhead + terms.unblocked_channels * p.unblocked_channel_ms
    out = {"compute_ms": compute, "memory_ms": own_memory + act_pass, "overhead_ms": overhead,
           "time_ms": maximum(compute, own_memory) + act_pass + overhead}
    bound = first_largest([compute, out["memory_ms"], overhead], BOUNDS)
    if bound is not None:
        out["bound"] = bound
    return out


def limits(profile, terms: Terms, times: dict, params):
    """What limits each layer, in the model's own terms (not on a grid): compute at the class's fitted
    efficiency e (so a depthwise layer at e = 0.06 attains at most 6 % of peak; outside the runtime's channel
    blocks, the lower efficiency there), bandwidth of the cache or DRAM at the memory efficiency, or the fixed
    per-step overhead (and, outside the channel blocks, the cost per channel)."""
    device = figures_of(profile)
    p, cache_bytes = Parameters.of(params), device.cache_bytes
    per_class = (p.conv, p.pointwise, p.depthwise, p.fc)
    outside = terms.unblocked_channels if terms.unblocked_channels is not None else terms.compute_ms * 0.0
    blocks = f"outside {device.channel_block}-channel blocks"
    padded = f", padded to {device.pointwise_block}-channel blocks" if device.pointwise_block else ""

    def limit(i, bound, nbytes, channels_outside):
        c = terms.mac_class[i]
        if bound == "compute":
            if float(channels_outside) > 0:
                return f"compute at e={1 / (per_class[c] + p.unblocked):.2g} ({MAC_CLASSES[c]}, {blocks})"
            shape = padded if terms.padded and terms.padded[i] else ""
            return f"compute at e={1 / per_class[c]:.2g} ({MAC_CLASSES[c]}{shape})"
        if bound == "memory":
            place = "cache" if float(nbytes) <= cache_bytes else "DRAM"
            e = 1 / (p.memory if c >= 0 else p.elementwise)
            return f"{place} bandwidth at e={e:.2g}"
        if float(channels_outside) > 0:
            return f"fixed costs per step and per channel {blocks}"
        return "fixed per-step overhead"

    return entrywise(limit, times["bound"], terms.bytes_moved, outside)


def total_latency(profile, values, params=None):
    """Simulated total latency in ms at every point of `values` (on a grid: (alphas, rhos))."""
    p = parameters_of(profile) if params is None else Parameters.of(params)
    times = layer_times(layer_terms(profile, values), p)
    return total(times["time_ms"]) + p.fixed_ms


def features(terms: Terms, params):
    """The total time as a linear function of the parameters, each layer's compute/memory branch fixed
    where `params` puts it: F (points x PARAMS) with F @ params.vector() the total time at every point
    (numpy columns)."""
    import numpy as np

    p = Parameters.of(params)
    mac_class = np.asarray(terms.mac_class)
    mac = (mac_class >= 0)[:, None]
    times = layer_times(terms, p)
    own_memory = np.where(mac, terms.memory_ms * p.memory, 0.0)
    compute_bound = mac & (times["compute_ms"] >= own_memory)
    out = np.zeros((terms.compute_ms.shape[1], len(PARAMS)))
    for c in range(len(MAC_CLASSES)):
        rows = compute_bound & (mac_class == c)[:, None]
        out[:, c] = np.where(rows, terms.compute_ms, 0.0).sum(axis=0)
    out[:, 4] = np.where(mac & ~compute_bound, terms.memory_ms, 0.0).sum(axis=0)
    out[:, 5] = np.where(mac, 0.0, terms.memory_ms).sum(axis=0) + terms.act_ms.sum(axis=0)
    out[:, 6] = terms.steps.sum(axis=0)
    out[:, 7] = 1.0
    out[:, 8] = terms.ew_steps.sum(axis=0)
    if terms.unblocked_ms is not None:
        out[:, PARAMS.index("unblocked")] = np.where(compute_bound, terms.unblocked_ms, 0.0).sum(axis=0)
        out[:, PARAMS.index("unblocked_channel_ms")] = terms.unblocked_channels.sum(axis=0)
    return out


def describe(profile) -> dict:
    """What a report prints about the profile beside a simulated latency."""
    device = figures_of(profile)
    return {
        "name": device.name, "title": device.title, "runtime": device.runtime, "threads": device.threads,
        "precision": device.precision, "peak": device.peak_text, "status": device.status,
        "obtained": device.obtained, "calibration_error": device.error_label, "band": device.band_rule,
        "path": device.path,
    }
