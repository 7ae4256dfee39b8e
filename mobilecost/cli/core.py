"""`mobilecost` commands of the calculator itself: list, report, sweep, formula, validate."""

from typing import Optional

import typer

from ..errors import MobilecostError
from ..numeric.points import MAX_POINTS, POINT_BYTES
from .app import (
    ALPHA_OPT, ATTENTION_OPT, CONV_OPT, MODE_OPT, OUT_OPT, RES_OPT, RHO_OPT, SEM_OPT, SWEEP_BLOCKS, SWEEP_LARGE,
    SWEEP_LARGE_WITH_DEVICE, VARIANT_HELP, WIDTH_OPT, AttentionMacs, Convention, Mode, ReportFormat, SweepFormat, app,
    check_output, fail, text_width,
)


@app.command("list")
def list_command(width: Optional[int] = WIDTH_OPT) -> None:
    """List the built-in tables: classification networks, then detection and segmentation heads on a backbone
    table; each with its title and the source it follows."""
    from ..outputs.text import wrap
    from ..spec.loader import load_variant
    from ..spec.files import list_variants

    try:
        columns = text_width(width)
        tables = [(name, load_variant(name)) for name in list_variants()]
        groups = (("Classification networks", [t for t in tables if t[1].format != "head"]),
                  ("Detection and segmentation heads on a backbone table",
                   [t for t in tables if t[1].format == "head"]))
        lines: list[str] = []
        for heading, group in groups:
            if not group:
                continue
            name_width = max(len(name) for name, _ in group)
            lines += ([""] if lines else []) + [wrap(heading, columns)]
            for name, spec in group:
                lines.append(wrap(f"  {name:{name_width}s}  {spec.title}", columns, hanging=" " * (name_width + 2)))
                lines.append(wrap(f"      {spec.source}", columns, hanging=""))
        typer.echo("\n".join(lines))
    except MobilecostError as exc:
        fail(exc)


@app.command()
def report(
    variant: str = typer.Argument(..., help=VARIANT_HELP),
    alpha: str = ALPHA_OPT,
    rho: Optional[str] = RHO_OPT,
    resolution: Optional[str] = RES_OPT,
    mode: Mode = MODE_OPT,
    semantics: Optional[str] = SEM_OPT,
    convention: Convention = CONV_OPT,
    fmt: ReportFormat = typer.Option(ReportFormat.table, "--format", "-f"),
    output: Optional[str] = OUT_OPT,
    attention: AttentionMacs = ATTENTION_OPT,
    width: Optional[int] = WIDTH_OPT,
) -> None:
    """Per-layer MACs, parameters and activations, totals, share by layer type, published figures.

    A narrow table leaves out, in this order, the input shape, kernel, stride and op columns.

    A head table (a detector on a backbone, e.g. ssdlite320_mobilenet_v3_large) also splits the totals
    between backbone and head. MACs are those of its convolutions and linear layers; anchors, box
    decoding and non-maximum suppression are not layers and are not counted; joins (add, multiply,
    upsample) are element-wise ops, a concat none."""
    from ..numeric.one_point import evaluate_one
    from ..numeric.snapshot import snapshot_for
    from ..outputs.files import emit
    from ..outputs.report import render

    try:
        check_output(output)
        columns = text_width(width)
        table = snapshot_for(variant, resolution, mode.value, semantics)
        emit(render(evaluate_one(table, alpha, rho, resolution, convention.value, attention=attention.value), fmt.value,
                    columns), output)
    except MobilecostError as exc:
        fail(exc)


@app.command()
def sweep(
    variant: str = typer.Argument(..., help=VARIANT_HELP),
    alpha: str = typer.Option("0.25:1.0:0.25", "--alpha", "-a", help="List (0.5,1.0) or range START:STOP:STEP."),
    resolution: Optional[str] = typer.Option(None, "--resolution", "-r", help="List or range of input sides, or a list of HxW inputs of one aspect ratio (240x320,480x640)."),
    rho: Optional[str] = typer.Option(None, "--rho", help="List or range of rho (instead of --resolution)."),
    mode: Mode = MODE_OPT,
    semantics: Optional[str] = SEM_OPT,
    convention: Convention = CONV_OPT,
    fmt: SweepFormat = typer.Option(SweepFormat.csv, "--format", "-f"),
    output: Optional[str] = OUT_OPT,
    device: Optional[str] = typer.Option(None, "--device", "-d",
                                         help="Add a simulated latency_ms column for this device profile."),
    dtype: str = typer.Option("fp32", "--dtype", help="Bytes per element for act_peak_bytes and weight_bytes: fp32, fp16 or int8."),
    max_points: int = typer.Option(MAX_POINTS, "--max-points",
                                   help=f"Refuse grids of more configurations (each takes about {POINT_BYTES} bytes "
                                        f"of memory while evaluated: {MAX_POINTS:,} about "
                                        f"{MAX_POINTS * POINT_BYTES / 1e9:.1f} GB)."),
    width: Optional[int] = WIDTH_OPT,
) -> None:
    """Totals for every (alpha, resolution) of a grid, one row per configuration.

    `--format table` keeps alpha, resolution, macs, params and latency_ms; when it would not fit it leaves
    out first variant, rho and flops, then the parts of the totals."""
    import numpy as np

    from ..api import parse_grid
    from ..api import sweep as run_sweep
    from ..outputs.files import emit
    from ..outputs.progress import StepProgress
    from ..outputs.report import render_sweep

    try:
        check_output(output)
        text_columns = text_width(width)
        if max_points < 1:
            raise MobilecostError(f"at least 1, got {max_points}", field="--max-points")
        alphas = parse_grid(alpha, "--alpha", max_points=max_points)
        if resolution is not None and rho is not None:
            raise MobilecostError("give either --rho or --resolution, not both", field="--rho/--resolution")
        resolutions = parse_grid(resolution, "--resolution", integer=True, max_points=max_points) if resolution else None
        rhos = parse_grid(rho, "--rho", max_points=max_points) if rho else None
        if resolutions is None and rhos is None:
            from ..api import as_spec, default_sides

            resolutions = default_sides(as_spec(variant))
        columns = len(resolutions) if resolutions is not None else len(rhos)
        large = alphas.size * columns > (SWEEP_LARGE_WITH_DEVICE if device is not None else SWEEP_LARGE)
        blocks = SWEEP_BLOCKS if large and fmt == SweepFormat.csv else 1
        # The bar shows on stderr only once the work has taken more than a second: for a large grid,
        # rendering the rows (in blocks, same text as in one piece) takes longer than evaluating them.
        with StepProgress(1 + blocks, "sweep") as progress:
            frame = run_sweep(variant, alphas, resolutions, rhos, mode.value, semantics, convention.value, device, dtype,
                              max_points)
            progress(f"{len(frame):,} configurations evaluated")
            pieces = []
            for rows in np.array_split(np.arange(len(frame)), blocks):
                text = render_sweep(frame.iloc[rows[0]:rows[-1] + 1] if blocks > 1 else frame, fmt.value,
                                    text_columns)
                pieces.append(text if not pieces else text.split("\n", 1)[1])  # one CSV header
                progress(f"{rows[-1] + 1:,} of {len(frame):,} rows rendered")
            text = "".join(pieces)
        emit(text, output)
        if device is not None:
            from ..outputs.text import wrap

            typer.echo(wrap(f"latency_ms: {frame.attrs['label']}", text_columns), err=True)
            if frame.attrs.get("calibration_note"):
                typer.echo(wrap(frame.attrs["calibration_note"], text_columns), err=True)
    except MobilecostError as exc:
        fail(exc)


@app.command()
def formula(
    variant: str = typer.Argument(..., help=VARIANT_HELP),
    metric: str = typer.Option("macs", "--metric", "-m", help="macs, params, weights, biases, bn_affine, bn_stats, act_out, ..."),
    mode: Mode = typer.Option(Mode.ideal, "--mode", help="ideal: the papers' closed form; exact: with rounding."),
    semantics: Optional[str] = SEM_OPT,
    convention: Convention = CONV_OPT,
    latex: bool = typer.Option(False, "--latex", help="Print LaTeX instead of plain text."),
    output: Optional[str] = OUT_OPT,
    width: Optional[int] = WIDTH_OPT,
) -> None:
    """The total of a metric as a formula in alpha and rho.

    A long formula wraps before + and -, after * and after commas; --width 0 prints it on one line."""
    from ..analysis.formulas import total_formula
    from ..outputs.files import emit
    from ..outputs.text import wrap_formula

    try:
        check_output(output)
        columns = text_width(width)
        emit(wrap_formula(total_formula(variant, metric, mode.value, semantics, convention.value, latex), columns),
             output)
    except MobilecostError as exc:
        fail(exc)


@app.command()
def validate(table: str = typer.Argument(..., help="Path of a .yaml table (or a built-in name)."),
             width: Optional[int] = WIDTH_OPT) -> None:
    """Check a table: YAML, keys, types, rows, and the input-size column against shape propagation."""
    from ..numeric.checked import validate_table
    from ..outputs.text import wrap

    try:
        columns = text_width(width)
        typer.echo(wrap(validate_table(table), columns))
    except MobilecostError as exc:
        fail(exc)
