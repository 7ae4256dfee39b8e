"""The `mobilecost` command line. Data goes to stdout (or -o FILE), messages to stderr.

Exit codes: 0 success; 1 a budget check failed; 2 bad input (unknown variant, malformed table,
invalid option value) -- always one line on stderr naming the file, line and field.
"""

from __future__ import annotations

import sys

from .process import tune_process

tune_process()  # before numpy loads

import typer  # noqa: E402

# Each module registers its commands on `app` when imported.
from . import core, export, latency, measure, memory  # noqa: F401,E402
from .app import EXIT_BAD_INPUT, app, fail  # noqa: F401,E402


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("mobilecost: interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
