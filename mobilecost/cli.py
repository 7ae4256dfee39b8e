"""The `mobilecost` command line. Data goes to stdout (or -o FILE), messages to stderr.

Exit codes: 0 success; 1 a budget check failed; 2 bad input (unknown variant, malformed table,
invalid option value) -- always one line on stderr naming the file, line and field.
"""

from __future__ import annotations

import sys
from enum import Enum
from typing import Optional

import typer

from .errors import MobilecostError

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Exact cost calculator for MobileNets V1, V2, V3-Large and V3-Small, and for networks described by tables like theirs (MnasNet-A1 ships too).")

EXIT_BAD_INPUT = 2


class Mode(str, Enum):
    exact = "exact"
    ideal = "ideal"


class Convention(str, Enum):
    paper = "paper"
    torchvision = "torchvision"
    keras = "keras"


class ReportFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


class SweepFormat(str, Enum):
    csv = "csv"
    json = "json"
    table = "table"


VARIANT_HELP = "A built-in variant (see `mobilecost list`) or the path of a .yaml table."
ALPHA_OPT = typer.Option("1.0", "--alpha", "-a", help="Width multiplier alpha (> 0).")
RHO_OPT = typer.Option(None, "--rho", help="Resolution multiplier rho: input side round(224 * rho).")
RES_OPT = typer.Option(None, "--resolution", "-r", help="Input side in pixels (instead of --rho).")
MODE_OPT = typer.Option(Mode.exact, "--mode", help="exact: reference rounding; ideal: the papers' algebra.")
SEM_OPT = typer.Option(None, "--semantics", help="A named alternative of the table, e.g. keras or torchvision.")
CONV_OPT = typer.Option(Convention.paper, "--convention", help="What `params` sums: paper, torchvision or keras.")
OUT_OPT = typer.Option(None, "--output", "-o", help="Write to this file (atomically) instead of stdout.")
# `sweep` renders CSV for grids larger than this (configurations) in SWEEP_BLOCKS blocks, with a progress bar.
SWEEP_LARGE, SWEEP_LARGE_WITH_DEVICE, SWEEP_BLOCKS = 200_000, 20_000, 20


def fail(exc: MobilecostError) -> None:
    typer.echo(f"mobilecost: error: {exc}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


@app.command("list")
def list_command() -> None:
    """List the built-in variants and the sources their tables follow."""
    from .loader import list_variants, load_variant

    for name in list_variants():
        spec = load_variant(name)
        typer.echo(f"{name:20s} {spec.title:20s} {spec.source}")


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
) -> None:
    """Per-layer MACs, parameters and activations, totals, share by layer type, published figures."""
    from .frames import evaluate, share_by_type
    from .output import emit
    from .report import render

    try:
        frame = evaluate(variant, alpha, rho, resolution, mode.value, semantics, convention.value)
        emit(render(frame, share_by_type(frame), fmt.value), output)
    except MobilecostError as exc:
        fail(exc)


@app.command()
def sweep(
    variant: str = typer.Argument(..., help=VARIANT_HELP),
    alpha: str = typer.Option("0.25:1.0:0.25", "--alpha", "-a", help="List (0.5,1.0) or range START:STOP:STEP."),
    resolution: Optional[str] = typer.Option(None, "--resolution", "-r", help="List or range of input sides."),
    rho: Optional[str] = typer.Option(None, "--rho", help="List or range of rho (instead of --resolution)."),
    mode: Mode = MODE_OPT,
    semantics: Optional[str] = SEM_OPT,
    convention: Convention = CONV_OPT,
    fmt: SweepFormat = typer.Option(SweepFormat.csv, "--format", "-f"),
    output: Optional[str] = OUT_OPT,
    device: Optional[str] = typer.Option(None, "--device", "-d",
                                         help="Add a simulated latency_ms column for this device profile."),
    dtype: str = typer.Option("fp32", "--dtype", help="Bytes per element for act_peak_bytes and weight_bytes: fp32, fp16 or int8."),
) -> None:
    """Totals for every (alpha, resolution) of a grid, one row per configuration."""
    import numpy as np

    from .frames import parse_grid
    from .frames import sweep as run_sweep
    from .output import emit
    from .progress import StepProgress
    from .report import render_sweep

    try:
        alphas = parse_grid(alpha, "--alpha")
        if resolution is not None and rho is not None:
            raise MobilecostError("give either --rho or --resolution, not both", field="--rho/--resolution")
        resolutions = parse_grid(resolution, "--resolution", integer=True) if resolution else None
        rhos = parse_grid(rho, "--rho") if rho else None
        if resolutions is None and rhos is None:
            resolutions = [224]
        columns = len(resolutions) if resolutions is not None else len(rhos)
        large = alphas.size * columns > (SWEEP_LARGE_WITH_DEVICE if device is not None else SWEEP_LARGE)
        blocks = SWEEP_BLOCKS if large and fmt == SweepFormat.csv else 1
        # The bar shows on stderr only once the work has taken more than a second: for a large grid,
        # rendering the rows (in blocks, same text as in one piece) takes longer than evaluating them.
        with StepProgress(1 + blocks, "sweep") as progress:
            frame = run_sweep(variant, alphas, resolutions, rhos, mode.value, semantics, convention.value, device, dtype)
            progress(f"{len(frame):,} configurations evaluated")
            pieces = []
            for rows in np.array_split(np.arange(len(frame)), blocks):
                text = render_sweep(frame.iloc[rows[0]:rows[-1] + 1] if blocks > 1 else frame, fmt.value)
                pieces.append(text if not pieces else text.split("\n", 1)[1])  # one CSV header
                progress(f"{rows[-1] + 1:,} of {len(frame):,} rows rendered")
            text = "".join(pieces)
        emit(text, output)
        if device is not None:
            typer.echo(f"latency_ms: {frame.attrs['label']}", err=True)
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
) -> None:
    """The total of a metric as a formula in alpha and rho."""
    from .formulas import total_formula
    from .output import emit

    try:
        emit(total_formula(variant, metric, mode.value, semantics, convention.value, latex), output)
    except MobilecostError as exc:
        fail(exc)


@app.command()
def validate(table: str = typer.Argument(..., help="Path of a .yaml table (or a built-in name).")) -> None:
    """Check a table: YAML, keys, types, rows, and the input-size column against shape propagation."""
    from .validation import validate_table

    try:
        typer.echo(validate_table(table))
    except MobilecostError as exc:
        fail(exc)


# Commands of the other stages register themselves on `app` when their module is imported.
from . import cli_export, cli_latency, cli_measure, cli_memory  # noqa: E402,F401


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("mobilecost: interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
