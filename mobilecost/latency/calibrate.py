"""Fit a device profile's free parameters to measured latencies.

Free parameters: the inverse efficiencies of the four multiply-accumulate classes, of the memory
branch and of element-wise steps, and the per-step overhead (`latency.PARAMS`). With each
layer's compute/memory branch fixed, the simulated total is linear in them, so the fit alternates
between fixing the branches and solving a non-negative least-squares problem:

    minimise  sum_i ((F_i . theta - y_i) / y_i)^2  +  PRIOR_WEIGHT * sum_j ((theta_j - k theta0_j) / (k theta0_j))^2,
    theta >= theta0 k / 10,

where theta0 are the base profile's values and k the single speed factor that best maps the base
profile onto the measurements. The prior keeps the parameters the data cannot separate near the
base profile's proportions, so 3-4 measurements suffice; residuals are relative (percent) errors.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .devices import HELD_OUT_FOLDS, Calibration, DeviceProfile, load_device
from ..errors import MobilecostError
from ..spec.files import brief, is_file, read_text_file
from .model import PARAMS, Parameters, Terms, features, layer_terms, layer_times, theta_of

PRIOR_WEIGHT = 0.002  # one global constant for every device; see benchmarks/latency_validation.py
MAX_ROUNDS = 30
MIN_SHARE_OF_PRIOR = 0.1
COLUMNS = ("variant", "alpha", "resolution", "latency_ms")


@dataclass(frozen=True)
class Measurement:
    variant: str
    alpha: float
    resolution: int
    latency_ms: float
    where: str = ""
    runtime: str = ""  # the optional `runtime` column (`mobilecost measure` writes one)
    isa: str = ""  # the optional `isa` column: the CPU's vector instruction set (`mobilecost measure` writes one)

    def describe(self) -> str:
        return f"{self.variant} alpha={self.alpha:g} resolution={self.resolution}: {self.latency_ms:g} ms"


@dataclass(frozen=True)
class Fit:
    theta: np.ndarray
    predicted_ms: np.ndarray
    measured_ms: np.ndarray
    loo_predicted_ms: np.ndarray | None
    bounded: bool = False  # fitted with every efficiency held at or below 1

    @property
    def errors_pct(self) -> np.ndarray:
        return (self.predicted_ms - self.measured_ms) / self.measured_ms * 100

    @property
    def loo_errors_pct(self) -> np.ndarray | None:
        if self.loo_predicted_ms is None:
            return None
        return (self.loo_predicted_ms - self.measured_ms) / self.measured_ms * 100


def read_measurements(path: str) -> list[Measurement]:
    """Rows of a CSV with columns variant, alpha, resolution, latency_ms (others are ignored).

    The file is UTF-8 (a byte-order mark is allowed) of at most MAX_FILE_BYTES; every field used is
    at most MAX_FIELD characters, every number finite and within the bounds below. Anything else is
    refused in one line naming the file, the line and the column."""
    file = Path(path)
    if not is_file(file, str(path)):
        raise MobilecostError("no such measurements file", where=brief(str(path)))
    text = read_text_file(file, str(path), "a measurements CSV").removeprefix("\ufeff")
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, len(text) + 1))  # long fields are refused below, by name
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = reader.fieldnames or []
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise MobilecostError(f"missing column(s) {', '.join(missing)}; need {', '.join(COLUMNS)}",
                                  where=f"{path}:1", field=missing[0])
        rows = []
        for row in reader:
            if len(rows) == MAX_ROWS:
                raise MobilecostError(f"more than {MAX_ROWS:,} measurements; a calibration needs a few, and takes "
                                      "about a minute at this many", where=f"{path}:{reader.line_num}")
            rows.append(_measurement(row, f"{path}:{reader.line_num}"))
    except csv.Error as exc:
        raise MobilecostError(f"malformed CSV: {exc}", where=f"{path}:{reader.line_num}") from None
    finally:
        csv.field_size_limit(limit)
    if not rows:
        raise MobilecostError("no measurements", where=str(path))
    return rows


MAX_FIELD = 256  # characters of a variant name or path, or of a number
MAX_ROWS = 5_000  # measurements of one calibration: its held-out fits are at most 50, so 3,000 rows take 40 s
MAX_ALPHA = 10.0
MAX_RESOLUTION = 100_000  # pixels (spec.models.MAX_SIDE)
LATENCY_MS = (1e-3, 1e7)  # one microsecond to almost three hours: beyond, the fit means nothing


def _measurement(row: dict, where: str) -> Measurement:
    for field in COLUMNS:
        text = row.get(field) or ""
        if len(text) > MAX_FIELD:
            raise MobilecostError(f"a field of {len(text):,} characters; at most {MAX_FIELD}", where=where, field=field)

    def number(field, kind, low, high, unit=""):
        text = (row.get(field) or "").strip()
        try:
            value = float(text)
        except ValueError:
            raise MobilecostError(f"expected a number, got {brief(repr(text))}", where=where, field=field) from None
        whole = "whole " if kind is int else ""
        if not math.isfinite(value) or value <= 0 or (kind is int and not value.is_integer()):
            raise MobilecostError(f"expected a positive {whole}number, got {brief(repr(text))}", where=where, field=field)
        if not low <= value <= high:
            raise MobilecostError(f"expected a {whole}number from {low:g} to {high:g}{unit}, got {brief(repr(text))}",
                                  where=where, field=field)
        return int(value) if kind is int else value

    variant = (row.get("variant") or "").strip()
    if not variant:
        raise MobilecostError("empty variant", where=where, field="variant")
    return Measurement(variant, number("alpha", float, 1e-3, MAX_ALPHA), number("resolution", int, 1, MAX_RESOLUTION),
                       number("latency_ms", float, *LATENCY_MS, " ms"), where, (row.get("runtime") or "")[:MAX_FIELD],
                       (row.get("isa") or "").strip()[:MAX_FIELD])


def nnls(a: np.ndarray, b: np.ndarray, tol: float = 1e-12, max_iter: int = 500) -> np.ndarray:
    """Non-negative least squares, min |a x - b| with x >= 0 (Lawson and Hanson's active-set method)."""
    m, n = a.shape
    x = np.zeros(n)
    passive = np.zeros(n, dtype=bool)
    w = a.T @ (b - a @ x)
    for _ in range(max_iter):
        if passive.all() or w[~passive].max(initial=-np.inf) <= tol:
            break
        j = np.argmax(np.where(passive, -np.inf, w))
        passive[j] = True
        while True:
            z = np.zeros(n)
            z[passive] = np.linalg.lstsq(a[:, passive], b, rcond=None)[0]
            if z[passive].min() > 0:
                x = z
                break
            shrink = passive & (z <= 0)
            step = np.min(x[shrink] / (x[shrink] - z[shrink]))
            x = x + step * (z - x)
            passive &= x > tol
            x[~passive] = 0.0
        w = a.T @ (b - a @ x)
    return x


def measurement_terms(profile: DeviceProfile, measurements) -> list:
    """The model's per-layer terms at every measured configuration (one Terms per measurement), evaluated
    together for the measurements of each network."""
    from ..numeric.checked import as_spec, check_resolution, compiled_for
    from ..numeric.values import values_at

    by_variant: dict = {}
    for i, m in enumerate(measurements):
        try:
            compiled = compiled_for(as_spec(m.variant))
            check_resolution(compiled.layers, m.resolution, compiled.spec.name)
        except MobilecostError as exc:
            # The row's columns, not the command-line options the same checks name elsewhere.
            column = {None: "variant", "--resolution": "resolution", "--alpha": "alpha"}.get(exc.field, exc.field)
            raise MobilecostError(exc.message, where=m.where or exc.where, field=column) from None
        by_variant.setdefault(m.variant, (compiled, []))[1].append(i)
    out = [None] * len(measurements)
    for compiled, rows in by_variant.values():
        alphas = [measurements[i].alpha for i in rows]
        rhos = [measurements[i].resolution / compiled.spec.input.size for i in rows]
        terms = layer_terms(profile, values_at(compiled, alphas, rhos))
        for k, i in enumerate(rows):
            columns = {name: np.asarray(getattr(terms, name))[:, k:k + 1] for name in terms.column_names()}
            out[i] = Terms(mac_class=terms.mac_class, padded=terms.padded, **columns)
    return out


@dataclass(frozen=True)
class _Batches:
    """Measurements' terms stacked per network (one column per measurement), so that the model runs once
    per network and fit, not once per row: 400 rows took 80 s one by one."""

    size: int
    groups: tuple  # (row indices, Terms with one column per row)


def _batched(terms) -> _Batches:
    if isinstance(terms, _Batches):
        return terms
    by_network: dict = {}
    for i, t in enumerate(terms):
        by_network.setdefault((tuple(t.mac_class), t.compute_ms.shape[0]), []).append(i)
    groups = []
    for rows in by_network.values():
        first = terms[rows[0]]
        stacked = {name: np.hstack([np.asarray(getattr(terms[i], name), dtype=float) for i in rows])
                   for name in first.column_names()}
        groups.append((np.array(rows), Terms(mac_class=first.mac_class, padded=first.padded, **stacked)))
    return _Batches(len(terms), tuple(groups))


def _predict(terms, theta) -> np.ndarray:
    batches = _batched(terms)
    out = np.empty(batches.size)
    for rows, stacked in batches.groups:
        out[rows] = layer_times(stacked, theta)["time_ms"].sum(axis=0) + Parameters.of(theta).fixed_ms
    return out


def _features(terms, theta) -> np.ndarray:
    batches = _batched(terms)
    out = np.empty((batches.size, len(PARAMS)))
    for rows, stacked in batches.groups:
        out[rows] = features(stacked, theta)
    return out


EFFICIENCY_PARAMS = 6  # the first PARAMS are inverse efficiencies
LAYOUT_PARAMS = ("unblocked", "unblocked_channel_ms")  # used only by a profile with channel blocks


def fit_theta(terms: list, measured, theta0, prior_weight: float = PRIOR_WEIGHT, bounded: bool = False) -> np.ndarray:
    """Parameters that best explain `measured` (ms), pulled towards the scaled base values theta0.

    bounded: no efficiency above 1 (every inverse efficiency at least 1), for a base profile whose peak and
    bandwidth are the device's own figures; a generic profile's nominal figures need no such bound."""
    y = np.asarray(measured, dtype=float)
    terms = _batched(terms)
    theta0 = np.maximum(np.asarray(theta0, dtype=float), 1e-9)
    ratio = _predict(terms, theta0) / y
    prior = theta0 * (ratio.sum() / (ratio**2).sum())
    penalty = math.sqrt(prior_weight)
    # No parameter may fall below a tenth of its prior: a layer class never becomes free of cost.
    floor = prior * MIN_SHARE_OF_PRIOR
    floor[PARAMS.index("fixed_ms")] = 0.0  # a runtime may cost nothing per inference beyond its steps
    if bounded:
        floor[:EFFICIENCY_PARAMS] = np.maximum(floor[:EFFICIENCY_PARAMS], 1.0)
        prior[:EFFICIENCY_PARAMS] = np.maximum(prior[:EFFICIENCY_PARAMS], 1.0)

    def objective(theta):
        rel = (_predict(terms, theta) - y) / y
        return float((rel**2).sum() + prior_weight * (((theta - prior) / prior) ** 2).sum())

    theta, best, best_value = prior, prior, objective(prior)
    for _ in range(MAX_ROUNDS):
        f = _features(terms, theta)
        a = np.vstack([f / y[:, None], penalty * np.diag(1 / prior)])
        b = np.concatenate([np.ones(len(y)), penalty * np.ones(len(prior))])
        new = floor + nnls(a, b - a @ floor)  # theta = floor + z, z >= 0
        value = objective(new)
        if value < best_value - 1e-15:
            best, best_value = new, value
        if np.allclose(new, theta, rtol=1e-9, atol=1e-15):
            break
        theta = new
    return best


def fit_shared_prior(groups, theta0, rounds: int = 15, ridge: float = 1e-3) -> np.ndarray:
    """Relative parameters shared by many devices, each with its own speed factor.

    `groups` is a list of (terms, measured_ms) pairs, one per device profile. Alternates between
    each group's best speed factor k_g and one NNLS solve for the shared theta over all rows
    (relative residuals, a weak ridge towards theta0). The result is normalised so that its
    pointwise entry equals theta0's: only proportions are shared, the speed is each device's own.
    Used to learn the generic profiles' efficiencies from published measurements.
    """
    theta0 = np.maximum(np.asarray(theta0, dtype=float), 1e-9)
    theta = theta0.copy()
    floor = theta0 * 0.01
    for _ in range(rounds):
        blocks, rhs = [], []
        for terms, y in groups:
            y = np.asarray(y, dtype=float)
            terms = _batched(terms)
            ratio = _predict(terms, theta) / y
            k = ratio.sum() / (ratio**2).sum()
            blocks.append(k * _features(terms, theta) / y[:, None])
            rhs.append(np.ones(len(y)))
        a, b = np.vstack(blocks), np.concatenate(rhs)
        weight = math.sqrt(ridge * len(b))
        a = np.vstack([a, weight * np.diag(1 / theta0)])
        b = np.concatenate([b, weight * np.ones(len(theta0))])
        theta = floor + nnls(a, b - a @ floor)
        theta = theta * theta0[1] / theta[1]
    return theta


def fit(profile: DeviceProfile, measurements, prior_weight: float = PRIOR_WEIGHT, leave_one_out: bool = True,
        bounded: bool = False) -> Fit:
    terms = measurement_terms(profile, measurements)
    y = np.array([m.latency_ms for m in measurements])
    theta0 = theta_of(profile)
    theta = fit_theta(terms, y, theta0, prior_weight, bounded)
    loo = None
    if leave_one_out and len(y) >= 2:
        loo = np.empty(len(y))
        fold = np.arange(len(y)) % min(len(y), HELD_OUT_FOLDS)  # one row per fold up to HELD_OUT_FOLDS rows
        for k in range(fold.max() + 1):
            held, keep = np.flatnonzero(fold == k), np.flatnonzero(fold != k)
            without = fit_theta([terms[j] for j in keep], y[keep], theta0, prior_weight, bounded)
            loo[held] = _predict([terms[j] for j in held], without)
    return Fit(theta, _predict(terms, theta), y, loo, bounded)


def implausible(result: Fit, terms: list, measurements, top: int = 2) -> list[str]:
    """One warning per fitted efficiency above 1 (faster than the profile's peak or bandwidth allows), or, in a
    bounded fit, held at its bound 1, naming the rows that drive it: those where the parameter's term is the
    largest share of the fitted time (its leverage), with their residuals."""
    theta = np.maximum(result.theta, 1e-6)
    f = _features(terms, theta)
    share = f * theta / np.maximum(result.predicted_ms, 1e-12)[:, None]  # rows x parameters
    warnings = []
    for j, param in enumerate(PARAMS[:EFFICIENCY_PARAMS]):
        efficiency = 1 / theta[j]
        at_bound = result.bounded and efficiency >= 1 - 1e-9
        if efficiency <= 1 and not at_bound:
            continue
        rows = [i for i in np.argsort(-share[:, j], kind="stable")[:top] if share[i, j] > 0]
        driven = "; ".join(f"{measurements[i].describe()} ({share[i, j] * 100:.0f} % of its fitted time, "
                           f"residual {result.errors_pct[i]:+.1f} %)" for i in rows) or "no row uses it"
        if at_bound:
            if rows:  # a bound no row reaches changes nothing
                warnings.append(f"warning: fitted {param} efficiency held at its bound 1 (--bounded): the rows ask for "
                                f"more than the profile's peak or bandwidth allows; check the peak, the bandwidth or "
                                f"these rows: {driven}")
            continue
        warnings.append(f"warning: fitted {param} efficiency {efficiency:.3g} > 1 is implausible (faster than the "
                        f"profile's peak or bandwidth); check the peak, the bandwidth or these rows: {driven}")
    return warnings


def macs_of(measurements) -> list[int]:
    """Each measured configuration's multiply-accumulates (exact counts)."""
    from ..numeric.checked import as_spec, compiled_for
    from ..numeric.values import values_at

    out = []
    for m in measurements:
        compiled = compiled_for(as_spec(m.variant))
        out.append(int(values_at(compiled, m.alpha, m.resolution / compiled.spec.input.size).total("macs")[0]))
    return out


def calibrated_profile(base: DeviceProfile, result: Fit, measurements, data: str, name: str | None = None) -> DeviceProfile:
    """The base profile with fitted efficiencies and overhead, marked calibrated on `measurements`."""
    theta = np.maximum(result.theta, 1e-6)
    source = (f"fitted by mobilecost calibrate to {len(measurements)} measurements in {data} "
              f"(base profile {base.name}, prior weight {PRIOR_WEIGHT}"
              f"{', every efficiency bounded at 1' if result.bounded else ''})")
    eff = {p: round(float(1 / theta[i]), 6) for i, p in enumerate(PARAMS[:EFFICIENCY_PARAMS])}
    fitted = Parameters.of(result.theta)
    loo = result.loo_errors_pct
    calibration = {
        "base": base.name, "data": data,
        "rows": tuple(m.describe() for m in measurements),
        "fit_mape_pct": round(float(np.abs(result.errors_pct).mean()), 3),
        "loo_mape_pct": None if loo is None else round(float(np.abs(loo).mean()), 3),
        "residuals_pct": tuple(round(float(e), 3) for e in result.errors_pct),
        "loo_residuals_pct": None if loo is None else tuple(round(float(e), 3) for e in loo),
        "macs_span": (min(macs), max(macs)) if (macs := macs_of(measurements)) else None,
    }
    update = {
        "efficiency": base.efficiency.model_copy(update={**eff, "source": source}),
        "overhead": base.overhead.model_copy(update={"us": round(fitted.overhead_ms * 1000, 4),
                                                      "elementwise_us": round(fitted.elementwise_overhead_ms * 1000, 4),
                                                      "per_inference_us": round(fitted.fixed_ms * 1000, 4),
                                                      "source": source}),
        "status": "calibrated",
        "obtained": f"calibrated on {len(measurements)} measurements ({data}); peak and bandwidth from {base.name}'s spec",
        "calibration": Calibration(**calibration),
        # The base's title described the base device; this profile is what the rows make of it.
        "title": f"{name or base.name}: calibrated from {len(measurements)} rows of {data} (base {base.name})",
    }
    if base.layout is not None and base.layout.channel_block is not None:
        update["layout"] = base.layout.model_copy(update={
            "unblocked": round(float(1 / max(fitted.unblocked, 1e-6)), 6),
            "per_channel_us": round(fitted.unblocked_channel_ms * 1000, 6),
            "source": f"{base.layout.source}; unblocked and per_channel_us {source}"})
    if name:
        update["name"] = name
    return base.model_copy(update=update)


def calibrate(measurements_path: str, base, name: str | None = None, bounded: bool = False):
    """Read, fit and return (new profile, measurements, fit) -- the `mobilecost calibrate` command's work;
    `fit_warnings` names the implausible parameters of the result."""
    profile = load_device(base)
    measurements = read_measurements(measurements_path)
    result = fit(profile, measurements, bounded=bounded)
    return calibrated_profile(profile, result, measurements, Path(measurements_path).name, name), measurements, result


# The span of the published measurements the model has been checked against (1,302 rows of MobileNets
# V1-V3 and MnasNet-A1, benchmarks/latency_validation.py): outside it a fit or a prediction extrapolates.
VALIDATED_ALPHA = (0.25, 2.0)
VALIDATED_RESOLUTION = (96, 224)


def extrapolated(measurements) -> list[str]:
    """One warning naming the rows outside the span the model was validated on, if any."""
    outside = [m for m in measurements
               if not (VALIDATED_ALPHA[0] <= m.alpha <= VALIDATED_ALPHA[1]
                       and VALIDATED_RESOLUTION[0] <= m.resolution <= VALIDATED_RESOLUTION[1])]
    if not outside:
        return []
    shown = "; ".join(m.describe() for m in outside[:3]) + (f"; and {len(outside) - 3} more" if len(outside) > 3 else "")
    return [f"warning: {len(outside)} of {len(measurements)} rows lie outside alpha {VALIDATED_ALPHA[0]:g}-"
            f"{VALIDATED_ALPHA[1]:g} and resolutions {VALIDATED_RESOLUTION[0]}-{VALIDATED_RESOLUTION[1]}, the span of "
            f"the published measurements the model was checked on; the fit extrapolates there: {shown}"]


def ill_posed(result: Fit, terms: list, tolerance: float = 1e-3) -> list[str]:
    """One warning when the rows cannot determine every parameter they use: the rank of the relative
    sensitivities d(time_i)/d(log theta_j) / time_i (rows x used parameters) is below the number of used
    parameters. The fit is then regularised: the undetermined combinations stay at the base profile's
    proportions (the prior), not at values the rows support."""
    theta = np.maximum(result.theta, 1e-12)
    sensitivity = _features(terms, theta) * theta / np.maximum(result.measured_ms, 1e-12)[:, None]
    used = [j for j in range(len(PARAMS)) if np.abs(sensitivity[:, j]).max() > 1e-9]
    if not used:
        return []
    singular = np.linalg.svd(sensitivity[:, used], compute_uv=False)
    rank = int((singular > tolerance * singular.max()).sum())
    absent = LAYOUT_PARAMS if all(t.unblocked_ms is None for t in terms) else ()  # a profile without channel blocks
    unused = [PARAMS[j] for j in range(len(PARAMS)) if j not in used and PARAMS[j] not in absent]
    if rank >= len(used):
        return []
    rows = len(result.measured_ms)
    # Fewer rows than parameters is the design (the prior carries the rest): a note. Rows that do not even
    # determine as many combinations as there are rows (repeats, near-identical networks) are a warning.
    kind = "warning: ill-posed fit" if rank < min(rows, len(used)) else "note: regularised fit"
    return [f"{kind}: {rows} rows determine only {rank} of the {len(used)} parameters "
            f"they use ({', '.join(PARAMS[j] for j in used)}); the others stay near the base profile's proportions "
            f"(the prior, weight {PRIOR_WEIGHT}), so predictions for networks unlike these rows rest on the prior"
            + (f"; at the fitted values no row's time depends on {', '.join(unused)}" if unused else "")]


def fit_warnings(base, measurements, result: Fit) -> list[str]:
    """`implausible` and `ill_posed` for a fit of `base` (a name, path or profile) to `measurements`,
    `extrapolated`, and `unmodelled_runtime`."""
    profile = load_device(base)
    terms = measurement_terms(profile, measurements)
    return (implausible(result, terms, measurements) + ill_posed(result, terms) + extrapolated(measurements)
            + unmodelled_runtime(profile, measurements))


def unmodelled_runtime(profile: DeviceProfile, measurements) -> list[str]:
    """Warnings when the rows were timed with onnxruntime (their `runtime` column) and the base profile does not
    model its channel blocks, or modelled them as measured on another instruction set (their `isa` column)."""
    timed = [m for m in measurements if m.runtime.startswith("onnxruntime")]
    if not timed:
        return []
    if profile.layout is None:
        return [f"warning: these rows were timed with onnxruntime, whose depthwise kernel is slower on channel counts "
                f"that are not multiples of 4, and the base profile {profile.name} does not model that; "
                f"--base generic_cpu_onnxruntime does"]
    other = sorted({m.isa for m in timed if m.isa and profile.layout.isa and m.isa != profile.layout.isa})
    if not other:
        return []
    return [f"warning: these rows ran onnxruntime on a CPU with {', '.join(other)}, and the base profile "
            f"{profile.name}'s channel blocks were measured with {profile.layout.isa}; onnxruntime picks its kernels "
            f"by the instruction set (1x1 convolutions on blocks of 16 channels with avx512f, 8 with avx2 and earlier "
            f"x86, whatever its build uses on other CPUs), so set the base's layout from this machine (README: "
            f"From a table to a timed network)"]
