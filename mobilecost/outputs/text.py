"""Text layout for the terminal: tables and lines that fit a width in columns. No arithmetic here.

A table that is wider than the width first leaves out the columns its caller names as optional (in
that order), then wraps the remaining cells; lines of prose wrap at spaces under a hanging
indent; formulas wrap before `+` and `-`, after `*` and after commas, never inside a name or a number.
"""

from __future__ import annotations

import re
import textwrap

from .terminal_table import TerminalTable, cell_len, render

# `--width 0`: no limit (one line per formula, every column of every table).
NO_LIMIT = 100_000


def _cell_width(text: str) -> int:
    return max((cell_len(line) for line in str(text).split("\n")), default=0)


def natural_width(headers, rows) -> int:
    """Columns a terminal table (box, one space of padding each side of a cell) takes with no cell wrapped."""
    widths = [max([_cell_width(h)] + [_cell_width(r[i]) for r in rows]) for i, h in enumerate(headers)]
    return sum(widths) + 3 * len(widths) + 1


def fit_columns(headers, rows, width: int, optional=()) -> tuple[list[str], list[list[str]], list[str]]:
    """Leave out the `optional` columns, in that order, until the table fits `width`; an entry of `optional`
    may be a tuple of names left out together. Returns the kept headers, the kept rows and the names left out."""
    headers, rows, dropped = list(headers), [list(r) for r in rows], []
    for group in optional:
        if natural_width(headers, rows) <= width:
            break
        for name in (group,) if isinstance(group, str) else group:
            if name in headers:
                i = headers.index(name)
                headers.pop(i)
                for r in rows:
                    r.pop(i)
                dropped.append(name)
    return headers, rows, dropped


def dropped_message(dropped, width: int, formats: str = "json/csv") -> str:
    """What a table left out to fit `width` columns, and how to see it ("" when nothing)."""
    if not dropped:
        return ""
    return (f"(left out to fit {width} columns: {', '.join(dropped)}; a larger --width, --width 0 or "
            f"--format {formats} shows every column)")


def dropped_note(dropped, width: int) -> str:
    """`dropped_message` wrapped to `width`, as lines of text."""
    return wrap(dropped_message(dropped, width), width) + "\n" if dropped else ""


def text_table(headers, rows, right=(), width: int = 80, optional=(), title=None) -> str:
    """One table as text, at most `width` columns: columns named in `right` are right-aligned, the others
    left; `optional` columns are left out (first named first) when the table would not fit, and a line under
    the table says so; what still does not fit wraps inside its cells."""
    headers, rows, dropped = fit_columns(headers, rows, width, optional)
    table = TerminalTable(title=title)
    for h in headers:
        table.add_column(h, justify="right" if h in right else "left", overflow="fold")
    for row in rows:
        table.add_row(*row)
    return render(table, width=width) + dropped_note(dropped, width)


def wrap(text: str, width: int, hanging: str = "    ") -> str:
    """One line of prose wrapped at spaces to `width` columns, under its own leading spaces; continuation
    lines get `hanging` more. A word longer than a line (a long path) is split only when it cannot fit
    on a line of its own."""
    if len(text) <= width:
        return text
    lead = text[:len(text) - len(text.lstrip(" "))]
    return textwrap.fill(text.lstrip(" "), width=width, initial_indent=lead, subsequent_indent=lead + hanging,
                         break_on_hyphens=False, break_long_words=True)


def wrap_lines(lines, width: int, hanging: str = "    ") -> list[str]:
    """Each line (a text of several lines: each of its lines) wrapped with `wrap`."""
    return [part for text in lines for line in text.split("\n") for part in wrap(line, width, hanging).split("\n")]


def pack(items, width: int, sep: str = ", ") -> list[str]:
    """Items (never split) joined by `sep` into lines of at most `width` columns; an item longer than the
    width gets a line of its own."""
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + len(sep) + len(item) <= width:
            lines[-1] += sep + item
        else:
            if lines:
                lines[-1] += sep.rstrip()
            lines.append(item)
    return lines or [""]


# Where a formula may break, coarsest first: between terms, before a binary + or - (written with spaces
# around it); inside a term too long for a line, after a comma or after a single * (not inside **);
# inside a piece still too long (LaTeX has no *, nested calls are long), at any space or after an opening
# parenthesis. Never inside a name, a number or an operator.
_BREAKS = (re.compile(r"(?<= )(?=[+\-] )"), re.compile(r"(?<=, )|(?<=[^*]\*)(?=[^*])"), re.compile(r"(?<= )|(?<=\()"))


def wrap_formula(text: str, width: int, hanging: str = "    ") -> str:
    """A formula on lines of at most `width` columns, continuation lines indented by `hanging`; a line breaks
    between terms where it can, and inside a term only when the term does not fit on a line of its own."""
    if len(text) <= width:
        return text
    lines = [""]

    def room() -> int:
        return width - (len(hanging) if len(lines) > 1 else 0)

    def add(piece: str, level: int) -> None:
        if len(lines[-1]) + len(piece.rstrip()) <= room():
            lines[-1] += piece
            return
        if lines[-1].strip():
            lines[-1] = lines[-1].rstrip()
            lines.append("")
        if len(piece.rstrip()) <= room() or level == len(_BREAKS):
            lines[-1] += piece
            return
        for part in _BREAKS[level].split(piece):
            add(part, level + 1)

    for term in _BREAKS[0].split(text):
        add(term, 1)
    return "\n".join([lines[0].rstrip()] + [hanging + line.strip() for line in lines[1:]])
