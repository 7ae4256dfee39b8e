"""Time exported networks with onnxruntime on this machine.

Each configuration is exported (`onnx_export.build_model`, batch norm folded as deployed networks
are), loaded into one onnxruntime CPU session with ``intra_op_num_threads`` threads, run
``warmup`` times untimed, then ``repeats`` times, each run timed alone with
``time.perf_counter``. The configurations (up to 32 at once, a strided, mixed share of the grid) take
turns in visits, so a burst of load from other processes spreads over all of them instead of inflating
one. A visit runs its configuration VISIT_WARMUP times untimed, to bring its weights back into the
caches the other configurations' runs evicted, then times up to VISIT_TIMED runs back to back: what is
timed is the network's steady state, as when one network runs repeatedly (and as TFLite's
benchmark_model times). Timed one run per visit, the smallest MobileNets measured up to 2.5 x slower
than back to back (benchmarks/measure_visits.py). A configuration's latency is the median run; the
spread is the quartiles and the extremes. The CSV has the ``variant, alpha, resolution, latency_ms`` columns that
calibration reads, plus the spread and what the figures depend on: runtime, threads, CPU model.

onnxruntime is an optional dependency (``pip install mobilecost[measure]``), imported inside functions.
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ..errors import MobilecostError
from ..latency.calibrate import MAX_ROWS
from ..outputs.files import csv_text
from .onnx_graph import INSTALL_HINT, build_model

COLUMNS = ("variant", "alpha", "resolution", "latency_ms", "latency_p25_ms", "latency_p75_ms",
           "latency_min_ms", "latency_max_ms", "repeats", "warmup", "threads", "runtime", "cpu", "isa")
CHUNK = 32  # sessions open at once while their runs are interleaved (about 1 GB for MobileNets)
VISIT_WARMUP = 2  # untimed runs at the start of each visit, after the other configurations' runs
VISIT_TIMED = 3  # timed runs per visit, back to back
# Bounds, refused before anything is built: a measure run ends in hours at most, not days.
MAX_CONFIGURATIONS = MAX_ROWS  # rows of one CSV: as many as one calibration reads
MAX_REPEATS = 10_000  # timed runs of one configuration
MAX_WARMUP = 10_000  # untimed runs when a configuration is loaded
MAX_TIMED_RUNS = 1_000_000  # configurations x repeats: about 3 hours at 10 ms a run


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity where the OS says, else the machine's count)."""
    import os

    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def require_onnxruntime():
    """The onnxruntime module, or one line saying how to install it."""
    try:
        import onnxruntime
    except ImportError:
        raise MobilecostError(INSTALL_HINT) from None
    return onnxruntime


def cpu_model(cpuinfo: str | Path = "/proc/cpuinfo") -> str:
    """The CPU's model name as the kernel reports it (Linux), else what platform knows."""
    try:
        for line in Path(cpuinfo).read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Hardware", "Processor") and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def vector_isa(cpuinfo: str | Path = "/proc/cpuinfo") -> str:
    """The widest x86 vector instruction set onnxruntime picks its kernels by (avx512f, avx2, avx or sse2, from
    the kernel's CPU flags on Linux), else the machine's architecture (aarch64, arm64, ...)."""
    try:
        for line in Path(cpuinfo).read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "flags":
                flags = set(value.split())
                return next((isa for isa in ("avx512f", "avx2", "avx", "sse2") if isa in flags), "x86")
    except OSError:
        pass
    return platform.machine() or "unknown"


@dataclass(frozen=True)
class Settings:
    threads: int = 1
    repeats: int = 30
    warmup: int = 5
    seed: int = 0
    semantics: str | None = None

    def check(self) -> "Settings":
        for name, low in (("threads", 1), ("repeats", 1), ("warmup", 0), ("seed", 0)):
            if getattr(self, name) < low:
                raise MobilecostError(f"{name} must be at least {low}, got {getattr(self, name)}",
                                      field=f"--{name}")
        # More threads than CPUs only contend (100,000 hung onnxruntime's session set-up); runs past the
        # bounds would take days.
        for name, high, what in (("threads", available_cpus(), "the CPUs this process may use"),
                                 ("repeats", MAX_REPEATS, None), ("warmup", MAX_WARMUP, None)):
            if getattr(self, name) > high:
                raise MobilecostError(f"{name} must be at most {high:,}{f' ({what})' if what else ''}, "
                                      f"got {getattr(self, name):,}", field=f"--{name}")
        return self


def open_session(model, settings: Settings):
    """An onnxruntime CPU session of the model, warmed up, and the input it is timed on."""
    ort = require_onnxruntime()
    options = ort.SessionOptions()
    options.intra_op_num_threads = settings.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    feed_info = session.get_inputs()[0]
    shape = [int(d) for d in feed_info.shape]
    feed = {feed_info.name: np.random.default_rng(settings.seed).normal(size=shape).astype(np.float32)}
    for _ in range(settings.warmup):
        session.run(None, feed)
    return session, feed


def time_once(session, feed) -> float:
    """Milliseconds of one batch-1 run."""
    start = time.perf_counter()
    session.run(None, feed)
    return (time.perf_counter() - start) * 1e3


def summarise(times_ms: np.ndarray) -> dict:
    """Median, quartiles and extremes of a set of run times."""
    p25, median, p75 = np.percentile(times_ms, [25, 50, 75])
    return {"latency_ms": float(median), "latency_p25_ms": float(p25), "latency_p75_ms": float(p75),
            "latency_min_ms": float(times_ms.min()), "latency_max_ms": float(times_ms.max())}


def configurations(variants, alphas, resolutions):
    """Every (variant, alpha, resolution) of the grid; more than MAX_CONFIGURATIONS are refused before any is listed."""
    variants, alphas, resolutions = list(variants), list(alphas), list(resolutions)
    if any(isinstance(r, tuple) for r in resolutions):
        raise MobilecostError("measure builds square inputs only (a side in pixels, not HxW)", field="--resolution")
    count = len(variants) * len(alphas) * len(resolutions)
    if count > MAX_CONFIGURATIONS:
        raise MobilecostError(f"{len(variants):,} variants x {len(alphas):,} alphas x {len(resolutions):,} resolutions "
                              f"make {count:,} configurations; measure times at most {MAX_CONFIGURATIONS:,} "
                              f"(as many as a calibration reads)", field="--alpha/--resolution")
    return [(v, float(a), int(r)) for v in variants for a in alphas for r in resolutions]


def check_configurations(configs, settings: Settings) -> None:
    """Refuse the whole request up front (missing runtime, bad variant, too small an input)."""
    from ..api import resolve_point
    from ..numeric.checked import costs_for
    from ..numeric.checked import check_resolution
    from ..api import evaluate
    from .onnx_graph import check_model_size, require_onnx

    settings.check()
    if len(configs) * settings.repeats > MAX_TIMED_RUNS:
        raise MobilecostError(f"{len(configs):,} configurations x {settings.repeats:,} repeats make "
                              f"{len(configs) * settings.repeats:,} timed runs; measure makes at most "
                              f"{MAX_TIMED_RUNS:,}", field="--repeats")
    require_onnx()
    require_onnxruntime()
    for variant, alpha, resolution in configs:
        costs = costs_for(variant, "exact", settings.semantics)
        check_resolution(costs, resolve_point(costs.spec.input.size, alpha, resolution=resolution).resolution)
        check_model_size(evaluate(variant, alpha, resolution=resolution, semantics=settings.semantics))


def measure(configs, settings: Settings, on_step: Callable[[int, int, str], None] | None = None) -> pd.DataFrame:
    """One row per (variant, alpha, resolution): latency statistics and the context they hold in.

    Up to `CHUNK` sessions are open at once and take turns in visits (`VISIT_WARMUP` untimed runs, then
    up to `VISIT_TIMED` timed runs), so a burst of load from other processes spreads over every
    configuration instead of inflating one, while each timed run finds its network's weights in cache.
    `on_step(done, total, text)` reports progress in units of one session built or one timed run.
    """
    settings.check()
    ort = require_onnxruntime()
    context = {"repeats": settings.repeats, "warmup": settings.warmup, "threads": settings.threads,
               "runtime": f"onnxruntime {ort.__version__}", "cpu": cpu_model(), "isa": vector_isa()}
    report = on_step or (lambda done, total, text: None)
    total, done, rows = len(configs) * (1 + settings.repeats), 0, {}
    n_chunks = -(-len(configs) // CHUNK)
    for c in range(n_chunks):
        # Strided chunks mix variants and sizes, so no configuration shares all its rounds with one kind.
        chunk = list(range(c, len(configs), n_chunks))
        sessions = []
        for index in chunk:
            variant, alpha, resolution = configs[index]
            model = build_model(variant, alpha, resolution, semantics=settings.semantics, seed=settings.seed,
                                fold_bn=True)
            sessions.append(open_session(model, settings))
            done += 1
            report(done, total, f"loaded {_variant_name(variant)} {alpha:g} {resolution}")
        times = np.empty((len(chunk), settings.repeats))
        visits = range(0, settings.repeats, VISIT_TIMED)
        for visit, first in enumerate(visits):
            timed = range(first, min(first + VISIT_TIMED, settings.repeats))
            for j, (session, feed) in enumerate(sessions):
                for _ in range(VISIT_WARMUP):
                    session.run(None, feed)
                for i in timed:
                    times[j, i] = time_once(session, feed)
            done += len(chunk) * len(timed)
            report(done, total, f"timing visit {visit + 1}/{len(visits)} of {len(chunk)} configurations")
        for index, runs in zip(chunk, times):
            variant, alpha, resolution = configs[index]
            rows[index] = {"variant": _variant_name(variant), "alpha": alpha, "resolution": resolution,
                           **summarise(runs), **context}
        del sessions
    return pd.DataFrame([rows[i] for i in range(len(configs))], columns=list(COLUMNS))


def _variant_name(variant) -> str:
    from ..spec.loader import load_variant

    return load_variant(variant).name if isinstance(variant, str) else variant.name


def to_csv(frame: pd.DataFrame) -> str:
    text = frame.assign(alpha=[f"{a:g}" for a in frame["alpha"]])
    return csv_text(text, float_format="%.4f", lineterminator="\n")
