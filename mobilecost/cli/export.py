"""`mobilecost` commands for export: ``export`` (workbook, CSV, JSON), ``check`` (budgets), ``plot``."""

from enum import Enum
from typing import List, Optional

import typer

from .app import (
    ALPHA_OPT, CONV_OPT, RES_OPT, RHO_OPT, SEM_OPT, VARIANT_HELP, WIDTH_OPT, Convention, Mode, app, check_output, fail,
    text_width,
)
from ..errors import MobilecostError
from ..outputs.progress import StepProgress

EXIT_OVER_BUDGET = 1
# The simulated latency fits the budget but the top of its error band does not: a CI job fails on it
# unless it chooses to accept the model's uncertainty (e.g. `|| [ $? -eq 3 ]`).
EXIT_WITHIN_ERROR = 3
DEVICE_HELP = "A device profile (see tables/devices/) for simulated latency."


@app.command()
def export(
    variants: List[str] = typer.Argument(..., help=VARIANT_HELP),
    xlsx: Optional[str] = typer.Option(None, "--xlsx", help="Write the design-review workbook here."),
    csv_dir: Optional[str] = typer.Option(None, "--csv", help="Write summary.csv, sweep.csv, layers_*.csv here."),
    json_path: Optional[str] = typer.Option(None, "--json", help="Write the summary and layers as JSON here."),
    html: Optional[str] = typer.Option(None, "--html", help="Write the interactive design-review page here (one file)."),
    alpha: Optional[str] = typer.Option(
        None, "--alpha", "-a", help="Width multipliers: list (0.5,1.0) or START:STOP:STEP [default: 1.0]; the page opens at the first."),
    resolution: Optional[str] = typer.Option(
        None, "--resolution", "-r", help="Input sides: list or range, or HxW inputs of one aspect ratio (240x320,480x640) [default: 224, a rectangular table's own input]; the page opens at the first (else each table's own side)."),
    semantics: Optional[str] = SEM_OPT,
    convention: Convention = CONV_OPT,
    device: Optional[str] = typer.Option(None, "--device", help=DEVICE_HELP),
) -> None:
    """Design-review workbook (live alpha/rho formulas), CSV, JSON and an interactive HTML page for the given variants."""
    from ..api import parse_grid
    from ..outputs.workbook import export_review, export_steps

    try:
        alphas = parse_grid("1.0" if alpha is None else alpha, "--alpha")
        # None: 224 on a square table, a rectangular table's own input (workbook.default_sides)
        resolutions = None if resolution is None else parse_grid(resolution, "--resolution", integer=True)
        if not (xlsx or csv_dir or json_path or html):
            raise MobilecostError("nothing to write: give --xlsx, --csv, --json or --html", field="--xlsx")
        page = None
        if html:  # built in full before anything is written
            from ..outputs.files import destination
            from ..outputs.html import review_page

            destination(html, "--html")
            first = None if resolution is None else resolutions[0]
            if isinstance(first, tuple):
                if first[0] != first[1]:
                    raise MobilecostError(f"the review page takes square inputs; {first[0]}x{first[1]} is not one "
                                          "(the workbook, CSV and JSON take it)", field="--resolution")
                first = first[0]
            start = {"alpha": None if alpha is None else float(alphas[0]),
                     "resolution": None if first is None else int(first)}
            page = review_page(variants, semantics, convention.value, device, start)
        if xlsx or csv_dir or json_path:
            with StepProgress(export_steps(variants, xlsx, csv_dir, json_path), "export") as progress:
                export_review(variants, alphas, resolutions, xlsx, csv_dir, json_path, semantics, convention.value,
                              device, on_step=progress)
        if page is not None:
            from ..outputs.files import write_atomic

            write_atomic(html, page, "--html")
    except MobilecostError as exc:
        fail(exc)
    written = [p for p in (xlsx, csv_dir, json_path, html) if p]
    typer.echo(f"mobilecost: wrote {', '.join(written)}", err=True)


@app.command()
def check(
    variant: str = typer.Argument(..., help=VARIANT_HELP),
    alpha: str = ALPHA_OPT,
    rho: Optional[str] = RHO_OPT,
    resolution: Optional[str] = RES_OPT,
    max_macs: Optional[str] = typer.Option(None, "--max-macs", help="e.g. 150M"),
    max_params: Optional[str] = typer.Option(None, "--max-params", help="e.g. 4.2M (counted by --convention)"),
    max_peak_memory: Optional[str] = typer.Option(None, "--max-peak-memory", help="Peak activation memory, e.g. 2MB or 2MiB."),
    max_latency_ms: Optional[str] = typer.Option(
        None, "--max-latency-ms", help="Simulated latency on --device, e.g. 20. Exit 3 when it fits but the top of "
        "the profile's error band does not."),
    device: Optional[str] = typer.Option(None, "--device", help=DEVICE_HELP),
    dtype: str = typer.Option("fp32", "--dtype", help="Activation dtype for the memory budget: fp32, fp16, int8."),
    semantics: Optional[str] = SEM_OPT,
    convention: Convention = CONV_OPT,
    width: Optional[int] = WIDTH_OPT,
) -> None:
    """Check a configuration against budgets, for CI. Exit codes: 0 every budget fits; 1 a budget is exceeded
    (for latency: the simulated latency itself is over); 3 nothing is exceeded but the simulated latency is within
    the model's error of its budget (the top of the profile's error band is over it, see `mobilecost devices`);
    2 bad input."""
    from ..analysis.budget import Limit, check_budget, describe_fit, near_budget, parse_quantity
    from ..numeric.one_point import evaluate_one
    from ..numeric.points import Point
    from ..numeric.snapshot import snapshot_for

    from ..outputs.text import wrap

    try:
        columns = text_width(width)
        limits = []
        if max_macs:
            limits.append(Limit("macs", "MACs", parse_quantity(max_macs, "count", "--max-macs"), "count"))
        if max_params:
            limits.append(Limit("params", f"params ({convention.value})",
                                parse_quantity(max_params, "count", "--max-params"), "count"))
        if max_peak_memory:
            limits.append(Limit("act_peak_bytes", f"peak activation memory ({dtype})",
                                parse_quantity(max_peak_memory, "bytes", "--max-peak-memory"), "bytes"))
        if device and not max_latency_ms:  # else an unknown or mistyped device would pass unnoticed
            raise MobilecostError("a device is used for the latency budget only; give --max-latency-ms too",
                                  field="--device")
        if max_latency_ms:
            if not device:
                raise MobilecostError("a latency budget needs --device", field="--max-latency-ms")
            limits.append(Limit("latency_ms", f"simulated latency on {device}",
                                parse_quantity(max_latency_ms, "ms", "--max-latency-ms"), "ms"))
        if not limits:
            raise MobilecostError("give at least one budget (--max-macs, --max-params, --max-peak-memory, "
                                  "--max-latency-ms)", field="--max-macs")
        # Counts, memory and (with a latency budget) the simulated latency of one configuration: plain Python.
        table = snapshot_for(variant, resolution, "exact", semantics)
        report = evaluate_one(table, alpha, rho, resolution, convention.value, dtype)
        a = report.attrs
        point = Point(a["alpha"], a["rho"], a["resolution"], a.get("width"))
        totals = report.attrs["totals"]
        note = ""  # with a latency budget: said when the configuration lies outside the calibration rows' sizes
        row = {"variant": report.attrs["variant"], "macs": totals["macs"], "params": totals["params"],
               "act_peak_bytes": report.attrs["memory"]["act_peak_bytes"]}
        if max_latency_ms:
            from ..latency.point_report import latency_report
            from ..latency.profile_cache import device_figures

            simulated = latency_report(table, device_figures(device), alpha, rho, resolution)
            band = simulated.attrs["device"]["band"]
            note = simulated.attrs["calibration_note"]
            row.update({key: simulated.attrs["totals"][key] for key in ("latency_ms", "latency_ms_low", "latency_ms_high")})
    except MobilecostError as exc:
        fail(exc)
    where = f"{row['variant']} alpha {point.alpha:g} at {point.shape_text}"
    reasons, near = check_budget(row, limits), near_budget(row, limits)
    if reasons:
        verdict, code = f"over budget: {where}: " + "; ".join(reasons), EXIT_OVER_BUDGET
    elif near:
        verdict, code = f"within the model's error of the budget: {where}: " + "; ".join(near) + f" ({band})", EXIT_WITHIN_ERROR
    else:
        verdict, code = f"within budget: {where}: {describe_fit(row, limits)}", 0
    typer.echo(wrap(f"mobilecost: {verdict}", columns), err=True)
    if note:  # after the verdict, which stays the first line
        typer.echo(wrap(f"mobilecost: {note}", columns), err=True)
    if code:
        raise typer.Exit(code)


class PlotKind(str, Enum):
    tradeoff = "tradeoff"
    accuracy = "accuracy"
    layers = "layers"
    roofline = "roofline"


@app.command()
def plot(
    kind: PlotKind = typer.Argument(..., help="tradeoff, accuracy, layers or roofline."),
    variants: Optional[List[str]] = typer.Argument(None, help=VARIANT_HELP + " (accuracy: families to show; default all)."),
    output: str = typer.Option(..., "--output", "-o", help="FILE.png, FILE.svg or FILE.pdf (written atomically)."),
    metric: str = typer.Option("macs", "--metric", "-m", help="tradeoff: macs, params, act_peak_bytes or latency_ms."),
    alpha: str = ALPHA_OPT,
    rho: Optional[str] = RHO_OPT,
    resolution: Optional[str] = RES_OPT,
    device: Optional[str] = typer.Option(None, "--device", help=DEVICE_HELP),
    semantics: Optional[str] = SEM_OPT,
    convention: Convention = CONV_OPT,
    mode: Mode = typer.Option(Mode.exact, "--mode", help="tradeoff: exact (reference rounding, steps visible) or ideal."),
    dpi: float = typer.Option(150, "--dpi", help="Dots per inch of a PNG (150: about 1,650 pixels wide)."),
) -> None:
    """Figures: the alpha-rho trade-off plane, accuracy against cost, per-block bars, the roofline."""
    try:
        from ..outputs.plots import save_figure

        check_output(output)
        if not 20 <= dpi <= 1200:
            raise MobilecostError(f"dots per inch must be between 20 and 1200, got {dpi:g}", field="--dpi")
        with StepProgress(_steps(kind, variants or [], device), f"plot {kind.value}") as progress:
            fig = _figure(kind, variants or [], metric, alpha, rho, resolution, device, semantics, convention.value,
                          mode.value, progress)
            save_figure(fig, output, dpi)
    except MobilecostError as exc:
        fail(exc)
    typer.echo(f"mobilecost: wrote {output}", err=True)


def _one(variants, kind: str) -> str:
    if len(variants) != 1:
        raise MobilecostError(f"'{kind}' draws one variant; got {len(variants)}", field="VARIANT")
    return variants[0]


def _families(variants):
    """The families named by the tables (None: all); two different tables with one name are refused."""
    from ..api import checked_spec
    from ..spec.loader import unique_tables

    return [spec.name for spec in unique_tables([checked_spec(v) for v in variants])] or None


def _steps(kind, variants, device) -> int:
    if kind is PlotKind.tradeoff:
        return len(variants)
    if kind is PlotKind.accuracy and device is not None:
        from ..outputs.plots import accuracy_points

        return len(accuracy_points(_families(variants)))
    return 1


def _figure(kind, variants, metric, alpha, rho, resolution, device, semantics, convention, mode, on_step):
    from ..outputs import plots, plots_layers

    metric = {"memory": "act_peak_bytes", "latency": "latency_ms", "peak_memory": "act_peak_bytes"}.get(metric, metric)
    if kind is not PlotKind.tradeoff:  # options only the trade-off plane reads: refused, not silently ignored
        if metric != "macs":
            raise MobilecostError(f"the metric is the trade-off plot's; '{kind.value}' has no --metric",
                                  field="--metric")
        if mode != "exact":
            raise MobilecostError(f"--mode ideal is the trade-off plot's; '{kind.value}' counts exactly",
                                  field="--mode")
    if kind is PlotKind.tradeoff:
        if not variants:
            raise MobilecostError("name at least one variant", field="VARIANT")
        return plots.plot_tradeoff(variants, metric, device, semantics, convention, mode, on_step=on_step)
    if kind is PlotKind.accuracy:
        return plots.plot_accuracy(_families(variants), device, semantics, on_step=on_step, convention=convention)
    variant = _one(variants, kind.value)
    if kind is PlotKind.layers:
        return plots_layers.plot_layers(variant, alpha, resolution, rho, device, semantics, convention)
    return plots_layers.plot_roofline(variant, device, alpha, resolution, rho, semantics)
