"""Throughput of dense alpha x rho sweeps, per metric, on this machine.

Run: python3 benchmarks/sweep_throughput.py [--grid 200] [--device pixel4_a76_tflite_fp32_1t]

For each variant, a grid of N alphas x N input resolutions (default 200 x 200 = 40,000 configurations)
is evaluated through the compiled vectorised functions, one metric at a time:

* ``macs``, ``params`` (weights + biases): `numeric.grid_totals` -- alpha factors on the unique alphas,
  rho factors on the unique rhos, totals as their matrix product (what `sweep` uses); and, for
  comparison, ``macs/point``: `numeric.evaluate_totals` point by point on the flattened grid;
* ``act_peak``: the memory model's per-step live sets on the grid and their running maximum (`numeric.grid_peak`);
* ``latency_ms``: the latency model on the grid (`latency.grid_latency`, what `sweep` uses): per-layer
  MACs and bytes as products of alpha and rho factors, the layers whose bandwidth and bound do not change
  over the grid summed as one matrix product, the others point by point; and, for comparison,
  ``latency/point``: every layer's fields at every configuration (`latency.sweep_latency`);
* ``sweep()``: the public `mobilecost.sweep` with every count and the peak memory (DataFrame included);
  ``sweep(device)`` adds the simulated latency.

Compilation is done once before timing (it is cached on disk); each figure is the best of 5 runs.
Target: at least 1,000,000 configurations per second per metric.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from mobilecost import sweep
from mobilecost.api import costs_for
from mobilecost.latency.devices import load_device
from mobilecost.latency.model import grid_latency, sweep_latency
from mobilecost.count.memory import build_memory
from mobilecost.numeric.evaluation import evaluate_totals, grid_peak, grid_totals

VARIANTS = ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small")
TARGET = 1_000_000


def best_of(fn, repeats: int = 5) -> float:
    fn()  # compile / warm
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
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
    print(f"grid {n} x {n} = {points:,} configurations; best of 5 runs; configurations per second")
    names = ("macs", "params", "act_peak", "latency_ms", "macs/point", "latency/point", "sweep()", "sweep(device)")
    print(f"{'variant':20s} " + " ".join(f"{name:>13s}" for name in names))
    slowest = dict.fromkeys(("macs", "params", "act_peak", "latency_ms"), float("inf"))
    profile = load_device(args.device)
    for variant in VARIANTS:
        costs = costs_for(variant)
        plan = build_memory(costs, "sequential")
        rhos = resolutions / 224
        rates = {
            "macs": points / best_of(lambda: grid_totals(costs, alphas, rhos, fields=("macs",))),
            "params": points / best_of(lambda: grid_totals(costs, alphas, rhos, fields=("weights", "biases"))),
            "act_peak": points / best_of(lambda: grid_peak(costs, ("live", id(plan)), plan.live, alphas, rhos)),
            "latency_ms": points / best_of(lambda: grid_latency(profile, costs, alphas, rhos)),
            "macs/point": points / best_of(lambda: evaluate_totals(costs, a, r, fields=("macs",))),
            "latency/point": points / best_of(lambda: sweep_latency(costs, profile, a, r), repeats=3),
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
