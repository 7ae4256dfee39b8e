"""Validate the simulated-latency model against published measurements.

For every group of rows of calibration_latency.csv that share device, runtime, precision and
threads (the `device` text names hardware and runtime) and has enough rows with a table, the
script calibrates a profile on 3-4 rows that span the network families present and predicts the
remaining rows. It reports the mean absolute percentage error (MAPE) on the held-out rows and the
share within +-10 %, next to the MACs-proportional baseline (latency = k * MACs, with k fitted on
the same calibration rows). The calibration procedure is the one `mobilecost calibrate` runs,
with one global prior; nothing is tuned per group.

    python3 benchmarks/latency_validation.py [--csv PATH] [--min-rows N] [--details]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mobilecost.calibrate import Measurement, fit_theta, measurement_terms  # noqa: E402
from mobilecost.devices import load_device  # noqa: E402
from mobilecost.frames import evaluate  # noqa: E402
from mobilecost.latency import layer_times, theta_of  # noqa: E402
from mobilecost.loader import list_variants  # noqa: E402

DEFAULT_CSV = ROOT.parent / "shared" / "reference" / "calibration_latency.csv"
GPU_WORDS = ("gpu", "vulkan", "delegate", "nnapi", "opencl", "edge tpu", "vpu", "myriad", "npu", "tensorrt", "cuda")


def precision_of(text: str) -> str:
    text = str(text).lower()
    if "int8" in text or "uint8" in text:
        return "int8"
    if text.startswith("fp16") or "fp16(delegate" in text or "vulkan" in text or "gpu" in text:
        return "fp16"
    return "fp32"


def base_for(device: str, precision: str):
    """The neutral starting profile: generic GPU for GPU/accelerator runtimes, generic CPU otherwise."""
    name = "generic_gpu" if any(w in device.lower() for w in GPU_WORDS) else "generic_cpu"
    return load_device(name).model_copy(update={"precision": precision_of(precision)})


def choose_calibration_rows(group: pd.DataFrame, count: int) -> list:
    """3-4 rows spanning the families: each family's median-MACs row, then the smallest and largest MACs."""
    chosen = []
    for _, rows in sorted(group.groupby("model"), key=lambda kv: -len(kv[1])):
        rows = rows.sort_values("macs")
        chosen.append(rows.index[(len(rows) - 1) // 2])
        if len(chosen) == count:
            return chosen
    ordered = group.sort_values("macs").index
    for index in (ordered[0], ordered[-1], *ordered[len(ordered) // 2:], *ordered[: len(ordered) // 2]):
        if len(chosen) == count:
            break
        if index not in chosen:
            chosen.append(index)
    return chosen


def macs_of(model: str, alpha: float, resolution: int) -> int:
    return evaluate(model, alpha, resolution=resolution).attrs["totals"]["macs"]


def validate(csv_path: Path, min_rows: int) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    data = pd.read_csv(csv_path)
    data["threads"] = data["threads"].astype(str)
    known = set(list_variants())
    skipped = data[~data["model"].isin(known)]
    data = data[data["model"].isin(known)].copy()
    # Repeated measurements of one configuration in one group (several runs or sections of a source)
    # are averaged: a prediction is only counted for a configuration not used in calibration.
    keys = ["device", "precision", "threads", "model", "alpha", "resolution"]
    repeats = data.groupby(keys, dropna=False)["latency_ms"].agg(["size", "min", "max"])
    repeats = repeats[repeats["size"] > 1]
    info_repeats = {"repeated_configs": len(repeats),
                    "repeat_spread_pct": float(((repeats["max"] - repeats["min"]) / repeats["min"]).median() * 100)
                    if len(repeats) else 0.0}
    data = data.groupby(keys, dropna=False, as_index=False)["latency_ms"].mean()
    data["macs"] = [macs_of(m, a, int(r)) for m, a, r in zip(data["model"], data["alpha"], data["resolution"])]
    groups, predictions = [], []
    for (device, precision, threads), group in data.groupby(["device", "precision", "threads"], dropna=False):
        if len(group) < min_rows:
            continue
        count = 4 if len(group) >= 8 else 3
        calib = choose_calibration_rows(group, count)
        held = group.drop(index=calib)
        base = base_for(device, precision)
        measurements = [Measurement(m, float(a), int(r), float(y)) for m, a, r, y in
                        zip(group["model"], group["alpha"], group["resolution"], group["latency_ms"])]
        terms = dict(zip(group.index, measurement_terms(base, measurements)))
        theta = fit_theta([terms[i] for i in calib], group.loc[calib, "latency_ms"].to_numpy(), theta_of(base))
        model = np.array([layer_times(terms[i], theta)["time_ms"].sum() for i in held.index])
        ratio = group.loc[calib, "macs"].to_numpy() / group.loc[calib, "latency_ms"].to_numpy()
        k = ratio.sum() / (ratio**2).sum()  # minimises the relative error of k * MACs on the calibration rows
        baseline = k * held["macs"].to_numpy()
        y = held["latency_ms"].to_numpy()
        err, err_base = (model - y) / y * 100, (baseline - y) / y * 100
        groups.append({
            "device": device, "precision": precision, "threads": threads, "rows": len(group),
            "families": ",".join(sorted(set(group["model"]))), "calibrated_on": count, "held_out": len(held),
            "mape_pct": np.abs(err).mean(), "within10_pct": (np.abs(err) <= 10).mean() * 100,
            "baseline_mape_pct": np.abs(err_base).mean(), "baseline_within10_pct": (np.abs(err_base) <= 10).mean() * 100,
        })
        for index, e, eb in zip(held.index, err, err_base):
            predictions.append({"device": device, "precision": precision, "threads": threads,
                                "model": group.loc[index, "model"], "alpha": group.loc[index, "alpha"],
                                "resolution": group.loc[index, "resolution"], "error_pct": e, "baseline_error_pct": eb})
    info = {"skipped_rows": len(skipped), "skipped_models": sorted(set(skipped["model"])), **info_repeats}
    return pd.DataFrame(groups), pd.DataFrame(predictions), info


def summary(groups: pd.DataFrame, rows: pd.DataFrame, info: dict, min_rows: int) -> str:
    e, b = rows["error_pct"].abs(), rows["baseline_error_pct"].abs()
    lines = [
        f"Simulated-latency validation: {len(groups)} groups with >= {min_rows} rows, "
        f"{len(rows)} held-out predictions "
        f"({info['skipped_rows']} rows skipped: no table for {', '.join(info['skipped_models']) or '-'})",
        "",
        f"{'':28s}{'model':>10s}{'k*MACs':>10s}",
        f"{'held-out MAPE (all rows)':28s}{e.mean():9.1f}%{b.mean():9.1f}%",
        f"{'held-out median |error|':28s}{e.median():9.1f}%{b.median():9.1f}%",
        f"{'share within +-10 %':28s}{(e <= 10).mean() * 100:9.0f}%{(b <= 10).mean() * 100:9.0f}%",
        f"{'mean of per-group MAPE':28s}{groups['mape_pct'].mean():9.1f}%{groups['baseline_mape_pct'].mean():9.1f}%",
        f"{'groups where model wins':28s}{(groups['mape_pct'] < groups['baseline_mape_pct']).sum():9d} /{len(groups)}",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--min-rows", type=int, default=5, help="smallest group to validate on (default 5)")
    parser.add_argument("--details", action="store_true", help="also print every group")
    args = parser.parse_args(argv)
    if not args.csv.is_file():
        print(f"latency_validation: no such file {args.csv}", file=sys.stderr)
        return 2
    groups, rows, info = validate(args.csv, args.min_rows)
    print(summary(groups, rows, info, args.min_rows))
    if args.details:
        pd.set_option("display.width", 200)
        pd.set_option("display.max_colwidth", 60)
        shown = groups.assign(device=groups["device"].str.slice(0, 60), precision=groups["precision"].str.slice(0, 12))
        print()
        print(shown.drop(columns=["families"]).round(1).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
