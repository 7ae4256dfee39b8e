"""Speed of the calculator core on this machine (run: python3 benchmarks/core_speed.py).

1. `mobilecost report mobilenet_v1` end to end in a cold Python process: median of 7 runs with the
   compiled-evaluator cache warm, plus the very first run on an empty cache.
2. A sweep of 1,000 configurations (40 alphas x 25 resolutions) for each of the four variants,
   in one fresh process, symbolic build and compilation included.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

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


def cold_report(env) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mobilecost", "report", "mobilenet_v1"], check=True,
                   stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "MOBILECOST_CACHE_DIR": cache}
        first = cold_report(env)
        warm = [cold_report(env) for _ in range(7)]
    print(f"report mobilenet_v1, cold process: median {statistics.median(warm):.3f} s over 7 runs "
          f"(min {min(warm):.3f}, max {max(warm):.3f}); first run on an empty cache {first:.3f} s")

    out = subprocess.run([sys.executable, "-c", SWEEP_SCRIPT.format(variants=VARIANTS)], check=True,
                         capture_output=True, text=True).stdout.split()
    rows, seconds = int(out[0]), float(out[1])
    print(f"sweep: {rows} configurations over {len(VARIANTS)} variants in {seconds:.3f} s "
          f"(fresh process, symbolic build and compilation included)")


if __name__ == "__main__":
    main()
