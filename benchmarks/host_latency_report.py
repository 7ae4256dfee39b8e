"""Measured vs predicted latency on this machine: does a calibrated profile rank and size MobileNets?

1. Export and time the four variants over alpha {0.35, 0.5, 0.75, 1.0} x resolution
   {128, 160, 192, 224} with onnxruntime (64 configurations; `mobilecost.measure.timing`).
2. Calibrate a host profile (`mobilecost.latency.calibrate`, base profile `generic_cpu_onnxruntime`) on 4
   of them.
3. Predict the other 60 with the calibrated profile (`mobilecost.latency.model.total_latency`) and with
   the MACs-proportional baseline (latency = k x MACs, k fitted on the same 4), and report the
   mean absolute percentage error and Spearman's rank correlation of each against the measurements.

A configuration's time is its fastest run by default: on a shared machine the median drifts more with
other processes' load (over six runs here, held-out MAPE 5.4-13.2 % from the medians against 5.2-11.0 %
from the fastest runs, spanning rows); `--statistic median` uses the median that `mobilecost measure`
reports.

    python3 benchmarks/host_latency_report.py [--repeats 50] [--threads 1] [--statistic median|min]
        [--calibrate-on spanning|full-width] [--measurements CSV] [--base PROFILE] [--out DIR]

Writes DIR/measurements.csv, DIR/calibration.csv, DIR/host_profile.yaml, DIR/report.md and prints
the report (default DIR: mobilecost_host_latency in the temporary folder). About a minute
on one core with the defaults. Needs `pip install 'mobilecost[measure]'`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mobilecost.latency.calibrate import calibrate  # noqa: E402
from mobilecost.latency.devices import dump_device  # noqa: E402
from mobilecost.api import compiled_for, sweep  # noqa: E402
from mobilecost.latency.model import total_latency  # noqa: E402
from mobilecost.numeric.checked import as_spec  # noqa: E402
from mobilecost.numeric.values import values_at  # noqa: E402
from mobilecost.measure.timing import Settings, configurations, measure, to_csv  # noqa: E402
from mobilecost.outputs.files import write_atomic  # noqa: E402

VARIANTS = ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small")
ALPHAS = (0.35, 0.5, 0.75, 1.0)
RESOLUTIONS = (128, 160, 192, 224)
# Calibration set: one configuration per variant, spread over width and resolution.
CALIBRATION = (("mobilenet_v1", 0.5, 160), ("mobilenet_v2", 1.0, 224),
               ("mobilenet_v3_large", 0.75, 192), ("mobilenet_v3_small", 0.35, 128))
BASE_PROFILE = "generic_cpu_onnxruntime"  # generic_cpu with onnxruntime's depthwise channel blocks


def ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their mean rank."""
    values = np.asarray(values, dtype=float)
    order = np.argsort(values, kind="mergesort")
    ranked = np.empty(len(values))
    ranked[order] = np.arange(1, len(values) + 1)
    for value in np.unique(values):
        tied = values == value
        ranked[tied] = ranked[tied].mean()
    return ranked


def spearman(a, b) -> float:
    """Spearman's rho: Pearson correlation of the ranks."""
    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


def mape(predicted, measured) -> float:
    predicted, measured = np.asarray(predicted, float), np.asarray(measured, float)
    return float(np.mean(np.abs(predicted - measured) / measured) * 100)


def macs_of(frame: pd.DataFrame) -> np.ndarray:
    out = np.empty(len(frame))
    for variant, group in frame.groupby("variant"):
        totals = sweep(variant, sorted(set(group["alpha"])), sorted(set(group["resolution"])))
        lookup = {(round(a, 6), int(r)): m for a, r, m in zip(totals["alpha"], totals["resolution"], totals["macs"])}
        out[group.index] = [lookup[(round(a, 6), int(r))] for a, r in zip(group["alpha"], group["resolution"])]
    return out


def predict(profile, frame: pd.DataFrame) -> np.ndarray:
    out = np.empty(len(frame))
    for variant, group in frame.groupby("variant"):
        compiled = compiled_for(as_spec(variant))
        rho = group["resolution"].to_numpy(float) / compiled.spec.input.size
        out[group.index] = total_latency(profile, values_at(compiled, group["alpha"].to_numpy(float), rho))
    return out


def macs_baseline(macs, measured, fit_rows) -> np.ndarray:
    """latency = k x MACs with k minimising the relative squared error on the calibration rows."""
    ratio = macs[fit_rows] / measured[fit_rows]
    k = ratio.sum() / (ratio**2).sum()
    return k * macs


def render(frame: pd.DataFrame, held: np.ndarray, header: str) -> str:
    lines = [header, ""]
    lines.append("| set | predictor | MAPE % | Spearman rho |")
    lines.append("| --- | --- | ---: | ---: |")
    for label, rows in (("held-out (60)", held), ("all (64)", np.ones(len(frame), bool))):
        for name, col in (("calibrated profile", "predicted_ms"), ("MACs-proportional", "macs_baseline_ms")):
            lines.append(f"| {label} | {name} | {mape(frame.loc[rows, col], frame.loc[rows, 'latency_ms']):.1f} "
                         f"| {spearman(frame.loc[rows, col], frame.loc[rows, 'latency_ms']):.3f} |")
    lines += ["", "Per variant (held-out rows): MAPE % profile / MACs; Spearman profile / MACs", ""]
    for variant, group in frame[held].groupby("variant", sort=False):
        y = group["latency_ms"]
        lines.append(f"- {variant}: {mape(group['predicted_ms'], y):.1f} / {mape(group['macs_baseline_ms'], y):.1f}; "
                     f"{spearman(group['predicted_ms'], y):.3f} / {spearman(group['macs_baseline_ms'], y):.3f}")
    lines += ["", "| variant | alpha | res | MMACs | measured ms (run IQR) | profile ms | MACs-prop ms | calib |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | :---: |"]
    for r in frame.itertuples():
        lines.append(f"| {r.variant} | {r.alpha:g} | {r.resolution} | {r.macs / 1e6:.1f} | {r.latency_ms:.2f} "
                     f"({r.latency_p25_ms:.2f}-{r.latency_p75_ms:.2f}) | {r.predicted_ms:.2f} | "
                     f"{r.macs_baseline_ms:.2f} | {'x' if r.calibration else ''} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "mobilecost_host_latency"))
    parser.add_argument("--measurements", help="Reuse this measurements CSV instead of measuring again.")
    parser.add_argument("--calibrate-on", choices=("spanning", "full-width"), default="spanning",
                        help="The four calibration configurations: one per family spanning sizes (default), or "
                             "each family at 1.0/224.")
    parser.add_argument("--base", default=BASE_PROFILE,
                        help=f"The profile calibration starts from (default {BASE_PROFILE}; e.g. one calibrated on "
                             "every row of an earlier run).")
    parser.add_argument("--statistic", choices=("median", "min"), default="min",
                        help="Which run time stands for a configuration: the fastest run (default; least "
                             "disturbed by other processes on a shared machine) or the median.")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    if args.measurements:
        frame = pd.read_csv(args.measurements)
    else:
        configs = configurations(VARIANTS, ALPHAS, RESOLUTIONS)
        settings = Settings(threads=args.threads, repeats=args.repeats, warmup=args.warmup)
        frame = measure(configs, settings, lambda done, total, text: print(f"{done}/{total} {text}", file=sys.stderr, flush=True))
        write_atomic(out / "measurements.csv", to_csv(frame))
    measured_s = time.perf_counter() - start

    if args.statistic == "min":
        frame["latency_ms"] = frame["latency_min_ms"]
    calibration = CALIBRATION if args.calibrate_on == "spanning" else tuple((v, 1.0, 224) for v in VARIANTS)
    keys = list(zip(frame["variant"], frame["alpha"].round(6), frame["resolution"].astype(int)))
    frame["calibration"] = [k in {(v, round(a, 6), r) for v, a, r in calibration} for k in keys]
    write_atomic(out / "calibration.csv", to_csv(frame[frame["calibration"]].drop(columns="calibration")))
    profile, _, result = calibrate(str(out / "calibration.csv"), args.base, name="this_host")
    write_atomic(out / "host_profile.yaml", dump_device(profile))

    frame["macs"] = macs_of(frame)
    frame["predicted_ms"] = predict(profile, frame)
    frame["macs_baseline_ms"] = macs_baseline(frame["macs"].to_numpy(float), frame["latency_ms"].to_numpy(float),
                                              frame["calibration"].to_numpy())
    held = ~frame["calibration"].to_numpy()
    first = frame.iloc[0]
    header = (f"# Host latency: measured vs predicted\n\n{first['cpu']}, {first['runtime']}, "
              f"{first['threads']} thread(s), batch 1, fp32, {args.statistic} of {first['repeats']} runs after "
              f"{first['warmup']} warm-up; calibrated on {len(calibration)} configurations "
              f"({', '.join(f'{v} {a:g}/{r}' for v, a, r in calibration)}) from base profile {args.base}; "
              f"measuring took {measured_s:.0f} s.")
    text = render(frame, held, header)
    write_atomic(out / "report.md", text)
    print(text)
    print(f"wrote {out}/measurements.csv, calibration.csv, host_profile.yaml, report.md", file=sys.stderr)


if __name__ == "__main__":
    main()
