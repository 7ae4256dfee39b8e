"""The `mobilecost` command line. Data goes to stdout (or -o FILE), messages to stderr.

Exit codes: 0 success; 1 a budget check failed; 2 bad input (unknown variant, malformed table,
invalid option value) -- always one line on stderr naming the file, line and field.
"""

import sys

from .process import tune_process

tune_process()  # before numpy loads

import typer  # noqa: E402

# Each module registers its commands on `app` when imported.
from . import core, export, latency, measure, memory  # noqa: F401,E402
from .app import EXIT_BAD_INPUT, app, fail  # noqa: F401,E402


def main(argv: list[str] | None = None) -> None:
    """Run the command line (`argv`: the arguments, default sys.argv[1:]); a usage error (unknown option, a value not among an option's choices,
    a missing argument) is one line on stderr and exit 2, like any other bad input."""
    # typer ships its own copy of click; its exceptions live beside typer.BadParameter.
    click_errors = sys.modules[typer.BadParameter.__module__]
    try:
        code = app(args=argv, standalone_mode=False)
    except KeyboardInterrupt:
        typer.echo("mobilecost: interrupted", err=True)
        sys.exit(130)
    except click_errors.UsageError as exc:
        if isinstance(exc, click_errors.NoArgsIsHelpError):  # `mobilecost` alone prints the help, as before
            exc.show()
            sys.exit(exc.exit_code)
        typer.echo(f"mobilecost: error: {usage_line(exc)}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except click_errors.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("Aborted!", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


def usage_line(exc) -> str:
    """Click's message for a usage error on one line of readable length, with where to find the usage."""
    from ..spec.files import brief

    message = brief(" ".join(exc.format_message().split()), 300)
    command = exc.ctx.command_path if exc.ctx is not None else "mobilecost"
    return f"{message} (see '{command} --help')"


if __name__ == "__main__":
    main()
