"""Simulated latency: a roofline-style time per layer on a device profile.

For every executed step of the network

    time = max(MACs / (peak x efficiency[class]), bytes moved / (bandwidth x efficiency[memory])) + overhead

where the class is full conv, pointwise, depthwise or fully connected. Element-wise steps (pooling,
SE scaling, residual add, softmax, and activations that are not fused into the producing layer:
h-swish and h-sigmoid) have no multiply-accumulates and are costed by the bytes they move,
``bytes / (bandwidth x efficiency[elementwise]) + overhead``. Bytes moved are the step's input and
output activations plus its weights and biases, at the profile's precision; a step whose bytes
fit in the profile's cache streams at cache bandwidth, otherwise at DRAM bandwidth.

Each layer is labelled with what bounds it: ``compute``, ``memory`` or ``overhead`` (whichever
term is largest). The model is linear in the inverse efficiencies and the overhead once the
compute/memory branch of each layer is fixed, which is what `calibrate` fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .devices import DeviceProfile, load_device
from ..spec.layers import FIELDS
from ..numeric.evaluation import layer_function

if TYPE_CHECKING:  # the engine (and sympy) only for annotations: a one-configuration estimate needs neither
    from ..count.engine import CostTable

# Fitted parameters, in this order: inverse efficiencies (1/eff) and the per-step overhead in ms.
PARAMS = ("conv", "pointwise", "depthwise", "fc", "memory", "elementwise", "overhead")
MAC_CLASS = {"conv": 0, "pointwise": 1, "depthwise": 2, "fc": 3}
# Activations that runtimes (TFLite, ncnn) execute as a separate element-wise pass; ReLU and ReLU6
# are fused into the producing convolution.
SEPARATE_ACTS = frozenset({"hswish", "hsigmoid", "swish", "sigmoid"})
BOUNDS = ("compute", "memory", "overhead")


@dataclass(frozen=True)
class Terms:
    """Per-layer quantities at efficiency 1 (arrays: layers x points)."""

    mac_class: np.ndarray  # per layer: 0..3, or -1 for element-wise steps
    compute_ms: np.ndarray  # MACs / peak
    memory_ms: np.ndarray  # bytes moved / bandwidth
    act_ms: np.ndarray  # separate activation pass: bytes / bandwidth
    steps: np.ndarray  # executed steps (0 for an absent shortcut, 2 with a separate activation)
    bytes_moved: np.ndarray  # the layer's own bytes plus its separate activation pass


def layer_fields(costs: CostTable, alpha, rho) -> dict[str, np.ndarray]:
    """Every per-layer field over 1-D arrays of alpha and rho: field -> array (layers x points)."""
    alpha = np.atleast_1d(np.asarray(alpha, dtype=float))
    rho = np.atleast_1d(np.asarray(rho, dtype=float))
    shape = np.broadcast_shapes(alpha.shape, rho.shape)
    raw = layer_function(costs)(alpha, rho)
    n, m = len(FIELDS), len(costs.layers)
    out = {}
    for j, field in enumerate(FIELDS):
        values = np.stack([np.broadcast_to(np.asarray(raw[i * n + j], dtype=float), shape) for i in range(m)])
        out[field] = np.rint(values) if costs.mode == "exact" else values
    return out


def _bandwidth(profile: DeviceProfile, nbytes: np.ndarray) -> np.ndarray:
    mem = profile.memory
    return np.where(nbytes <= mem.cache_bytes, mem.cache_gb_s, mem.dram_gb_s)


def layer_terms(profile: DeviceProfile, ops, acts, fields: dict) -> Terms:
    """The model's per-layer terms from the engine's fields (arrays: layers x points)."""
    ops = list(ops)
    cls = np.array([MAC_CLASS.get(op, -1) for op in ops])
    col = (slice(None), None)
    dtype = profile.dtype_bytes
    act_in, act_out = fields["act_in"], fields["act_out"]
    nbytes = (act_in + act_out + fields["weights"] + fields["biases"]).astype(float)
    is_add = np.array([op == "add" for op in ops])[col]
    is_scale = np.array([op == "scale" for op in ops])[col]
    # A residual add reads two full tensors; an SE scale also reads its per-channel gate vector.
    nbytes = nbytes + np.where(is_add, act_in, 0) + np.where(is_scale, fields["out_ch"], 0)
    nbytes = nbytes * dtype
    present = (act_out > 0).astype(float)
    separate = np.array([(a or "") in SEPARATE_ACTS for a in acts], dtype=float)[col] * present
    act_bytes = 2.0 * act_out * dtype * separate
    peak = profile.peak.gmacs * 1e6  # MACs per ms
    return Terms(
        mac_class=cls,
        compute_ms=fields["macs"] / peak,
        memory_ms=nbytes / (_bandwidth(profile, nbytes) * 1e6),
        act_ms=act_bytes / (_bandwidth(profile, act_bytes) * 1e6),
        steps=present + separate,
        bytes_moved=nbytes + act_bytes,
    )


def theta_of(profile: DeviceProfile) -> np.ndarray:
    eff = profile.efficiency
    return np.array([1 / eff.conv, 1 / eff.pointwise, 1 / eff.depthwise, 1 / eff.fc, 1 / eff.memory,
                     1 / eff.elementwise, profile.overhead.us / 1000.0])


def layer_times(terms: Terms, theta) -> dict[str, np.ndarray]:
    """Per-layer compute, memory, overhead and total time in ms (layers x points), and the bound.

    ``memory_ms`` includes a separate activation pass; time = max(compute, own memory) + pass + overhead.
    """
    theta = np.asarray(theta, dtype=float)
    mac = terms.mac_class >= 0
    col = (slice(None), None)
    compute = np.where(mac[col], terms.compute_ms * theta[np.maximum(terms.mac_class, 0)][col], 0.0)
    own_memory = terms.memory_ms * np.where(mac, theta[4], theta[5])[col]
    act_pass = terms.act_ms * theta[5]  # a separate step: added, not overlapped with the layer
    overhead = terms.steps * theta[6]
    time = np.maximum(compute, own_memory) + act_pass + overhead
    memory = own_memory + act_pass
    stacked = np.stack([compute, memory, overhead])
    bound = np.array(BOUNDS)[np.argmax(stacked, axis=0)]
    return {"compute_ms": compute, "memory_ms": memory, "overhead_ms": overhead, "time_ms": time, "bound": bound}


def features(terms: Terms, theta) -> np.ndarray:
    """Totals as a linear function of theta, with each layer's compute/memory branch fixed at theta.

    Returns F (points x params) such that F @ theta is the total time at every point.
    """
    theta = np.asarray(theta, dtype=float)
    mac = terms.mac_class >= 0
    col = (slice(None), None)
    compute = np.where(mac[col], terms.compute_ms * theta[np.maximum(terms.mac_class, 0)][col], 0.0)
    memory_mac = np.where(mac[col], terms.memory_ms, 0.0)
    compute_bound = mac[col] & (compute >= memory_mac * theta[4])
    points = terms.compute_ms.shape[1]
    out = np.zeros((points, len(PARAMS)))
    for c in range(4):
        rows = compute_bound & (terms.mac_class == c)[col]
        out[:, c] = np.where(rows, terms.compute_ms, 0.0).sum(axis=0)
    out[:, 4] = np.where(mac[col] & ~compute_bound, terms.memory_ms, 0.0).sum(axis=0)
    out[:, 5] = np.where(mac[col], 0.0, terms.memory_ms).sum(axis=0) + terms.act_ms.sum(axis=0)
    out[:, 6] = terms.steps.sum(axis=0)
    return out


def costs_terms(profile: DeviceProfile, costs: CostTable, alpha, rho) -> Terms:
    """The model's per-layer terms of a CostTable over 1-D arrays of alpha and rho (layers x points)."""
    fields = layer_fields(costs, alpha, rho)
    return layer_terms(profile, [lc.layer.op for lc in costs.layers], [lc.layer.act for lc in costs.layers], fields)


def total_latency(profile: DeviceProfile, costs: CostTable, alpha, rho, theta=None) -> np.ndarray:
    """Simulated total latency in ms over 1-D arrays of alpha and rho (vectorised)."""
    terms = costs_terms(profile, costs, alpha, rho)
    return layer_times(terms, theta_of(profile) if theta is None else theta)["time_ms"].sum(axis=0)


def sweep_latency(costs: CostTable, device, alpha, rho) -> np.ndarray:
    return total_latency(load_device(device), costs, alpha, rho)


# The grid path: the same model over a full grid alphas x rhos, from separated factors.
#
# Every per-layer count is a sum of (alpha-only) x (rho-only) terms (numeric.grid_factors), so each
# layer's MACs and bytes over the grid are small matrix products of factor rows. Wherever a layer's
# bandwidth (cache or DRAM) and its bound (compute or memory) are the same over the whole grid --
# decided from the factors' extremes -- its time is linear in those terms and joins one matrix
# product shared by all such layers; only the rest is evaluated point by point, in place, into one
# (alphas x rhos) total.

_GRID_FIELDS = ("macs", "act_in", "act_out", "weights", "biases", "out_ch")
_MARGIN = 1e-12  # relative: a byte count this close to the cache size is decided point by point


class _Sums:
    """Weighted sums of factor terms, one per layer: sum_k coef[k] * outer(a[term[k]], r[term[k]])."""

    def __init__(self, layers: int):
        self.layers, self.owner, self.term, self.coef = layers, [], [], []

    def add(self, layer: int, terms, coef: float) -> None:
        self.owner.extend([layer] * len(terms))
        self.term.extend(terms)
        self.coef.extend([coef] * len(terms))

    def freeze(self, lo_t: np.ndarray, hi_t: np.ndarray) -> "_Sums":
        self.owner, self.term = np.array(self.owner, dtype=np.int64), np.array(self.term, dtype=np.int64)
        self.coef = np.array(self.coef, dtype=float)
        self.starts = np.searchsorted(self.owner, np.arange(self.layers + 1))
        low = np.where(self.coef >= 0, self.coef * lo_t[self.term], self.coef * hi_t[self.term])
        high = np.where(self.coef >= 0, self.coef * hi_t[self.term], self.coef * lo_t[self.term])
        # Bounds of every sum over the grid: each term's extremes, summed (exact for one-term sums).
        self.lo = np.bincount(self.owner, low, self.layers)
        self.hi = np.bincount(self.owner, high, self.layers)
        return self

    def of(self, layer: int, scale: float = 1.0):
        rows = slice(self.starts[layer], self.starts[layer + 1])
        return self.term[rows], self.coef[rows] * scale


def _grid_into(a, r, parts, out):
    """sum over parts of coef x outer(a[term], r[term]) on the grid, written into `out`."""
    terms = np.concatenate([t for t, _ in parts])
    coefs = np.concatenate([c for _, c in parts])
    return np.matmul((a[terms] * coefs[:, None]).T, r[terms], out=out)


def _memory_into(profile: DeviceProfile, a, r, nbytes, scale: float, out, mask):
    """scale x bytes / bandwidth at every point, the bandwidth chosen point by point (in place)."""
    mem = profile.memory
    _grid_into(a, r, [nbytes], out)
    np.less_equal(out, mem.cache_bytes, out=mask)
    dram = scale / (mem.dram_gb_s * 1e6)
    np.multiply(out, dram, out=out)
    np.multiply(out, (scale / (mem.cache_gb_s * 1e6)) / dram, out=out, where=mask)
    return out


def _grid_terms(costs: CostTable, alphas, rhos):
    """Factor rows a (terms, alphas), r (terms, rhos) and, per layer and field, its term indices; or None."""
    from ..numeric.evaluation import grid_factors

    exprs = [lc.exprs[f] for lc in costs.layers for f in _GRID_FIELDS]
    parts = grid_factors(costs, "latency-fields", exprs, alphas, rhos)
    if parts is None:
        return None
    a, r, groups = parts
    # Exact mode rounds every count to a whole number; with whole factors every product is exact already.
    if costs.mode == "exact" and not (np.array_equal(a, np.rint(a)) and np.array_equal(r, np.rint(r))):
        return None
    n = len(_GRID_FIELDS)
    fields = [{f: groups[i * n + j].tolist() for j, f in enumerate(_GRID_FIELDS)} for i in range(len(costs.layers))]
    return a, r, fields


def grid_latency(profile: DeviceProfile, costs: CostTable, alphas, rhos, theta=None) -> np.ndarray:
    """Simulated total latency in ms over the grid alphas x rhos: array (alphas, rhos).

    The model of `total_latency`, with the same numbers up to float rounding in the order of sums."""
    alphas = np.atleast_1d(np.asarray(alphas, dtype=float))
    rhos = np.atleast_1d(np.asarray(rhos, dtype=float))
    theta = theta_of(profile) if theta is None else np.asarray(theta, dtype=float)
    found = _grid_terms(costs, alphas, rhos)
    if found is None:  # not separable into whole factors: point by point
        a, r = np.meshgrid(alphas, rhos, indexing="ij")
        return total_latency(profile, costs, a.ravel(), r.ravel(), theta).reshape(a.shape)
    a, r, fields = found
    mem, dtype, peak = profile.memory, profile.dtype_bytes, profile.peak.gmacs * 1e6
    ops = [lc.layer.op for lc in costs.layers]
    cls = np.array([MAC_CLASS.get(op, -1) for op in ops])
    separate = np.array([(lc.layer.act or "") in SEPARATE_ACTS for lc in costs.layers])
    count = len(ops)
    nbytes, compute, act_out = _Sums(count), _Sums(count), _Sums(count)
    for i, (op, f) in enumerate(zip(ops, fields)):
        # Bytes moved: input, output, weights, biases; an add reads two full tensors, an SE scale its gate vector.
        nbytes.add(i, f["act_in"], dtype * (2.0 if op == "add" else 1.0))
        for name in ("act_out", "weights", "biases") + (("out_ch",) if op == "scale" else ()):
            nbytes.add(i, f[name], float(dtype))
        if cls[i] >= 0:
            compute.add(i, f["macs"], theta[cls[i]] / peak)
        act_out.add(i, f["act_out"], 1.0)
    a_lo, a_hi, r_lo, r_hi = a.min(axis=1), a.max(axis=1), r.min(axis=1), r.max(axis=1)
    corners = np.stack([a_lo * r_lo, a_lo * r_hi, a_hi * r_lo, a_hi * r_hi])
    lo_t, hi_t = corners.min(axis=0), corners.max(axis=0)
    for sums in (nbytes, compute, act_out):
        sums.freeze(lo_t, hi_t)

    def rate(lo, hi):  # ms per byte where the whole grid streams at one bandwidth, else nan
        return np.where(hi <= mem.cache_bytes * (1 - _MARGIN), 1 / (mem.cache_gb_s * 1e6),
                        np.where(lo > mem.cache_bytes * (1 + _MARGIN), 1 / (mem.dram_gb_s * 1e6), np.nan))

    shape = (alphas.size, rhos.size)
    total, buf, other = np.zeros(shape), np.empty(shape), np.empty(shape)
    mask = np.empty(shape, dtype=bool)
    linear, constant = [], 0.0  # (terms, coefs) added at the end as one matrix product; a constant
    mac = cls >= 0
    own = np.where(mac, theta[4], theta[5])
    own_rate = rate(nbytes.lo, nbytes.hi) * own  # ms per byte, nan where the bandwidth varies
    compute_bound = mac & (compute.lo >= nbytes.hi * own_rate)
    memory_bound = mac & ~compute_bound & (nbytes.lo * own_rate >= compute.hi)
    act_rate = rate(2.0 * dtype * act_out.lo, 2.0 * dtype * act_out.hi) * theta[5]
    steps = theta[6] * np.where(separate, 2.0, 1.0)  # one step, two with a separate activation pass
    for i in range(count):
        # Overhead of every executed step (none for an absent shortcut, where act_out is 0).
        if act_out.lo[i] > 0:
            constant += steps[i]
        elif act_out.hi[i] > 0:
            t, _ = act_out.of(i)
            if len(t) == 1:  # present = outer(a > 0, r > 0) + outer(a < 0, r < 0)
                np.add(total, steps[i] * (np.outer(a[t[0]] > 0, r[t[0]] > 0) + np.outer(a[t[0]] < 0, r[t[0]] < 0)),
                       out=total)
            else:
                np.greater(_grid_into(a, r, [act_out.of(i)], buf), 0, out=mask)
                np.add(total, steps[i], out=total, where=mask)
        if separate[i]:  # the activation pass reads and writes the output once more, element-wise
            if np.isnan(act_rate[i]):
                total += _memory_into(profile, a, r, act_out.of(i, 2.0 * dtype), theta[5], buf, mask)
            else:
                linear.append(act_out.of(i, 2.0 * dtype * act_rate[i]))
        if np.isnan(own_rate[i]):  # bandwidth varies over the grid: point by point
            _memory_into(profile, a, r, nbytes.of(i), own[i], buf, mask)
            if mac[i]:
                np.maximum(buf, _grid_into(a, r, [compute.of(i)], other), out=buf)
            total += buf
        elif compute_bound[i]:
            linear.append(compute.of(i))
        else:
            linear.append(nbytes.of(i, own_rate[i]))
            if mac[i] and not memory_bound[i]:  # max(c, m) = m + max(c - m, 0)
                np.maximum(_grid_into(a, r, [compute.of(i), nbytes.of(i, -own_rate[i])], buf), 0.0, out=buf)
                total += buf
    if linear:
        terms = np.concatenate([t for t, _ in linear])
        weight = np.bincount(terms, np.concatenate([c for _, c in linear]), len(a))
        used = np.flatnonzero(weight)
        total += (a[used] * weight[used, None]).T @ r[used]
    total += constant
    return total


def describe(profile: DeviceProfile) -> dict:
    """What a report prints about the profile beside a simulated latency."""
    return {
        "name": profile.name, "title": profile.title, "runtime": profile.runtime, "threads": profile.threads,
        "precision": profile.precision, "peak": profile.peak.arithmetic(), "status": profile.status,
        "obtained": profile.obtained, "calibration_error": profile.error_label(),
        "path": profile.path,
    }
