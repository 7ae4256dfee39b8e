"""`mobilecost` commands for simulated latency: `devices`, `latency`, `calibrate`.

Rendering only; the model lives in latency.py, the fitting in calibrate.py.
"""

import csv
import io
import json
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from .app import (
    ALPHA_OPT, MODE_OPT, OUT_OPT, RES_OPT, RHO_OPT, SEM_OPT, VARIANT_HELP, WIDTH_OPT, Mode, app, check_output, fail,
    text_width,
)
from ..errors import MobilecostError

DEVICE_HELP = "A device profile: a built-in name (see `mobilecost devices`) or the path of a profile .yaml."


class LatencyFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


@app.command()
def devices(width: Optional[int] = WIDTH_OPT) -> None:
    """List the built-in device profiles: peak arithmetic, status and how each was obtained."""
    from ..latency.devices import list_devices, load_device
    from ..outputs.text import wrap_lines

    try:
        columns = text_width(width)
        blocks = []
        for name in list_devices():
            p = load_device(name)
            threads = "thread" if p.threads == 1 else "threads"
            blocks.append("\n".join(wrap_lines([
                f"{name}  [{p.status}]  {p.precision}, {p.threads} {threads}",
                f"  {p.title}",
                f"  peak: {p.peak.arithmetic()}",
                f"  bandwidth: cache {p.memory.cache_gb_s:g} GB/s up to {p.memory.cache_bytes:,} bytes, "
                f"DRAM {p.memory.dram_gb_s:g} GB/s",
                f"  {model_figures(p)}",
                f"  {p.error_label()}",
                f"  error band: {p.band().rule}",
                f"  obtained: {p.obtained}",
            ], columns)))
        typer.echo("\n\n".join(blocks))
    except MobilecostError as exc:
        fail(exc)


# Left out of the per-layer table, in this order, when it would not fit: the three terms whose largest is
# named in "largest term" and whose sum with it makes "time ms", then bytes moved and the op.
LATENCY_OPTIONAL = (("compute ms", "memory ms", "overhead ms"), "bytes moved", "op")


def render_latency(report, fmt: str, width: int = 80) -> str:
    """A `latency.point_report.LatencyReport` as json, csv or a terminal table of at most `width` columns.

    Numbers print as they did from the report's DataFrame: layers' real numbers to 10 decimal places in
    JSON (`pandas_json_float`) and as ``%.6g`` in CSV."""
    from ..outputs.files import csv_cell, csv_comment
    from ..outputs.text import text_table, wrap_lines

    attrs, totals, device = report.attrs, report.attrs["totals"], report.attrs["device"]
    # A rectangular input: resolution is its height; shown as HxW.
    shape = {"height": attrs["height"], "width": attrs["width"]} if "width" in attrs else {}
    shown = f"{attrs['resolution']}x{attrs['width']}" if shape else attrs["resolution"]
    if fmt == "json":
        layers = [{k: pandas_json_float(v) if isinstance(v, float) else v for k, v in row.items()} for row in report.rows()]
        doc = {
            "simulated": True, "label": attrs["label"], "variant": attrs["variant"], "alpha": attrs["alpha"],
            "rho": attrs["rho"], "resolution": attrs["resolution"], **shape, "mode": attrs["mode"], "device": device,
            "totals": totals, "layers": layers,
        }
        return json.dumps(doc, indent=1)
    if fmt == "csv":
        buf = io.StringIO()
        buf.write(csv_comment(f"# {attrs['label']}") + "\n")
        buf.write(csv_comment(f"# {attrs['variant']} alpha={attrs['alpha']:g} resolution={shown}: "
                              f"simulated latency {totals['latency_ms']:.3f} ms "
                              f"(band {totals['latency_ms_low']:.3f} to {totals['latency_ms_high']:.3f} ms; "
                              f"{device['band']})") + "\n")
        if attrs.get("calibration_note"):
            buf.write(csv_comment(f"# {attrs['calibration_note']}") + "\n")
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow([csv_cell(name) for name in report.columns])
        for row in report.rows():
            writer.writerow([csv_cell(v) if isinstance(v, str) else "%.6g" % v if isinstance(v, float) else v
                             for v in row.values()])
        return buf.getvalue()
    rows = [(r["name"], r["op"], f"{r['macs']:,}", f"{int(r['bytes_moved']):,}", f"{r['compute_ms']:.4f}",
             f"{r['memory_ms']:.4f}", f"{r['overhead_ms']:.4f}", f"{r['time_ms']:.4f}", f"{r['peak_pct']:.1f}", r["limit"])
            for r in report.rows()]
    right = ("MACs", "bytes moved", "compute ms", "memory ms", "overhead ms", "time ms", "% of peak")
    text = text_table(("layer", "op", *right, "largest term in the model"), rows, right, width, LATENCY_OPTIONAL)
    share = ", ".join(f"{b} term {ms:.2f} ms" for b, ms in totals["bound_ms"].items())
    head = [
        f"SIMULATED latency (a model, not a measurement) of {attrs['variant']} at alpha={attrs['alpha']:g}, "
        f"resolution={shown}",
        f"device profile: {device['name']} -- {device['title']}",
        f"  peak {device['peak']}; {device['precision']}, {device['threads']} "
        f"thread{'' if device['threads'] == 1 else 's'}",
        f"  source: {device['obtained']}",
        f"  {device['status']}: {device['calibration_error']}",
    ]
    tail = [f"simulated total: {totals['latency_ms']:.3f} ms ({device['name']}, {device['calibration_error']})",
            f"simulated band: {totals['latency_ms_low']:.3f} to {totals['latency_ms_high']:.3f} ms ({device['band']})",
            *([attrs["calibration_note"]] if attrs.get("calibration_note") else []),
            f"time by largest term in the model: {share}"
            + (f"; {totals['fixed_ms']:.3f} ms once per inference" if totals.get("fixed_ms") else ""),
            "e = the fitted efficiency of that term: the share of the profile's peak (compute) or bandwidth it reaches",
            "% of peak = MACs / (time x peak): the share of the profile's peak a layer attains in the model"]
    return "\n".join(wrap_lines(head, width)) + "\n" + text + "\n".join(wrap_lines(tail, width)) + "\n"


def pandas_json_float(value: float) -> float:
    """`value` as it reads back from pandas' ``to_json`` (its default ``double_precision=10``), in which the
    per-layer records were first written: rounded to 10 decimal places, half to even on the last digit's
    remainder; beyond 1e16 - 1 or below 1e-15, 10 significant digits ("%.10g")."""
    magnitude = abs(value)
    if magnitude > 1e16 - 1 or (magnitude != 0.0 and magnitude < 1e-15):
        return float("%.10g" % value)
    whole = int(magnitude)
    scaled = (magnitude - whole) * 1e10
    frac = int(scaled)
    rest = scaled - frac
    if rest > 0.5 or (rest == 0.5 and (frac == 0 or frac & 1)):
        frac += 1
    if frac >= 10**10:
        whole, frac = whole + 1, 0
    text = f"{whole}.{frac:010d}".rstrip("0") if frac else f"{whole}.0"
    return float(("-" if value < 0 else "") + text)


@app.command()
def latency(
    variant: str = typer.Argument(..., help=VARIANT_HELP),
    device: str = typer.Option(..., "--device", "-d", help=DEVICE_HELP),
    alpha: str = ALPHA_OPT,
    rho: Optional[str] = RHO_OPT,
    resolution: Optional[str] = RES_OPT,
    mode: Mode = MODE_OPT,
    semantics: Optional[str] = SEM_OPT,
    fmt: LatencyFormat = typer.Option(LatencyFormat.table, "--format", "-f"),
    output: Optional[str] = OUT_OPT,
    width: Optional[int] = WIDTH_OPT,
) -> None:
    """Simulated per-layer time on a device profile, with what bounds each layer, and the total.

    A narrow table leaves out, in this order, the compute, memory and overhead terms, bytes moved and op."""
    from ..latency.point_report import latency_report
    from ..latency.profile_cache import device_figures
    from ..numeric.snapshot import snapshot_for
    from ..outputs.files import emit

    try:
        check_output(output)
        columns = text_width(width)
        figures = device_figures(device)
        report = latency_report(snapshot_for(variant, resolution, mode.value, semantics), figures, alpha, rho, resolution)
        emit(render_latency(report, fmt.value, columns), output)
    except MobilecostError as exc:
        fail(exc)


def model_figures(profile) -> str:
    """The profile's fitted figures: each class's efficiency, the fixed costs and the channel blocks."""
    eff, overhead, layout = profile.efficiency, profile.overhead, profile.layout
    return (f"efficiencies: conv {eff.conv:.3g}, pointwise {eff.pointwise:.3g}, depthwise {eff.depthwise:.3g}, "
            f"fc {eff.fc:.3g}, memory {eff.memory:.3g}, elementwise {eff.elementwise:.3g}; "
            f"overhead {overhead.us:.3g} us per step"
            + ("" if overhead.elementwise_us is None else f", {overhead.elementwise_us:.3g} us per element-wise step")
            + f", {overhead.per_inference_us:.3g} us per inference"
            + ("" if layout is None or layout.channel_block is None else
               f"; a depthwise layer not on whole blocks of {layout.channel_block} channels adds compute at "
               f"efficiency {layout.unblocked:.3g} and {layout.per_channel_us:.3g} us per channel")
            + ("" if layout is None or layout.pointwise_block is None else
               f"; a 1x1 convolution's channels are padded to blocks of {layout.pointwise_block}, each output costs "
               f"{layout.per_output_macs:g} MACs more, an input of fewer channels {layout.narrow_input:g} x as long")
            + ("" if layout is None or not layout.isa else f" (blocks measured with {layout.isa})"))


def render_fit(profile, measurements, result, width: int = 80) -> str:
    from ..latency.devices import HELD_OUT_FOLDS, held_out_rule
    from ..outputs.text import text_table, wrap_lines

    loo = result.loo_predicted_ms
    rows = []
    for i, m in enumerate(measurements):
        rows.append((m.variant, f"{m.alpha:g}", str(m.resolution), f"{m.latency_ms:.3f}",
                     f"{result.predicted_ms[i]:.3f}", f"{result.errors_pct[i]:+.1f}",
                     "-" if loo is None else f"{loo[i]:.3f}",
                     "-" if loo is None else f"{result.loo_errors_pct[i]:+.1f}"))
    held_out = "leave-one-out" if len(measurements) <= HELD_OUT_FOLDS else "held-out"
    right = ("measured ms", "fitted ms", "residual %", f"{held_out} ms", f"{held_out} %")
    text = text_table(("variant", "alpha", "resolution", *right), rows, right, width)
    lines = [
        f"calibrated {profile.name} from base {profile.calibration.base} on {len(measurements)} measurements",
        text.rstrip("\n"),
        f"fit: mean |residual| {profile.calibration.fit_mape_pct:.2f} %"
        + ("" if profile.calibration.loo_mape_pct is None
           else f"; {held_out_rule(len(measurements))} mean |error| {profile.calibration.loo_mape_pct:.2f} %"),
        model_figures(profile),
        f"error band of its predictions: {profile.band().rule}",
    ]
    return "\n".join(wrap_lines(lines, width)) + "\n"


@app.command()
def calibrate(
    measurements: str = typer.Argument(..., help="CSV with columns variant, alpha, resolution, latency_ms."),
    base: str = typer.Option(..., "--base", "-b", help="The profile to start from (its peak, bandwidth and priors)."),
    name: Optional[str] = typer.Option(None, "--name", help="Name of the new profile (default: the output file's stem)."),
    output: str = typer.Option(..., "--output", "-o", help="Where to write the calibrated profile (.yaml)."),
    bounded: bool = typer.Option(False, "--bounded", help="Hold every fitted efficiency at or below 1 (for a base "
                                 "whose peak and bandwidth are the device's own spec figures, not a generic profile)."),
    width: Optional[int] = WIDTH_OPT,
) -> None:
    """Fit a profile's efficiencies and overhead to measured latencies; print residuals and held-out error
    (leave-one-out up to 50 rows, 50 folds beyond)."""
    from ..latency.calibrate import calibrate as run_calibration, fit_warnings
    from ..latency.devices import dump_device
    from ..outputs.files import write_atomic

    try:
        if not output.endswith((".yaml", ".yml")):
            raise MobilecostError("the calibrated profile is written as YAML; give a .yaml path", field="--output")
        check_output(output, "--output")
        columns = text_width(width)
        profile, rows, result = run_calibration(measurements, base, name or Path(output).stem, bounded)
        warnings = fit_warnings(base, rows, result)
        text = dump_device(profile)
        write_atomic(output, text, "--output")
        typer.echo(render_fit(profile, rows, result, columns), nl=False)
        for line in warnings:
            typer.echo(line, err=True)
        typer.echo(f"wrote {output}", err=True)
    except MobilecostError as exc:
        fail(exc)
