"""`mobilecost` commands for memory, reconciliation and the papers' tables (on the shared Typer app)."""

from enum import Enum
from typing import Optional

import typer

from .app import (
    ALPHA_OPT, MODE_OPT, OUT_OPT, RES_OPT, RHO_OPT, SEM_OPT, VARIANT_HELP, WIDTH_OPT, Mode, app, check_output, fail,
    text_width,
)
from ..errors import MobilecostError


class Dtype(str, Enum):
    fp32 = "fp32"
    fp16 = "fp16"
    int8 = "int8"


class Schedule(str, Enum):
    sequential = "sequential"
    v2_sliced = "v2-sliced"


class TextFormat(str, Enum):
    table = "table"
    json = "json"


FMT_OPT = typer.Option(TextFormat.table, "--format", "-f")


@app.command()
def memory(
    variant: str = typer.Argument(..., help=VARIANT_HELP),
    alpha: str = ALPHA_OPT,
    rho: Optional[str] = RHO_OPT,
    resolution: Optional[str] = RES_OPT,
    mode: Mode = MODE_OPT,
    semantics: Optional[str] = SEM_OPT,
    dtype: Dtype = typer.Option(Dtype.fp32, "--dtype", help="Bytes per activation: fp32, fp16 or int8."),
    schedule: Schedule = typer.Option(Schedule.sequential, "--schedule",
                                      help="sequential, or v2-sliced (MobileNetV2 Sec. 5.1 memory-efficient inference)."),
    slices: Optional[int] = typer.Option(None, "--slices", help="Slices per block for v2-sliced (default: the block's t)."),
    fmt: TextFormat = FMT_OPT,
    output: Optional[str] = OUT_OPT,
    width: Optional[int] = WIDTH_OPT,
) -> None:
    """The live activation set at every step, and its peak (where, and what is live there)."""
    from ..numeric.one_point import configuration, exact_sum, live_sets
    from ..numeric.snapshot import snapshot_for
    from ..outputs.files import emit
    from ..outputs.render_memory import render_memory

    try:
        check_output(output)
        columns = text_width(width)
        if slices is not None and schedule is not Schedule.v2_sliced:
            raise MobilecostError("a slice count applies to --schedule v2-sliced only", field="--slices")
        table = snapshot_for(variant, resolution, mode.value, semantics)
        point, values = configuration(table, alpha, rho, resolution)
        ls = live_sets(table, values, schedule.value, slices, dtype.value)
        side_w = point.resolution if point.width is None else point.width
        title = f"{table.title}  alpha={point.alpha:g}  input {point.resolution}x{side_w}  mode {mode.value}"
        emit(render_memory(ls, title, exact_sum(values["act_out"]), fmt.value, columns), output)
    except MobilecostError as exc:
        fail(exc)


@app.command()
def explain(
    variant: str = typer.Argument(..., help=VARIANT_HELP),
    alpha: str = ALPHA_OPT,
    resolution: Optional[str] = RES_OPT,
    fmt: TextFormat = FMT_OPT,
    output: Optional[str] = OUT_OPT,
    width: Optional[int] = WIDTH_OPT,
) -> None:
    """mobilecost's count next to every published figure for this configuration, and the walk between them."""
    from ..analysis.explain import explain as run_explain
    from ..outputs.files import emit
    from ..outputs.render_memory import render_explain

    try:
        check_output(output)
        columns = text_width(width)
        emit(render_explain(run_explain(variant, alpha, resolution), fmt.value, columns), output)
    except MobilecostError as exc:
        fail(exc)


@app.command()
def paper(
    name: str = typer.Argument(..., help="mobilenet_v1, mobilenet_v2, mobilenet_v3 or mobilenet_v4"),
    fmt: TextFormat = FMT_OPT,
    output: Optional[str] = OUT_OPT,
    width: Optional[int] = WIDTH_OPT,
) -> None:
    """Each published cost table of a paper next to mobilecost's figures and the difference.

    A table too narrow for its notes numbers them and prints them under it."""
    from ..outputs.files import emit
    from ..analysis.papers import paper_tables, separable_ratio
    from ..outputs.render_memory import render_paper

    try:
        check_output(output)
        columns = text_width(width)
        frame = paper_tables(name)
        emit(render_paper(frame, separable_ratio() if name == "mobilenet_v1" else None, fmt.value, columns), output)
    except MobilecostError as exc:
        fail(exc)
