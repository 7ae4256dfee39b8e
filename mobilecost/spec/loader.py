"""Read a variant table from YAML (safely), validate it, and say exactly where it is wrong.

Only this module reads YAML. A table is named either by a built-in variant name
(``mobilenet_v1``) or by a path to a user's own ``.yaml`` file.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from ..errors import MobilecostError, quoted
from .files import brief, display_path, is_file, list_variants, read_text_file, tables_dir
from .models import ROW_MODELS, BackboneSpec, VariantSpec, parse_size


MAX_DEPTH = 64  # nesting of YAML mappings and lists; a table needs 5
MAX_DIGITS = 4000  # of a YAML integer (Python refuses to read longer ones; models bound far lower)
# YAML values (scalars, lists, mappings) of one file: the largest built-in table has about 500. PyYAML
# takes some 30 us and 1.4 kB per value, so a 16 MiB file of them took 4 minutes and 5.7 GB to refuse.
MAX_NODES = 50_000


class _LineDict(dict):
    lines: dict
    line: int


class _LineList(list):
    lines: list
    line: int


class _SafeLineLoader(yaml.SafeLoader):
    """yaml.SafeLoader (no object construction) that remembers the line of every key and item,
    and refuses nesting deeper than MAX_DEPTH (the composer recurses once per level) and more than
    MAX_NODES values."""

    depth = 0
    nodes = 0

    def compose_node(self, parent, index):
        self.depth += 1
        self.nodes += 1
        try:
            if self.depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise MobilecostError(f"nested more than {MAX_DEPTH} levels deep", where=f"line {mark.line + 1}")
            if self.nodes > MAX_NODES:
                mark = self.peek_event().start_mark
                raise MobilecostError(f"more than {MAX_NODES:,} YAML values; a table or a device profile has a few "
                                      "hundred", where=f"line {mark.line + 1}")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _refuse_long_number(node) -> None:
    """Python refuses to read integers of more than some 4,300 digits; no table needs more than a few."""
    if len(node.value) > MAX_DIGITS:
        raise MobilecostError(f"a number of {len(node.value):,} characters", where=f"line {node.start_mark.line + 1}")


def _construct_int(loader, node):
    _refuse_long_number(node)
    return yaml.SafeLoader.construct_yaml_int(loader, node)


def _construct_float(loader, node):
    _refuse_long_number(node)
    try:
        return yaml.SafeLoader.construct_yaml_float(loader, node)
    except OverflowError:  # a base-60 float (1:30.5) whose whole part no float holds
        raise MobilecostError(f"the number {brief(node.value)} is too large",
                              where=f"line {node.start_mark.line + 1}") from None


def _construct_str(loader, node):
    value = yaml.SafeLoader.construct_yaml_str(loader, node)
    surrogate = _SURROGATE.search(value)
    if surrogate:  # an escape such as "\ud800": no character, and no UTF-8 output can hold it
        raise MobilecostError(f"\\u{ord(surrogate.group()):04x} is half of a UTF-16 pair, not a character",
                              where=f"line {node.start_mark.line + 1}")
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")


def _construct_mapping(loader, node):
    loader.flatten_mapping(node)
    result = _LineDict()
    result.line = node.start_mark.line + 1
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise MobilecostError("a mapping key must be a plain value", where=f"line {key_node.start_mark.line + 1}")
        if key in result:
            raise MobilecostError(f"duplicate key {quoted(key)}", where=f"line {key_node.start_mark.line + 1}")
        try:
            result[key] = loader.construct_object(value_node, deep=True)
        except MobilecostError as exc:
            raise MobilecostError(exc.message, where=exc.where, field=exc.field or str(key)) from None
        result.lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader, node):
    result = _LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.lines = [child.start_mark.line + 1 for child in node.value]
    return result


_SafeLineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_SafeLineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_SafeLineLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_SafeLineLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_SafeLineLoader.add_constructor("tag:yaml.org,2002:str", _construct_str)


def _line_of(document, loc) -> int | None:
    """The line of the deepest node of `loc` (a pydantic error location) that the YAML has."""
    node, line = document, getattr(document, "line", None)
    for key in loc:
        if isinstance(node, _LineDict) and key in node:
            line = node.lines[key]
            node = node[key]
        elif isinstance(node, _LineList) and isinstance(key, int) and 0 <= key < len(node):
            line = node.lines[key]
            node = node[key]
        else:
            break
    return line


_BOUNDS = {"greater_than": ("gt", "more than"), "greater_than_equal": ("ge", "at least"),
           "less_than": ("lt", "less than"), "less_than_equal": ("le", "at most")}
_PYDANTIC_TAG = re.compile(r"^(int|float|str|bool|none)$|[-\[]")


def first_error(exc: ValidationError, document, path: str, prefix: tuple = ()):
    err = exc.errors()[0]
    # pydantic names union members and validators in loc ('constrained-int', "literal['k']"): not keys.
    loc = prefix + tuple(p for p in err["loc"] if isinstance(p, int) or not _PYDANTIC_TAG.search(p))
    # pydantic nests union/tagged members in loc; keep what names the YAML.
    field = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
    line = _line_of(document, loc)
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif err["type"] == "missing":
        msg = "required key is missing"
    elif err["type"] == "value_error":  # a validator's own sentence, without pydantic's "Value error, "
        msg = msg.removeprefix("Value error, ")
    elif err["type"] in _BOUNDS:
        bound = err["ctx"][_BOUNDS[err["type"]][0]]
        msg = f"must be {_BOUNDS[err['type']][1]} {bound:,}" if isinstance(bound, int) else f"must be {_BOUNDS[err['type']][1]} {bound:,g}"
    value = err.get("input")
    got = brief(repr(value))
    if err["type"] not in ("missing", "extra_forbidden") and not isinstance(value, (dict, list)) and got not in msg:
        msg = f"{msg} (got {got})"  # unless the validator's sentence already quotes the value
    return MobilecostError(msg, where=f"{path}:{line}" if line else path, field=field or None)


def resolve_table(name_or_path: str) -> Path:
    """A built-in variant name or a path to a .yaml file -> the table's path."""
    text = str(name_or_path)
    candidate = Path(text)
    if text.endswith((".yaml", ".yml")) or is_file(candidate, text) or os.path.isdir(text):
        if not is_file(candidate, text):
            raise MobilecostError("no such table file", where=brief(text))
        return candidate
    builtin = tables_dir() / f"{text}.yaml"
    if is_file(builtin, text):
        return builtin
    known = list_variants()
    close = difflib.get_close_matches(text, known, n=3, cutoff=0.5)
    hint = (f"; did you mean {', '.join(close)}?" if close
            else f"; `mobilecost list` names the {len(known)} built-in variants")
    raise MobilecostError(f"unknown variant {brief(repr(text))}{hint} (or give the path of a .yaml table)")


def load_variant(name_or_path: str) -> VariantSpec:
    """Load, validate and check one variant table."""
    path = resolve_table(name_or_path)
    shown = display_path(path)
    return _load_text(read_text_file(path, shown), shown)


def read_located_yaml(text: str, path: str):
    """Parse YAML safely; mappings and lists remember the line of each key and item (for file:line errors)."""
    try:
        return yaml.load(text, Loader=_SafeLineLoader)  # noqa: S506 - a SafeLoader subclass
    except MobilecostError as exc:
        raise MobilecostError(exc.message, where=f"{path}:{exc.where.split()[-1]}", field=exc.field) from None
    except RecursionError:
        raise MobilecostError(f"nested too deeply (at most {MAX_DEPTH} levels)", where=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else path
        if mark is None and isinstance(getattr(exc, "position", None), int):  # a reader error: a character
            where = f"{path}:{text.count(chr(10), 0, exc.position) + 1}"
            problem = f"unacceptable character {quoted(exc.character)}"
        else:
            problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise MobilecostError(f"malformed YAML: {brief(problem, 200)}", where=where) from None


@lru_cache(maxsize=64)
def _load_text(text: str, path: str) -> VariantSpec:
    document = read_located_yaml(text, path)
    if not isinstance(document, dict):
        raise MobilecostError("a table is a YAML mapping with name, format, width and layers", where=path)

    rows = document.get("layers")
    header = {k: v for k, v in document.items() if k != "layers"}
    header["layers"] = ()
    if header.get("format") == "head":
        header = _head_header(header, document, path)
    try:
        spec = VariantSpec.model_validate(header)
    except ValidationError as exc:
        raise first_error(exc, document, path) from None
    if not isinstance(rows, list) or not rows:
        raise MobilecostError("a table needs a non-empty list of rows", where=f"{path}:{_line_of(document, ('layers',)) or 1}", field="layers")

    row_model = ROW_MODELS[spec.format]
    validated = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise MobilecostError("each row is a mapping of the paper's columns", where=f"{path}:{rows.lines[index]}", field=f"layers[{index}]")
        try:
            validated.append(row_model.model_validate(dict(row)))
        except ValidationError as exc:
            raise first_error(exc, document, path, prefix=("layers", index)) from None
    spec = spec.model_copy(update={"layers": tuple(validated), "path": path, "line_of_row": tuple(rows.lines)})

    for name in spec.semantics:
        try:
            spec.with_semantics(name)
        except ValidationError as exc:
            part = "padding" if exc.title == "PaddingSpec" else "width"  # the block of the alternative that failed
            raise first_error(exc, document, path, prefix=("semantics", name, part)) from None
    for name in {*spec.width.fixed, *spec.width.above_one, *spec.width.input_ratio}:
        if spec.format != "head" and name not in {row.name for row in spec.layers}:  # a head's: its backbone's
            raise MobilecostError(
                f"width rule names layer {quoted(name)}, but no row has that name",
                where=f"{path}:{_line_of(document, ('width',))}", field="width",
            )
    _check_names_unique(spec)
    return spec


def _head_header(header: dict, document, path: str) -> dict:
    """A head table's header with its backbone loaded: the backbone's table read under its semantics
    (and reduced tail), and its width and padding rules, which the head's backbone layers follow."""
    for key in ("width", "padding", "semantics"):
        if key in header:
            raise MobilecostError(f"a head table follows its backbone's {key} rules; name them in the backbone's "
                                  "table", where=f"{path}:{_line_of(document, (key,))}", field=key)
    if not isinstance(header.get("backbone"), dict):
        raise MobilecostError("a head table names its backbone: backbone: {table: mobilenet_v3_large, ...}",
                              where=f"{path}:{document.lines.get('backbone') or document.lines['format']}", field="backbone")
    line = _line_of(document, ("backbone",))
    try:
        backbone = BackboneSpec.model_validate(dict(header["backbone"]))
    except ValidationError as exc:
        raise first_error(exc, document, path, prefix=("backbone",)) from None
    base = _read_backbone(backbone, path, line)
    given_input = header.get("input") if isinstance(header.get("input"), dict) else {}
    base_input = {key: value for key, value in base.input.model_dump().items()
                  if not ("height" in given_input and key in ("size", "width"))}
    return {**header, "width": base.width.model_dump(), "padding": base.padding.model_dump(),
            "input": {**base_input, **given_input}, "backbone_table": base, "line_of_backbone": line or 0}


_HEADS_READING: list[Path] = []  # the head tables whose backbones are being read, outermost first


def _read_backbone(backbone: BackboneSpec, path: str, line) -> VariantSpec:
    """The backbone table of a head table at `path`, read as its backbone line says."""
    table = backbone.table
    if table.endswith((".yaml", ".yml")) and not os.path.isabs(table):
        table = str(Path(path).parent / table)
    here = Path(path).resolve()
    if resolve_table(table).resolve() in (here, *_HEADS_READING):  # else it recursed until Python's limit
        raise MobilecostError(f"{brief(backbone.table)} is a head table whose backbone leads back to this one; "
                              "name a network table", where=f"{path}:{line}", field="backbone.table")
    _HEADS_READING.append(here)
    try:
        base = load_variant(table)
    finally:
        _HEADS_READING.pop()
    if base.format == "head":
        raise MobilecostError(f"the backbone {base.name} is itself a head table; name a network table",
                              where=f"{path}:{line}", field="backbone.table")
    try:
        base = base.with_semantics(backbone.semantics)
    except MobilecostError as exc:
        raise MobilecostError(exc.message, where=f"{path}:{line}", field="backbone.semantics") from None
    if backbone.reduced_tail is not None:
        base = _reduced_tail(base, backbone.reduced_tail, f"{path}:{line}")
    if backbone.output_stride is not None:
        base = base.model_copy(update={"output_stride": backbone.output_stride})
    return base


def with_backbone(spec: VariantSpec, **changes) -> VariantSpec:
    """A head table on its backbone read another way: `changes` to its backbone line (``reduced_tail``,
    ``output_stride``; None: as the backbone's table is written), the backbone re-read under them."""
    if spec.backbone is None:
        raise MobilecostError(f"{spec.name} is not a head table; it has no backbone line", field="backbone")
    backbone = BackboneSpec.model_validate({**spec.backbone.model_dump(), **changes})
    base = _read_backbone(backbone, spec.path or spec.name, spec.line_of_backbone)
    return spec.model_copy(update={"backbone": backbone, "backbone_table": base})


def _reduced_tail(spec: VariantSpec, divider: int, where: str) -> VariantSpec:
    """torchvision mobilenetv3.py ``reduced_tail``: the last stride-2 bneck's #out, and the exp size
    and #out of the bneck rows after it, divided by `divider`."""
    rows = list(spec.layers)
    strided = [i for i, row in enumerate(rows) if spec.format == "v3" and row.parsed.kind == "bneck" and row.s == 2]
    if not strided:
        raise MobilecostError(f"reduced_tail applies to a v3 table with a stride-2 bneck row; {spec.name} has none",
                              where=where, field="backbone.reduced_tail")
    first = strided[-1]
    for i in range(first, len(rows)):
        row = rows[i]
        if row.parsed.kind != "bneck":
            continue
        update = {"out": row.out // divider} if i == first else {"exp": row.exp // divider, "out": row.out // divider}
        if any(row.model_dump()[k] % divider for k in update):
            raise MobilecostError(f"reduced_tail {divider} does not divide the widths of row {i + 1} of {spec.name}",
                                  where=where, field="backbone.reduced_tail")
        rows[i] = row.model_copy(update=update)
    return spec.model_copy(update={"layers": tuple(rows)})


def _check_names_unique(spec: VariantSpec) -> None:
    seen = {}
    for index, row in enumerate(spec.layers):
        if row.name is None:
            continue
        if row.name in seen:
            raise MobilecostError(f"layer name {quoted(row.name)} is used twice", where=row_location(spec, index), field="name")
        seen[row.name] = index


def row_location(spec: VariantSpec, index: int) -> str:
    """'file:line' of the table row `index` (0-based)."""
    if spec.line_of_row and 0 <= index < len(spec.line_of_row):
        return f"{spec.path}:{spec.line_of_row[index]}"
    return spec.path or spec.name


def unique_tables(specs) -> list[VariantSpec]:
    """`specs` less repeats of one table; two different tables with the same `name:` are refused.

    Outputs key tables by name (a workbook sheet, a layers_NAME.csv, a plot's family), so one of two
    namesakes would silently replace or hide the other."""
    first: dict[str, VariantSpec] = {}
    out = []
    for spec in specs:
        seen = first.setdefault(spec.name, spec)
        if seen is spec:
            out.append(spec)
        elif not _same_table(seen, spec):
            other = seen.path or "another table"
            raise MobilecostError(f"{other} is also named {quoted(spec.name)}; give each table its own name",
                                  where=spec.path or None, field="name")
    return out


def _same_table(a: VariantSpec, b: VariantSpec) -> bool:
    if a.path and b.path:
        return Path(a.path).resolve() == Path(b.path).resolve()
    return table_digest(a) == table_digest(b)


def table_digest(spec: VariantSpec) -> str:
    """A short content hash that keys every cache built from this table."""
    return hashlib.sha256(spec.model_dump_json().encode()).hexdigest()[:16]


__all__ = ["list_variants", "load_variant", "parse_size", "resolve_table", "row_location", "tables_dir", "unique_tables"]
