"""How much held-out error the host loop's measurements leave before the model errs at all.

1. From two or more runs of the 64 configurations (`measurements.csv` of benchmarks/host_latency_report.py),
   the scatter of a configuration's fastest run between runs, each run's overall level taken out (a
   calibration absorbs a level): the standard deviation of log time over configurations and runs.
2. A truth the model can fit exactly: the profile calibrated on all 64 rows of the first run, its predictions
   taken as the true times.
3. Twenty simulated runs: every true time times exp(N(0, sigma)), calibrated on the four rows of a rule
   (each family's 1.0/224, or one spanning row per family, as host_latency_report), the other 60 predicted.
   With sigma 0 what is left is what four rows cannot determine; with the measured sigma, what the runs'
   noise adds. The share of simulated runs above 8 % is how often a perfect model would miss the target.

    python3 benchmarks/host_noise_floor.py RUN1/measurements.csv RUN2/measurements.csv [...] [--sigma S]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

import host_latency_report as host  # noqa: E402
from mobilecost.latency.calibrate import calibrate  # noqa: E402
from mobilecost.measure.timing import to_csv  # noqa: E402

SIMULATED_RUNS = 20
KEYS = ["variant", "alpha", "resolution"]


def run_scatter(frames: list[pd.DataFrame], column: str = "latency_min_ms") -> tuple[float, float]:
    """(standard deviation, largest deviation) of log time between runs, each run's mean log level removed."""
    merged = frames[0][KEYS].copy()
    for i, frame in enumerate(frames):
        merged = merged.merge(frame[KEYS + [column]].rename(columns={column: i}), on=KEYS)
    logs = np.log(merged[list(range(len(frames)))].to_numpy(float))
    logs = logs - logs.mean(axis=0, keepdims=True)
    deviations = logs - logs.mean(axis=1, keepdims=True)
    return float(deviations.std(ddof=0)), float(np.abs(deviations).max())


def rows_of(frame: pd.DataFrame, configurations) -> np.ndarray:
    chosen = {(v, round(a, 6), int(r)) for v, a, r in configurations}
    return np.array([(v, round(a, 6), int(r)) in chosen
                     for v, a, r in zip(frame["variant"], frame["alpha"], frame["resolution"])])


def simulate(frame: pd.DataFrame, truth: np.ndarray, calibration_rows: np.ndarray, sigma: float, folder: Path,
             rng) -> np.ndarray:
    """Held-out MAPE of SIMULATED_RUNS noisy copies of `truth`, each calibrated on `calibration_rows`."""
    out = []
    for _ in range(SIMULATED_RUNS if sigma > 0 else 1):
        noisy = frame.assign(latency_ms=truth * np.exp(rng.normal(0.0, sigma, len(frame))))
        (folder / "calibration.csv").write_text(to_csv(noisy[calibration_rows]))
        profile, _, _ = calibrate(str(folder / "calibration.csv"), host.BASE_PROFILE, name="simulated")
        predicted = host.predict(profile, noisy)
        out.append(host.mape(predicted[~calibration_rows], noisy["latency_ms"][~calibration_rows]))
    return np.array(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("measurements", nargs="+", type=Path, help="measurements.csv of host_latency_report runs")
    parser.add_argument("--sigma", type=float, help="noise to simulate (default: the runs' own scatter)")
    args = parser.parse_args(argv)
    frames = [pd.read_csv(path) for path in args.measurements]
    if args.sigma is None and len(frames) < 2:
        print("host_noise_floor: give two or more runs' measurements, or --sigma", file=sys.stderr)
        return 2
    if len(frames) >= 2:
        spread, largest = run_scatter(frames)
        print(f"{len(frames)} runs: a configuration's fastest run scatters by {spread * 100:.1f} % between runs "
              f"(standard deviation of log time, each run's level removed; largest {largest * 100:.1f} %)")
    sigma = spread if args.sigma is None else args.sigma
    frame = frames[0].assign(latency_ms=frames[0]["latency_min_ms"])
    folder = Path(tempfile.mkdtemp())
    (folder / "all.csv").write_text(to_csv(frame))
    truth_profile, _, _ = calibrate(str(folder / "all.csv"), host.BASE_PROFILE, name="truth")
    truth = host.predict(truth_profile, frame)
    print(f"truth: the first run's 64 rows, fitted all at once (in-sample MAPE {host.mape(truth, frame['latency_ms']):.1f} %)")
    rules = {"each family's 1.0/224": tuple((v, 1.0, 224) for v in host.VARIANTS),
             "one spanning row per family": host.CALIBRATION}
    rng = np.random.default_rng(0)
    print(f"\n| calibrated on | sigma 0: held-out MAPE | sigma {sigma * 100:.1f} %: mean (range) | runs above 8 % |")
    print("|---|---|---|---|")
    for label, configurations in rules.items():
        rows = rows_of(frame, configurations)
        exact = simulate(frame, truth, rows, 0.0, folder, rng)[0]
        noisy = simulate(frame, truth, rows, sigma, folder, rng)
        print(f"| {label} | {exact:.1f} % | {noisy.mean():.1f} % ({noisy.min():.1f}-{noisy.max():.1f}) | "
              f"{(noisy > 8).sum()} of {len(noisy)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
