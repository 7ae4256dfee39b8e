"""Throughput of dense alpha x rho sweeps, per metric, on this machine.

Run: python3 benchmarks/sweep_throughput.py [--grid 200] [--device pixel4_a76_tflite_fp32_1t]

For each variant, a grid of N alphas x N input resolutions (default 200 x 200 = 40,000 configurations)
goes through the numeric stage, one metric at a time, each figure including the evaluation of the
per-layer values it needs:

* ``macs``, ``params`` (weights + biases): `values_on_grid` (alpha factors on the unique alphas, rho
  factors on the unique rhos) and the totals as one matrix product (what `sweep` uses); for comparison,
  ``macs/point``: `values_at` on the flattened grid, every layer at every configuration;
* ``act_peak``: the sequential schedule's live sets on the grid and their running maximum (`peak_live`);
* ``latency_ms``: the latency model on the grid values (`total_latency`); ``latency/point``: the same
  model on point-by-point values;
* ``sweep()``: the public `mobilecost.sweep` with every count and the peak memory (DataFrame included);
  ``sweep(device)`` adds the simulated latency.

Compilation is done once before timing (it is cached on disk); each figure is the best of 5 runs in
CPU time (the process's, BLAS on one thread).
Target: at least 1,000,000 configurations per second per metric.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from mobilecost.cli.process import tune_process  # noqa: E402

tune_process()  # as the command line does, before numpy loads

import numpy as np  # noqa: E402


from mobilecost import sweep
from mobilecost.api import compiled_for, costs_for
from mobilecost.latency.devices import load_device
from mobilecost.latency.model import total_latency
from mobilecost.numeric.liveness import peak_live
from mobilecost.numeric.plan import build_plan
from mobilecost.numeric.values import values_at, values_on_grid

VARIANTS = ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small")
TARGET = 1_000_000


def best_of(fn, repeats: int = 5) -> float:
    """The shortest CPU time of `repeats` runs (CPU, not wall-clock: the machine is shared, and numpy's
    BLAS runs on one thread, as the command line sets it)."""
    fn()  # compile / warm
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, default=200, help="alphas and resolutions per side (N x N)")
    parser.add_argument("--device", default="pixel4_a76_tflite_fp32_1t")
    args = parser.parse_args()
    n = args.grid
    alphas = np.round(np.linspace(0.25, 1.4, n), 6)
    resolutions = np.round(np.linspace(96, 320, n)).astype(int)
    a = np.repeat(alphas, n)
    r = np.tile(resolutions / 224, n)
    points = a.size
    print(f"grid {n} x {n} = {points:,} configurations; best of 5 runs in CPU time; configurations per CPU second")
    names = ("macs", "params", "act_peak", "latency_ms", "macs/point", "latency/point", "sweep()", "sweep(device)")
    print(f"{'variant':20s} " + " ".join(f"{name:>13s}" for name in names))
    slowest = dict.fromkeys(("macs", "params", "act_peak", "latency_ms"), float("inf"))
    profile = load_device(args.device)
    for variant in VARIANTS:
        costs = costs_for(variant)
        compiled = compiled_for(costs.spec)
        plan = build_plan(compiled)
        rhos = resolutions / 224

        def grid():
            return values_on_grid(compiled, alphas, rhos)

        rates = {
            "macs": points / best_of(lambda: grid().totals(("macs",))),
            "params": points / best_of(lambda: grid().totals(("weights", "biases"))),
            "act_peak": points / best_of(lambda: peak_live(plan, grid())),
            "latency_ms": points / best_of(lambda: total_latency(profile, grid())),
            "macs/point": points / best_of(lambda: values_at(compiled, a, r).totals(("macs",))),
            "latency/point": points / best_of(lambda: total_latency(profile, values_at(compiled, a, r)), repeats=3),
            "sweep()": points / best_of(lambda: sweep(variant, alphas, resolutions), repeats=3),
            "sweep(device)": points / best_of(lambda: sweep(variant, alphas, resolutions, device=args.device), repeats=3),
        }
        for name in slowest:
            slowest[name] = min(slowest[name], rates[name])
        print(f"{variant:20s} " + " ".join(f"{v:13,.0f}" for v in rates.values()))
    for name in ("macs", "params", "act_peak", "latency_ms"):
        verdict = "meets" if slowest[name] >= TARGET else "MISSES"
        print(f"{name:12s} slowest variant {slowest[name]:14,.0f} configurations/s -- {verdict} the {TARGET:,}/s target")


if __name__ == "__main__":
    main()
