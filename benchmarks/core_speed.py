"""Speed of the calculator core on this machine (run: python3 benchmarks/core_speed.py).

The machine is shared and noisy, so start-up is stated as a ratio to `python -c pass` timed in the
same run, interleaved with it (median of N runs each), in wall time and in CPU time (user + system of
the child process, which a busy machine disturbs less). The children run with byte-code caching on
(PYTHONDONTWRITEBYTECODE unset), as an installed package runs from its compiled .pyc files:

1. `mobilecost report mobilenet_v1` and `mobilecost latency mobilenet_v2 --device
   pixel4_a76_tflite_fp32_1t` in a cold Python process, the compiled-evaluator cache warm, and the very
   first report on an empty cache;
2. `mobilecost sweep mobilenet_v2` over a 200 x 200 alpha x resolution grid (40,000 configurations,
   CSV to a file) in a cold process, cache warm;
3. a sweep of 1,000 configurations (40 alphas x 25 resolutions) for each of the four variants in one
   fresh process on an empty cache, symbolic build and compilation included.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

LATENCY = ("latency", "mobilenet_v2", "--device", "pixel4_a76_tflite_fp32_1t")
VARIANTS = ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small")
SWEEP_SCRIPT = """
import time, numpy as np
t0 = time.perf_counter()
from mobilecost import sweep
alphas = np.round(np.linspace(0.25, 1.4, 40), 4)
resolutions = np.arange(96, 96 + 25 * 8, 8)
rows = 0
for variant in {variants!r}:
    rows += len(sweep(variant, alphas, resolutions))
print(rows, time.perf_counter() - t0)
"""


def timed(argv, env) -> float:
    return timed_both(argv, env)[0]


def timed_both(argv, env) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run of `argv`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    # The `mobilecost` command an install puts beside this Python (what a user types), reading the package
    # from this tree; `python -m mobilecost` where there is none.
    script = os.path.join(os.path.dirname(sys.executable), "mobilecost")
    mobilecost = [script] if os.path.exists(script) else [sys.executable, "-m", "mobilecost"]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "MOBILECOST_CACHE_DIR": cache,
               "PYTHONPATH": os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH")])])}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        first = timed([*mobilecost, "report", "mobilenet_v1"], env)
        timed([*mobilecost, *LATENCY], env)
        baseline, report, latency = [], [], []
        for _ in range(runs):  # interleaved, so all see the same load
            baseline.append(timed_both([sys.executable, "-c", "pass"], env))
            report.append(timed_both([*mobilecost, "report", "mobilenet_v1"], env))
            latency.append(timed_both([*mobilecost, *LATENCY], env))
        out = os.path.join(cache, "sweep.csv")
        grid = [*mobilecost, "sweep", "mobilenet_v2", "--alpha", "0.35:1.4:0.00527638", "--resolution", "96:295:1",
                "-o", out]
        timed(grid, env)  # build the caches
        sweeps = [timed(grid, env) for _ in range(max(3, runs // 3))]
        with open(out, encoding="utf-8") as handle:
            configurations = sum(1 for _ in handle) - 1
    base = statistics.median(w for w, _ in baseline)
    base_cpu = statistics.median(c for _, c in baseline)
    print(f"python -c pass: median {base:.3f} s over {runs} runs ({base_cpu:.3f} s of CPU)")
    command = os.path.basename(mobilecost[0]) if len(mobilecost) == 1 else "python -m mobilecost"
    for words, times in ((["report", "mobilenet_v1"], report), (LATENCY, latency)):
        wall, cpu = statistics.median(w for w, _ in times), statistics.median(c for _, c in times)
        print(f"{command} {' '.join(words)}, cold process, cache warm: median {wall:.3f} s = {wall / base:.1f} x "
              f"python -c pass (min {min(w for w, _ in times):.3f}, max {max(w for w, _ in times):.3f}); CPU time "
              f"{cpu:.3f} s = {cpu / base_cpu:.1f} x")
    print(f"first report on an empty cache: {first:.3f} s")
    print(f"sweep mobilenet_v2, {configurations:,} configurations to CSV, cold process: median "
          f"{statistics.median(sweeps):.3f} s over {len(sweeps)} runs")

    with tempfile.TemporaryDirectory() as cache:  # an empty cache: the symbolic build is timed too
        out = subprocess.run([sys.executable, "-c", SWEEP_SCRIPT.format(variants=VARIANTS)], check=True,
                             capture_output=True, text=True, env={**env, "MOBILECOST_CACHE_DIR": cache}).stdout.split()
    rows, seconds = int(out[0]), float(out[1])
    print(f"sweep API: {rows} configurations over {len(VARIANTS)} variants in {seconds:.3f} s "
          f"(fresh process, symbolic build and compilation included)")


if __name__ == "__main__":
    main()
