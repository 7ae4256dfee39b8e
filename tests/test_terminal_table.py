"""The terminal table layout equals rich's (the reference layout: a default `rich.table.Table` printed by a
colourless `rich.console.Console`, markup and emoji codes off) on random tables at random widths, and it
prints a user's text as written."""

import io
import random

import pytest
from rich.console import Console
from rich.table import Table

from mobilecost.outputs.terminal_table import TerminalTable, render

WORDS = ["a", "MACs", "params", "1,024,000", "b12.expand", "mobilenet_v3_large", "(float", "checkpoints)",
         "tensorflow/models/research/slim/nets/mobilenet/README.md@0123abcd", "x" * 37, "7x7x960", "—", "é",
         "α=0.75", "94.86", "", "ms", "compute", "at", "e=0.064", "(depthwise)", "日本語", "wide😄"]


def random_text(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    if rng.random() < 0.1:
        text = text.replace(" ", "\n", 1)
    if rng.random() < 0.1:
        text = "  " + text + "   "
    return text


def built(spec, table_class) -> list:
    """The spec's lines of prose and tables, each table built with `table_class` (rich's or mobilecost's:
    both take the same calls)."""
    items = []
    for item in spec:
        if isinstance(item, str):
            items.append(item)
            continue
        table = table_class(title=item["title"], caption=item["caption"])
        for header, justify, no_wrap, overflow in item["columns"]:
            table.add_column(header, justify=justify, no_wrap=no_wrap, overflow=overflow)
        for i, row in enumerate(item["rows"]):
            table.add_row(*row)
            if i in item["sections"]:
                table.add_section()
        items.append(table)
    return items


def rich_layout(spec, width: int) -> str:
    console = Console(file=io.StringIO(), width=width, force_terminal=False, color_system=None, markup=False,
                      emoji=False, highlight=False)
    for item in built(spec, Table):
        console.print(item)
    return console.file.getvalue()


def own_layout(spec, width: int) -> str:
    return render(*built(spec, TerminalTable), width=width)


def random_spec(rng: random.Random):
    spec = []
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.3:
            spec.append(random_text(rng, rng.randint(0, 30)))
            continue
        n = rng.randint(1, 9)
        columns = [(random_text(rng, rng.randint(1, 2)), rng.choice(["left", "right", "center"]), rng.random() < 0.2,
                    rng.choice(["fold", "ellipsis"])) for _ in range(n)]
        rows = [[random_text(rng, rng.choice([0, 1, 1, 1, 2, 5])) for _ in range(n)] for _ in range(rng.randint(0, 6))]
        spec.append({"title": random_text(rng, rng.randint(1, 12)) if rng.random() < 0.6 else None,
                     "caption": random_text(rng, rng.randint(1, 12)) if rng.random() < 0.3 else None,
                     "columns": columns, "rows": rows,
                     "sections": {i for i in range(len(rows)) if rng.random() < 0.2}})
    return spec


@pytest.mark.parametrize("seed", range(40))
def test_layout_equals_rich_on_random_tables(seed):
    rng = random.Random(seed)
    for _ in range(25):
        spec = random_spec(rng)
        width = rng.choice([20, 40, 60, 80, 100, 120, 200, rng.randint(12, 160)])
        assert own_layout(spec, width) == rich_layout(spec, width), (seed, width, spec)


def test_user_text_is_printed_as_written():
    table = TerminalTable(title="[bold]Ours:smile: [/bold]")
    table.add_column("layer [red]")
    table.add_row("b1\x1b[31m:thumbs_up:")
    out = render(table, "peak at [link=x]b1[/link]", width=80)
    assert "[bold]Ours:smile: [/bold]" in out and "layer [red]" in out
    assert "b1\\x1b[31m:thumbs_up:" in out and "\x1b" not in out
    assert "peak at [link=x]b1[/link]" in out


def test_title_and_caption_escape_control_characters():
    table = TerminalTable(title="Ours\x1b[2J", caption="bell\x07")
    table.add_column("a column wider than the title")
    out = render(table, width=40)
    assert "\x1b" not in out and "\x07" not in out
    assert "Ours\\x1b[2J" in out and "bell\\x07" in out


@pytest.mark.parametrize("command", [["report"], ["memory"], ["explain"], ["formula"],
                                     ["latency", "--device", "pixel4_a76_tflite_fp32_1t"]])
def test_commands_never_send_a_tables_control_characters_to_the_terminal(tmp_path, command):
    from pathlib import Path

    from typer.testing import CliRunner

    from mobilecost.cli import app

    text = (Path(__file__).parents[1] / "tables" / "mobilenet_v1.yaml").read_text(encoding="utf-8")
    table = tmp_path / "escape.yaml"
    table.write_text(text.replace("title: MobileNetV1", 'title: "Ours\\x1b[31mRED\\x07"', 1), encoding="utf-8")
    result = CliRunner().invoke(app, [command[0], str(table), *command[1:]])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    if command[0] not in ("formula", "latency"):  # these print no title
        assert "Ours\\x1b[31mRED\\x07" in result.stdout
