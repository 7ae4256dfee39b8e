"""`mobilecost onnx` and `mobilecost measure`: from a table to a running, timed network.

Both need the optional extra ``pip install 'mobilecost[measure]'`` (onnx, onnxruntime); without
it they say so in one line and exit 2.
"""

from typing import List, Optional

import typer

from .app import ALPHA_OPT, RES_OPT, SEM_OPT, VARIANT_HELP, app, check_output, check_seed, fail
from ..errors import MobilecostError


@app.command("onnx")
def onnx_command(
    variant: str = typer.Argument(..., help=VARIANT_HELP),
    alpha: str = ALPHA_OPT,
    resolution: Optional[str] = RES_OPT,
    rho: Optional[str] = typer.Option(None, "--rho", help="Resolution multiplier rho (instead of --resolution)."),
    semantics: Optional[str] = SEM_OPT,
    seed: int = typer.Option(0, "--seed", help="Seed of the random weights."),
    fold_bn: bool = typer.Option(False, "--fold-bn", help="Fold batch norm into the convolutions' biases."),
    output: str = typer.Option(..., "--output", "-o", help="The .onnx file to write (atomically)."),
) -> None:
    """Write the table's network as an ONNX model with random weights, named after the cost report's layers."""
    from ..measure.onnx_graph import build_model, parameter_count, save_model

    try:
        check_seed(seed)
        check_output(output)
        model = build_model(variant, alpha, resolution, rho, semantics, seed, fold_bn)
        save_model(model, output)
    except MobilecostError as exc:
        fail(exc)
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    typer.echo(f"wrote {output}: {len(model.graph.node)} nodes, {parameter_count(model):,} parameters, "
               f"input {'x'.join(map(str, shape))}", err=True)


@app.command()
def measure(
    variants: List[str] = typer.Argument(..., help="Built-in variants or paths of .yaml tables."),
    alpha: str = typer.Option("1.0", "--alpha", "-a", help="List (0.5,1.0) or range START:STOP:STEP."),
    resolution: str = typer.Option("224", "--resolution", "-r", help="List or range of input sides."),
    semantics: Optional[str] = SEM_OPT,
    threads: int = typer.Option(1, "--threads", help="onnxruntime intra-op threads."),
    repeats: int = typer.Option(30, "--repeats", help="Timed runs per configuration (median reported), 3 per "
                                "visit after 2 untimed ones; the configurations take turns."),
    warmup: int = typer.Option(5, "--warmup", help="Untimed runs when a configuration is loaded."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random weights and input."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="CSV file to write (atomically)."),
) -> None:
    """Time each configuration with onnxruntime on this machine (batch 1) and write a latency CSV.

    Calibrate a profile from it with `mobilecost calibrate CSV --base generic_cpu_onnxruntime`."""
    from ..api import parse_grid
    from ..measure.timing import Settings, check_configurations, configurations, to_csv
    from ..measure.timing import measure as run_measure
    from ..outputs.files import emit

    try:
        check_output(output)
        settings = Settings(threads, repeats, warmup, seed, semantics).check()
        configs = configurations(variants, parse_grid(alpha, "--alpha"),
                                 parse_grid(resolution, "--resolution", integer=True))
        check_configurations(configs, settings)
        frame = _with_progress(configs, settings, run_measure)
        emit(to_csv(frame), output)
    except MobilecostError as exc:
        fail(exc)


def _with_progress(configs, settings, run):
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    columns = (TextColumn("measuring"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
               TextColumn("{task.description}"))
    with Progress(*columns, console=Console(stderr=True)) as progress:
        task = progress.add_task("", total=None)

        def step(done: int, total: int, text: str) -> None:
            progress.update(task, completed=done, total=total, description=text)

        return run(configs, settings, step)
