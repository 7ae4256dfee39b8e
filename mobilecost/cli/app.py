"""The `mobilecost` application, its shared options and the one way a command reports bad input."""


import os
import shutil
import sys
from enum import Enum

import typer

from ..errors import MobilecostError

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Exact cost calculator for MobileNets V1 to V4 and for networks described by tables like theirs "
                       "(MnasNet-A1, SSDLite, DeepLabv3 and LR-ASPP heads ship too).")

EXIT_BAD_INPUT = 2


class Mode(str, Enum):
    exact = "exact"
    ideal = "ideal"


class Convention(str, Enum):
    paper = "paper"
    torchvision = "torchvision"
    keras = "keras"


class AttentionMacs(str, Enum):
    included = "included"
    excluded = "excluded"


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
RES_OPT = typer.Option(None, "--resolution", "-r", help="Input side in pixels, or HxW (height x width, e.g. 240x320) (instead of --rho).")
MODE_OPT = typer.Option(Mode.exact, "--mode", help="exact: reference rounding; ideal: the papers' algebra.")
SEM_OPT = typer.Option(None, "--semantics", help="A named alternative of the table, e.g. keras or torchvision.")
CONV_OPT = typer.Option(Convention.paper, "--convention", help="What `params` sums: paper, torchvision or keras.")
OUT_OPT = typer.Option(None, "--output", "-o", help="Write to this file (atomically) instead of stdout.")
ATTENTION_OPT = typer.Option(AttentionMacs.included, "--attention-macs",
                             help="Whether MACs include attention's QK^T and attention x V (always also in attn_macs).")
MIN_WIDTH = 40
WIDTH_OPT = typer.Option(
    None, "--width", help="Text output fits this many columns (default: $COLUMNS, else the terminal's width, else 80 "
    "when not written to a terminal; 0: no limit). Tables narrower than their columns leave out the least useful "
    "ones and say which; a larger width, --width 0 or --format json/csv shows them all.")
# `sweep` renders CSV for grids larger than this (configurations) in SWEEP_BLOCKS blocks, with a progress bar.
SWEEP_LARGE, SWEEP_LARGE_WITH_DEVICE, SWEEP_BLOCKS = 200_000, 20_000, 20


def check_output(path: str | None, field: str = "-o") -> None:
    """Refuse an output path that cannot be written (a folder, a missing folder, ...) before any work."""
    if path:
        from ..outputs.files import destination

        destination(path, field)


def text_width(width: int | None) -> int:
    """The columns text output may take: --width if given (0: no limit), else $COLUMNS, else the terminal's
    width when stdout is one, else 80."""
    from ..outputs.text import NO_LIMIT

    if width is not None:
        if width != 0 and not MIN_WIDTH <= width <= NO_LIMIT:
            raise MobilecostError(f"give 0 (no limit) or {MIN_WIDTH} to {NO_LIMIT:,} columns, got {width}",
                                  field="--width")
        return width or NO_LIMIT
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return min(max(int(columns), MIN_WIDTH), NO_LIMIT)
    if sys.stdout.isatty():
        return max(shutil.get_terminal_size((80, 24)).columns, MIN_WIDTH)
    return 80


def check_seed(seed: int) -> None:
    if seed < 0:
        raise MobilecostError(f"seed must be at least 0, got {seed}", field="--seed")


def fail(exc: MobilecostError) -> None:
    typer.echo(f"mobilecost: error: {exc}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


