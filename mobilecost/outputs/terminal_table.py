"""Tables and lines of prose as plain text, in the layout of a default `rich.table.Table` printed by a
`rich.console.Console` without colour (heavy-headed box, one space of padding each side of a cell, title
and caption centred over the table, cells wrapped at spaces and folded inside words too long for a line).

Every cell, title and line is data: printed as written, never read as markup or as an emoji code, so
``[bold]`` or ``:smile:`` in a user's table stays those characters. Control characters other than a line
break are shown as ``\\xNN`` escapes, never sent to the terminal (`terminal_safe` does the same for
anything else written to a terminal).

Laying the text out here, rather than through rich, keeps a report's start-up free of rich's console
and table machinery; `tests/test_terminal_table.py` holds the layout equal to rich's on random tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# The heavy-headed box: top, header row, the rule under the header, body rows, section rule, bottom.
TOP = ("┏", "━", "┳", "┓")
HEAD = ("┃", "┃", "┃")
HEAD_RULE = ("┡", "━", "╇", "┩")
BODY = ("│", "│", "│")
SECTION_RULE = ("├", "─", "┼", "┤")
BOTTOM = ("└", "─", "┴", "┘")
PAD = 1  # spaces each side of a cell

_WORD = re.compile(r"\s*\S+\s*")
_TRAILING_SPACE = re.compile(r"\s+$")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
# What a terminal would act on in a stream of text (escape sequences, bells, erasing): every control
# character but tab, line feed and carriage return.
_TERMINAL_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def cell_len(text: str) -> int:
    """Terminal columns `text` takes (wide characters take two)."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len as wide_cell_len

    return wide_cell_len(text)


def set_cell_size(text: str, width: int) -> str:
    """`text` cut or padded with spaces to exactly `width` columns."""
    if text.isascii():
        return text[:width].ljust(width)
    from rich.cells import set_cell_size as wide_set_cell_size

    return wide_set_cell_size(text, width)


def chop_cells(text: str, width: int) -> list[str]:
    """`text` in pieces of at most `width` columns."""
    if text.isascii():
        return [text[i:i + width] for i in range(0, len(text), width)] or [""]
    from rich.cells import chop_cells as wide_chop_cells

    return wide_chop_cells(text, width)


def _escape(match: re.Match) -> str:
    return f"\\x{ord(match.group()):02x}"


def shown(text) -> str:
    """A value as the text a terminal shows: control characters (other than a line break) as escapes."""
    text = str(text)
    return _CONTROL.sub(_escape, text) if _CONTROL.search(text) else text


def terminal_safe(text: str) -> str:
    """Text for a terminal with every control character it would act on (but tab and line ends) escaped."""
    return _TERMINAL_CONTROL.sub(_escape, text) if _TERMINAL_CONTROL.search(text) else text


@dataclass
class Column:
    header: str
    justify: str = "left"  # left | right | center
    no_wrap: bool = False  # never wrapped, never narrowed to fit
    overflow: str = "ellipsis"  # a word longer than the column: "fold" onto the next line, or cut with "…"


@dataclass
class TerminalTable:
    """A table: its columns, its rows (each a list of cell texts) and where sections end."""

    title: str | None = None
    caption: str | None = None
    columns: list[Column] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    section_ends: set[int] = field(default_factory=set)  # indices of rows followed by a rule

    def add_column(self, header: str, justify: str = "left", no_wrap: bool = False, overflow: str = "ellipsis") -> None:
        self.columns.append(Column(shown(header), justify, no_wrap, overflow))

    def add_row(self, *cells) -> None:
        self.rows.append([shown(c) for c in cells])

    def add_section(self) -> None:
        """A rule under the last row added."""
        if self.rows:
            self.section_ends.add(len(self.rows) - 1)


def render(*items, width: int) -> str:
    """Tables and lines of prose, one after another, as text of at most `width` columns."""
    out: list[str] = []
    for item in items:
        lines = _table_lines(item, width) if isinstance(item, TerminalTable) else _wrap(shown(item), width, None)
        out.extend(_crop(line, width) for line in lines)
    return "".join(line + "\n" for line in out)


# --- layout ---------------------------------------------------------------------------------------------

def _divide(text: str, width: int, fold: bool = True) -> list[int]:
    """Offsets at which to break one line of text so that each piece fits `width` columns: at the start
    of a word that would overflow; inside a word longer than a line (folded) when `fold`."""
    breaks: list[int] = []
    offset = 0
    for match in _WORD.finditer(text):
        start, word = match.start(), match.group(0)
        word_length = cell_len(word.rstrip())
        if width - offset >= word_length:
            offset += cell_len(word)
        elif word_length > width:
            if fold:
                pieces = chop_cells(word, width)
                for i, piece in enumerate(pieces):
                    if start:
                        breaks.append(start)
                    if i == len(pieces) - 1:
                        offset = cell_len(piece)
                    else:
                        start += len(piece)
            else:
                if start:
                    breaks.append(start)
                offset = cell_len(word)
        elif offset and start:
            breaks.append(start)
            offset = cell_len(word)
    return breaks


def _truncate(text: str, width: int, overflow: str) -> str:
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…" if overflow == "ellipsis" else set_cell_size(text, width)
    return text


def _wrap(text: str, width: int, justify: str | None, no_wrap: bool = False, overflow: str = "fold") -> list[str]:
    """A text's lines wrapped to `width` columns and justified (None: neither padded nor aligned)."""
    lines: list[str] = []
    for line in text.split("\n"):
        if no_wrap:
            pieces = [line]
        else:
            cuts = [0, *_divide(line, width, fold=overflow == "fold"), len(line)]
            pieces = []
            for a, b in zip(cuts, cuts[1:]):
                piece = line[a:b]
                if len(piece) > width:  # spaces beyond the width at the end of a piece go
                    trailing = _TRAILING_SPACE.search(piece)
                    if trailing:
                        piece = piece[:len(piece) - min(len(trailing.group()), len(piece) - width)]
                pieces.append(piece)
        for piece in pieces:
            if justify == "left":
                length = cell_len(piece)
                piece = _truncate(piece, width, overflow)
                if length < width:
                    piece += " " * (width - length)
            elif justify == "right":
                piece = _truncate(piece.rstrip(), width, overflow)
                piece = " " * (width - cell_len(piece)) + piece
            elif justify == "center":
                piece = _truncate(piece.rstrip(), width, overflow)
                piece = " " * ((width - cell_len(piece)) // 2) + piece
                piece += " " * (width - cell_len(piece))
            lines.append(_truncate(piece, width, overflow))
    return lines


def _crop(line: str, width: int) -> str:
    return set_cell_size(line, width) if cell_len(line) > width else line


def _fit(line: str, width: int) -> str:
    """A line cut or padded to exactly `width` columns."""
    length = cell_len(line)
    return line + " " * (width - length) if length < width else _crop(line, width)


def _measure(text: str, max_width: int) -> tuple[int, int]:
    """Narrowest and widest a padded cell may be (its longest word, its longest line), at most `max_width`."""
    if max_width < 1:
        return 0, 0
    if max_width - 2 * PAD < 1:
        return max_width, max_width
    lines = text.splitlines()
    widest = max((cell_len(line) for line in lines), default=0)
    words = text.split()
    narrowest = max(cell_len(w) for w in words) if words else widest
    narrowest, widest = _normal(narrowest, widest, max_width)
    if widest < 1:
        narrowest, widest = 0, 0
    return _normal(narrowest + 2 * PAD, widest + 2 * PAD, max_width)


def _normal(low: int, high: int, max_width: int) -> tuple[int, int]:
    low = min(max(0, low), high)
    high = max(0, max(low, high))
    return min(low, max_width), min(high, max_width)


def _measure_column(cells: list[str], max_width: int) -> tuple[int, int]:
    if max_width < 1:
        return 0, 0
    measures = [_measure(c, max_width) for c in cells]
    return min(max(m[0] for m in measures), max_width), min(max(m[1] for m in measures), max_width)


def _reduce(total: int, ratios: list[int], maximums: list[int], values: list[int]) -> list[int]:
    """Take `total` off `values` in proportion to `ratios`, at most `maximums` from each."""
    ratios = [r if m else 0 for r, m in zip(ratios, maximums)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return values[:]
    remaining, out = total, []
    for ratio, maximum, value in zip(ratios, maximums, values):
        if ratio and total_ratio > 0:
            taken = min(maximum, round(ratio * remaining / total_ratio))
            out.append(value - taken)
            remaining -= taken
            total_ratio -= ratio
        else:
            out.append(value)
    return out


def _collapse(widths: list[int], wrapable: list[bool], max_width: int) -> list[int]:
    """Narrow the widest wrapable columns, step by step, until the table fits `max_width`."""
    total = sum(widths)
    excess = total - max_width
    if any(wrapable):
        while total and excess > 0:
            widest = max(w for w, ok in zip(widths, wrapable) if ok)
            second = max(w if ok and w != widest else 0 for w, ok in zip(widths, wrapable))
            ratios = [1 if (w == widest and ok) else 0 for w, ok in zip(widths, wrapable)]
            if not any(ratios) or not widest - second:
                break
            widths = _reduce(excess, ratios, [min(excess, widest - second)] * len(widths), widths)
            total = sum(widths)
            excess = total - max_width
    return widths


def _column_widths(table: TerminalTable, max_width: int) -> list[int]:
    cells = [[col.header, *(row[i] for row in table.rows)] for i, col in enumerate(table.columns)]
    widths = [_measure_column(c, max_width)[1] or 1 for c in cells]
    if sum(widths) > max_width:
        widths = _collapse(widths, [not col.no_wrap for col in table.columns], max_width)
        if sum(widths) > max_width:  # last resort: narrow every column evenly
            widths = _reduce(sum(widths) - max_width, [1] * len(widths), widths, widths)
        widths = [_measure_column(c, w)[1] or 0 for c, w in zip(cells, widths)]
    return widths


def _cell_lines(text: str, width: int, column: Column) -> list[str]:
    inner = width - 2 * PAD
    if inner < 1:  # no room for text: the cell is blank
        return []
    lines = _wrap(text, inner, column.justify, column.no_wrap, column.overflow)
    return [_fit(" " * PAD + _fit(line, inner) + " " * PAD, width) for line in lines]


def _rule(widths: list[int], parts: tuple[str, str, str, str]) -> str:
    left, horizontal, cross, right = parts
    return left + cross.join(horizontal * w for w in widths) + right


def _table_lines(table: TerminalTable, width: int) -> list[str]:
    if not table.columns:
        return [""]
    extra = 2 + len(table.columns) - 1  # the two edges and the dividers
    widths = _column_widths(table, width - extra)
    table_width = sum(widths) + extra
    lines: list[str] = []
    if table.title:
        lines += _wrap(shown(table.title), table_width, "center")
    lines.append(_rule(widths, TOP))
    rows = [[c.header for c in table.columns], *table.rows]
    for index, row in enumerate(rows):
        cells = [_cell_lines(text, w, col) for text, w, col in zip(row, widths, table.columns)]
        height = max(1, *(len(c) for c in cells))
        for c, w in zip(cells, widths):
            blank = [" " * w] * (height - len(c))
            c[:] = blank + c if index == 0 else c + blank  # the header sits at the bottom of its row
        left, divider, right = HEAD if index == 0 else BODY
        lines += [left + divider.join(c[i] for c in cells) + right for i in range(height)]
        if index == 0:
            lines.append(_rule(widths, HEAD_RULE))
        elif index - 1 in table.section_ends and index < len(rows) - 1:
            lines.append(_rule(widths, SECTION_RULE))
    lines.append(_rule(widths, BOTTOM))
    if table.caption:
        lines += _wrap(shown(table.caption), table_width, "center")
    return lines
