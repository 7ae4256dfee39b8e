"""Validate the simulated-latency model against published measurements.

Groups: rows of calibration_latency.csv that share device (hardware and runtime, as named by the
`device` text), precision and threads. Repeated measurements of one configuration in a group
(several runs or sections of a source) are averaged. Rows whose network has no table are skipped.

1. Groups with at least 5 configurations: calibrate on 3-4 rows that span the network families
   present (`mobilecost calibrate`'s fit), predict the other rows. Reported: mean absolute
   percentage error (MAPE) and the share within +-10 % on the held-out rows, next to the
   MACs-proportional baseline latency = k * MACs with k fitted on the same rows.
   The calibration rows follow a stated rule, never a search for the best rows
   (`choose_calibration_rows`: the smallest and the largest MACs, then each remaining family's
   median-MACs row, largest family first). The per-group table also reports each group over 20 random 4-row
   calibration sets (seeded by the group's name), so a lucky or unlucky rule shows.
2. Groups with 3-4 configurations (mostly one network per family at 1.0-224): leave-one-out --
   calibrate on the others, predict the one left out -- same baseline.

3. Noise floor of each group of 1.: the error of a fit on all its rows (scored on them), the rounding of
   the printed figures, and the pairs of configurations measured against their size (`noise_floor`).

Priors. The calibration starts from a generic CPU or GPU profile. Its efficiencies are learned
from published measurements (`calibrate.fit_shared_prior`), so a group must never be judged with
priors learned from its own device: groups are split into two folds by hardware, and each fold
is predicted with priors learned on the other fold only ("cross-fitted"). For comparison the
script also reports the hand-set neutral priors. `--fit-priors` prints the priors learned from
all groups (what tables/devices/generic_*.yaml ship).

    python3 benchmarks/latency_validation.py [--csv PATH] [--fit-priors]
"""

from __future__ import annotations

import argparse
import sys
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mobilecost.latency.calibrate import Measurement, fit_shared_prior, fit_theta, measurement_terms  # noqa: E402
from mobilecost.latency.devices import load_device  # noqa: E402
from mobilecost.api import evaluate  # noqa: E402
from mobilecost.latency.model import PARAMS, layer_times  # noqa: E402
from mobilecost.spec.files import list_variants  # noqa: E402

DEFAULT_CSV = ROOT / "benchmarks" / "data" / "calibration_latency.csv"  # published measurements, see data/README.md
GPU_WORDS = ("gpu", "vulkan", "delegate", "nnapi", "opencl", "edge tpu", "vpu", "myriad", "npu", "tensorrt", "cuda")
# Hand-set starting points (inverse efficiencies and overhead in ms), before anything is learned; no runtime
# here has depthwise channel blocks (the last two parameters).
NEUTRAL = {
    "cpu": np.array([1 / 0.45, 1 / 0.6, 1 / 0.2, 1 / 0.3, 1 / 0.5, 1 / 0.25, 0.015, 0.05, 0.015, 0.0, 0.0]),
    "gpu": np.array([1 / 0.3, 1 / 0.35, 1 / 0.1, 1 / 0.05, 1 / 0.5, 1 / 0.3, 0.060, 0.5, 0.060, 0.0, 0.0]),
}
KEYS = ["device", "precision", "threads"]


def kind_of(device: str) -> str:
    """'cpu' or 'gpu' (any accelerator): the runtime (the text after the last " / ") decides when it names the CPU,
    since a board's description names its GPU even when the network ran on its cores ("... Pascal iGPU) / ncnn CPU")."""
    runtime = device.rsplit(" / ", 1)[-1].lower()
    if "cpu" in runtime:
        return "cpu"
    return "gpu" if any(w in device.lower() for w in GPU_WORDS) else "cpu"


def precision_of(text: str) -> str:
    text = str(text).lower()
    if "int8" in text:
        return "int8"
    if text.startswith("fp16") or "vulkan" in text or "gpu" in text or "delegate" in text:
        return "fp16"
    return "fp32"


def fold_of(device: str) -> int:
    """Two folds by hardware (the device text before the runtime), stable across runs."""
    return zlib.crc32(device.split(" / ")[0].encode()) % 2


def choose_calibration_rows(group: pd.DataFrame, count: int) -> list:
    """3-4 rows spanning sizes and families: the smallest and the largest MACs, then the median-MACs row
    of each family not yet chosen (largest family first), then further family medians and the rest by MACs.

    Calibrating on the smallest and largest configurations keeps every prediction within the span of
    sizes the fit has seen; with each family's median first instead (the former rule), a group of three
    families left its largest networks extrapolated (NNAPI fp32: V1 1.0/224, 569 M MACs, predicted from
    rows of at most 301 M)."""
    ordered = group.sort_values("macs", kind="stable").index
    families = [rows.sort_values("macs", kind="stable").index
                for _, rows in sorted(group.groupby("model"), key=lambda kv: -len(kv[1]))]
    chosen = [ordered[0], ordered[-1]][:count]
    covered = set(group.loc[chosen, "model"])
    medians = [rows[(len(rows) - 1) // 2] for rows in families]
    first = [m for m in medians if group.loc[m, "model"] not in covered]
    for index in (*first, *medians, *ordered[len(ordered) // 2:], *ordered[: len(ordered) // 2]):
        if len(chosen) == count:
            break
        if index not in chosen:
            chosen.append(index)
    return chosen


def half_unit(text: str) -> float:
    """Half a unit of the last digit a latency was printed with (6.2 -> 0.05 ms): the most its rounding moved it."""
    text = str(text).strip().lower()
    if "e" in text:  # exponent notation: its printed precision is not read here
        return 0.0
    decimals = len(text.split(".")[1]) if "." in text else 0
    return 0.5 * 10.0 ** -decimals


def load_groups(csv_path: Path):
    data = pd.read_csv(csv_path, dtype={"latency_ms": str})
    data["half_unit_ms"] = data["latency_ms"].map(half_unit)
    data["latency_ms"] = data["latency_ms"].astype(float)
    data["threads"] = data["threads"].astype(str)
    known = set(list_variants())
    skipped = data[~data["model"].isin(known)]
    data = data[data["model"].isin(known)]
    keys = [*KEYS, "model", "alpha", "resolution"]
    counts = data.groupby(keys, dropna=False)["latency_ms"].agg(["size", "min", "max"])
    repeats = counts[counts["size"] > 1]
    data = data.groupby(keys, dropna=False, as_index=False).agg(latency_ms=("latency_ms", "mean"),
                                                                half_unit_ms=("half_unit_ms", "max"))
    macs = {}
    for m, a, r in set(zip(data["model"], data["alpha"], data["resolution"])):
        macs[m, a, r] = evaluate(m, a, resolution=int(r)).attrs["totals"]["macs"]
    data["macs"] = [macs[k] for k in zip(data["model"], data["alpha"], data["resolution"])]
    groups = []
    profiles = {kind: load_device(f"generic_{kind}") for kind in ("cpu", "gpu")}
    for key, group in data.groupby(KEYS, dropna=False):
        if len(group) < 3:
            continue
        kind = kind_of(key[0])
        base = profiles[kind].model_copy(update={"precision": precision_of(key[1])})
        rows = [Measurement(m, float(a), int(r), float(y)) for m, a, r, y in
                zip(group["model"], group["alpha"], group["resolution"], group["latency_ms"])]
        groups.append({"key": key, "kind": kind, "fold": fold_of(key[0]), "frame": group.reset_index(drop=True),
                       "terms": measurement_terms(base, rows), "y": group["latency_ms"].to_numpy()})
    info = {"skipped_rows": len(skipped), "skipped_models": sorted(set(skipped["model"])),
            "repeated_configs": len(repeats),
            "repeat_spread_pct": float(((repeats["max"] - repeats["min"]) / repeats["min"]).median() * 100)}
    return groups, info


def learn_priors(groups, exclude_fold=None) -> dict:
    out = {}
    for kind in ("cpu", "gpu"):
        train = [(g["terms"], g["y"]) for g in groups if g["kind"] == kind and g["fold"] != exclude_fold]
        out[kind] = fit_shared_prior(train, NEUTRAL[kind]) if train else NEUTRAL[kind]
    return out


def _baseline(macs_fit, y_fit, macs):
    ratio = macs_fit / y_fit
    return ratio.sum() / (ratio**2).sum() * macs  # k minimises the relative error on the fitted rows


def _predict(terms, theta) -> float:
    return float(layer_times(terms, theta)["time_ms"].sum()) + float(theta[7])


DRAWS = 20  # random 4-row calibration sets per group, beside the stated rule's one
TARGET_MAPE, TARGET_WITHIN = 8.0, 75.0


def evaluate_groups(groups, priors_by_fold: dict, draws: int = 0) -> pd.DataFrame:
    """One row per prediction: protocol 'held-out' (groups >= 5 configs, the 4 rows of the stated rule),
    'random draws' (the same groups, `draws` random 4-row calibration sets each, seeded) or
    'leave-one-out' (groups of 3-4 configs)."""
    rows = []
    for g in groups:
        frame, y, terms = g["frame"], g["y"], g["terms"]
        theta0 = priors_by_fold[g["fold"]][g["kind"]]
        macs = frame["macs"].to_numpy(dtype=float)
        everything = range(len(frame))
        if len(frame) >= 5:
            calib = choose_calibration_rows(frame, 4 if len(frame) >= 8 else 3)
            splits = [(calib, [i for i in everything if i not in calib], "held-out", 0)]
            rng = np.random.default_rng(zlib.crc32(str(g["key"]).encode()))
            for d in range(draws if len(frame) >= 8 else 0):
                pick = sorted(rng.choice(len(frame), 4, replace=False).tolist())
                splits.append((pick, [i for i in everything if i not in pick], "random draws", d))
        else:
            splits = [([j for j in everything if j != i], [i], "leave-one-out", 0) for i in everything]
        for fit_rows, test_rows, protocol, draw in splits:
            calibrated_on = "; ".join(f"{frame.loc[j, 'model']} {frame.loc[j, 'alpha']:g}/{frame.loc[j, 'resolution']:g}"
                                      for j in fit_rows) if protocol == "held-out" else ""
            theta = fit_theta([terms[j] for j in fit_rows], y[fit_rows], theta0)
            base = _baseline(macs[fit_rows], y[fit_rows], macs[test_rows])
            for i, b in zip(test_rows, base):
                rows.append({"device": g["key"][0], "precision": g["key"][1], "threads": g["key"][2],
                             "kind": g["kind"], "protocol": protocol, "draw": draw, "configs": len(frame),
                             "model": frame.loc[i, "model"], "alpha": frame.loc[i, "alpha"],
                             "resolution": frame.loc[i, "resolution"], "measured_ms": y[i],
                             "error_pct": (_predict(terms[i], theta) - y[i]) / y[i] * 100,
                             "baseline_error_pct": (b - y[i]) / y[i] * 100, "calibrated_on": calibrated_on})
    return pd.DataFrame(rows)


def _stats(errors) -> tuple:
    e = np.abs(np.asarray(errors))
    return e.mean(), np.median(e), (e <= 10).mean() * 100


def summary(cross: pd.DataFrame, neutral: pd.DataFrame, info: dict) -> str:
    lines = [f"{info['skipped_rows']} rows skipped: no table for {', '.join(info['skipped_models']) or '-'}; "
             f"{info['repeated_configs']} configurations measured more than once were averaged "
             f"(median spread between repeats {info['repeat_spread_pct']:.1f} %)."]
    for protocol, title in (("held-out", "Groups with >= 5 configurations: calibrate on 3-4 rows, predict the rest"),
                            ("leave-one-out", "Groups with 3-4 configurations: leave one out")):
        c, n = cross[cross["protocol"] == protocol], neutral[neutral["protocol"] == protocol]
        groups = c.groupby(["device", "precision", "threads"], dropna=False).ngroups
        lines += ["", f"{title}: {groups} groups, {len(c)} predictions",
                  f"  {'':26s}{'model':>14s}{'model':>14s}{'k * MACs':>12s}",
                  f"  {'':26s}{'(cross-fit':>14s}{'(neutral':>14s}{'baseline':>12s}",
                  f"  {'':26s}{'priors)':>14s}{'priors)':>14s}{'':>12s}"]
        sc, sn, sb = _stats(c["error_pct"]), _stats(n["error_pct"]), _stats(c["baseline_error_pct"])
        for j, label in enumerate(("MAPE", "median |error|", "share within +-10 %")):
            lines.append(f"  {label:26s}{sc[j]:13.1f}%{sn[j]:13.1f}%{sb[j]:11.1f}%")
        for kind in ("cpu", "gpu"):
            k = c[c["kind"] == kind]
            if len(k):
                a, b = _stats(k["error_pct"]), _stats(k["baseline_error_pct"])
                lines.append(f"  {kind.upper() + ' groups, MAPE':26s}{a[0]:13.1f}%{'':14s}{b[0]:11.1f}%   ({len(k)} predictions)")
    return "\n".join(lines)


def _group_table(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.groupby(["device", "precision", "threads"], dropna=False).agg(
        configs=("configs", "first"), predicted=("error_pct", "size"),
        mape=("error_pct", lambda e: np.abs(e).mean()), within10=("error_pct", lambda e: (np.abs(e) <= 10).mean() * 100),
        baseline=("baseline_error_pct", lambda e: np.abs(e).mean()))


def per_group(cross: pd.DataFrame) -> str:
    """The held-out protocol group by group (the stated rule's 4 rows), the targets, and the same groups over
    random 4-row draws (mean over draws of each draw's MAPE and share within +-10 %)."""
    table = _group_table(cross[cross["protocol"] == "held-out"])
    drawn = cross[cross["protocol"] == "random draws"]
    if len(drawn):
        by_draw = drawn.groupby(["device", "precision", "threads", "draw"], dropna=False)["error_pct"].agg(
            mape=lambda e: np.abs(e).mean(), within10=lambda e: (np.abs(e) <= 10).mean() * 100)
        means = by_draw.groupby(level=[0, 1, 2], dropna=False).mean()
        table["draws_mape"], table["draws_within10"] = means["mape"], means["within10"]
    table["meets"] = np.where((table["mape"] <= TARGET_MAPE) & (table["within10"] >= TARGET_WITHIN)
                              & (table["mape"] < table["baseline"]), "yes", "no")
    table = table.reset_index()
    table["device"] = table["device"].str.slice(0, 58)
    table["precision"] = table["precision"].str.slice(0, 14)
    met = (table["meets"] == "yes").sum()
    head = (f"Per group, held-out (4 rows by the stated rule): target MAPE <= {TARGET_MAPE:g} %, >= {TARGET_WITHIN:g} % "
            f"within +-10 %, below the k * MACs baseline; met in {met} of {len(table)} groups. "
            f"draws_*: mean over {DRAWS} random 4-row calibration sets per group.")
    return head + "\n" + table.round(1).to_string(index=False)


def inverted_pairs(frame: pd.DataFrame) -> tuple:
    """Pairs of configurations of one family that differ only in width (same resolution) or only in resolution
    (same width): (how many, how many with more MACs measured faster, how many measured equal). No model that
    is monotonic in width and resolution can fit an inverted pair; an equal pair needs a time flat in size."""
    pairs = faster = equal = 0
    rows = list(zip(frame["model"], frame["alpha"], frame["resolution"], frame["macs"], frame["latency_ms"]))
    for i, (model, alpha, resolution, macs, ms) in enumerate(rows):
        for other, alpha2, resolution2, macs2, ms2 in rows[i + 1:]:
            if other != model or (alpha != alpha2 and resolution != resolution2) or macs == macs2:
                continue
            pairs += 1
            bigger, smaller = (ms, ms2) if macs > macs2 else (ms2, ms)
            faster += bigger < smaller
            equal += bigger == smaller
    return pairs, faster, equal


def noise_floor(groups, priors_by_fold: dict) -> str:
    """What limits any model's error on each group of the held-out protocol, from the rows themselves: a fit on
    all of the group's rows (in-sample, with the group's cross-fitted priors), the rounding of the published
    figures, and the pairs of configurations measured against their size (`inverted_pairs`)."""
    lines = []
    for g in groups:
        frame = g["frame"]
        if len(frame) < 5:
            continue
        theta = fit_theta(g["terms"], g["y"], priors_by_fold[g["fold"]][g["kind"]])
        errors = np.array([(_predict(t, theta) - y) / y * 100 for t, y in zip(g["terms"], g["y"])])
        rounding = frame["half_unit_ms"].to_numpy() / g["y"] * 100
        pairs, faster, equal = inverted_pairs(frame)
        lines.append({"device": g["key"][0][:58], "precision": str(g["key"][1])[:14], "threads": g["key"][2],
                      "configs": len(frame), "fit_all_mape": np.abs(errors).mean(),
                      "fit_all_within10": (np.abs(errors) <= 10).mean() * 100,
                      "rounding_mean": rounding.mean(), "rounding_max": rounding.max(),
                      "pairs": pairs, "more_macs_faster": faster, "equal": equal})
    head = ("Noise floor per group, from the rows themselves: fit_all_*: the model fitted to all of the group's "
            "rows and scored on them (in-sample: what the model's form leaves even when it sees every row); "
            "rounding_*: half a unit of the last digit the CSV prints, in % of the latency (mean, largest; a figure "
            "printed as 3 counts +-0.5 ms); pairs: configurations of one family differing only in width or only in "
            "resolution, of which more_macs_faster were measured faster with more MACs and equal the same.")
    return head + "\n" + pd.DataFrame(lines).round(1).to_string(index=False)


def details(cross: pd.DataFrame) -> str:
    """Every group of the held-out protocol: its calibration rows, then each held-out prediction by family
    and size (signed errors: which families and sizes the model over- or under-predicts)."""
    held = cross[cross["protocol"] == "held-out"]
    lines = []
    for key, group in held.groupby(["device", "precision", "threads"], dropna=False, sort=False):
        lines += ["", f"{' / '.join('threads n/a' if pd.isna(k) else str(k) for k in key)}: calibrated on {group['calibrated_on'].iloc[0]}"]
        for model, rows in group.groupby("model"):
            lines.append(f"  {model}: mean error {rows['error_pct'].mean():+.1f} % over {len(rows)} held-out rows")
            for _, r in rows.sort_values(["alpha", "resolution"]).iterrows():
                lines.append(f"    {r['alpha']:g}/{r['resolution']:g}: measured {r['measured_ms']:g} ms, model "
                             f"{r['error_pct']:+.1f} %, k * MACs {r['baseline_error_pct']:+.1f} %")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV,
                        help="measurements: model, alpha, resolution, device, precision, threads, latency_ms, source "
                             "(default: the published measurements shipped in benchmarks/data/)")
    parser.add_argument("--details", action="store_true", help="also print every group of the held-out protocol")
    parser.add_argument("--fit-priors", action="store_true", help="print the priors learned from all groups")
    args = parser.parse_args(argv)
    if not args.csv.is_file():
        print(f"latency_validation: no such file {args.csv} (give a CSV of measurements with --csv)", file=sys.stderr)
        return 2
    groups, info = load_groups(args.csv)
    if args.fit_priors:
        for kind, theta in learn_priors(groups).items():
            eff = ", ".join(f"{p} {1 / t:.3g}" for p, t in zip(PARAMS[:6], theta[:6]))
            count = sum(g["kind"] == kind for g in groups)
            print(f"{kind} ({count} groups): {eff}; overhead {theta[6] * 1000:.3g} us per step, "
                  f"{theta[8] * 1000:.3g} us per element-wise step, {theta[7] * 1000:.3g} us per inference")
        return 0
    priors = {f: learn_priors(groups, exclude_fold=f) for f in (0, 1)}
    cross = evaluate_groups(groups, priors, draws=DRAWS)
    neutral = evaluate_groups(groups, {f: NEUTRAL for f in (0, 1)})
    print(summary(cross, neutral, info))
    print()
    print(per_group(cross))
    print()
    print(noise_floor(groups, priors))
    if args.details:
        print(details(cross))
    return 0


if __name__ == "__main__":
    sys.exit(main())
