"""A table as one configuration needs it, kept in the compiled cache: on a warm start a report reads
neither YAML nor pydantic, and loads neither numpy nor sympy.

The entry is keyed by the table file's text, the mode, the semantics, the variation (a named edit of
the table, such as one more class) and the package fingerprint. It holds the table's name, title,
input side, classes and alternative semantics, its decoded layers and the plain-Python per-layer
evaluator; it is written only after the table has passed every check (`numeric.checked`).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Callable

from ..count.ops import OpKind
from ..spec.files import is_file, read_text_file, tables_dir
from ..spec.layers import FIELDS, Layer, Width
from ..spec.roles import Role
from .cache import cached_namespace, package_fingerprint, python_namespace


@dataclass(frozen=True)
class TableSnapshot:
    name: str
    title: str
    size: int  # the input side at rho = 1
    mode: str
    semantics: str
    layers: tuple[Layer, ...]
    point_function: Callable  # f(alpha, rho) -> one value per (layer, field) in FIELDS order
    classes: int = 0
    alternatives: tuple[tuple[str, str], ...] = ()  # (semantics name, description) the table offers
    scaled_absolutely: tuple[str, ...] = ()  # layers whose width alpha scales only above 1
    width: int | None = None  # the input's width at rho = 1 when rectangular (size is then its height)


@dataclass(frozen=True)
class Variation:
    """A network made from a table by a named edit of its spec (e.g. `analysis.transforms.with_classes`);
    the name keys the cache, so one name must always mean one edit."""

    name: str
    edit: Callable  # VariantSpec -> VariantSpec


def snapshot_of(compiled) -> TableSnapshot:
    """The snapshot of a checked, compiled table (`numeric.checked.compiled_for`)."""
    spec = compiled.spec
    return TableSnapshot(spec.name, spec.title, spec.input.size, compiled.mode, compiled.semantics, compiled.layers,
                         compiled.point_function, spec.classes,
                         tuple((name, alt.description) for name, alt in spec.semantics.items()),
                         tuple(spec.width.above_one), spec.input.width)


def table_snapshot(variant: str, mode: str = "exact", semantics: str | None = None,
                   variation: Variation | None = None) -> TableSnapshot:
    """The snapshot of a built-in variant or a table file, or of a `variation` of it: from the cache when
    this text was seen before."""
    text = _table_text(variant)
    if text is None:  # not a table file: the full path says why in one line
        return _full(variant, mode, semantics, variation)
    semantics = semantics or "default"
    edit = variation.name if variation else ""
    key = hashlib.sha256("|".join((text, mode, semantics, edit, package_fingerprint(), ",".join(FIELDS))).encode())
    namespace = cached_namespace(f"table-{key.hexdigest()[:24]}",
                                 lambda: _source(variant, mode, semantics, variation), python_namespace())
    table = namespace["TABLE"]
    layers = tuple(_layer(d) for d in table["layers"])
    return TableSnapshot(table["name"], table["title"], table["size"], mode, table["semantics"], layers,
                         namespace["_lambdifygenerated"], table["classes"],
                         tuple(tuple(pair) for pair in table["alternatives"]), tuple(table["scaled_absolutely"]),
                         table["width"])


def snapshot_for(variant: str, resolution=None, mode: str = "exact", semantics: str | None = None) -> TableSnapshot:
    """The snapshot that evaluates `resolution`: the table's own, or, when the resolution names an input
    no rho reaches from the table's (a rectangle 'HxW' on a square table), the table re-based on it."""
    from .points import rebased_shape

    table = table_snapshot(variant, mode, semantics)
    shape = rebased_shape(table.size, table.width, resolution, mode)
    if shape is None:
        return table
    return table_snapshot(variant, mode, semantics, rebased_variation(*shape, semantics))


def rebased_variation(height: int, width: int, semantics: str | None = None) -> Variation:
    def edit(spec):  # run only when the cache misses: a warm start loads no spec machinery
        from .checked import rebased

        return rebased(spec, height, width, semantics)

    return Variation(f"input {height}x{width}", edit)


def _table_text(variant: str) -> str | None:
    from pathlib import Path

    text = str(variant)
    path = Path(text) if text.endswith((".yaml", ".yml")) else tables_dir() / f"{text}.yaml"
    if not is_file(path, text):
        return None
    return read_text_file(path, text)


def _compiled(variant, mode, semantics, variation):
    from .checked import as_spec, compiled_for

    spec = as_spec(variant)
    return compiled_for(variation.edit(spec) if variation else spec, mode, semantics)


def _full(variant, mode, semantics, variation) -> TableSnapshot:
    return snapshot_of(_compiled(variant, mode, semantics, variation))


def _source(variant, mode, semantics, variation) -> str:
    compiled = _compiled(variant, mode, semantics, variation)
    snapshot = snapshot_of(compiled)
    table = {"name": snapshot.name, "title": snapshot.title, "size": snapshot.size, "semantics": snapshot.semantics,
             "classes": snapshot.classes, "alternatives": [list(pair) for pair in snapshot.alternatives],
             "scaled_absolutely": list(snapshot.scaled_absolutely), "width": snapshot.width,
             "layers": [_plain(layer) for layer in snapshot.layers]}
    return f"TABLE = {table!r}\n\n" + compiled.point_namespace()["__source__"]


def _plain(layer: Layer) -> dict:
    return {**asdict(layer), "op": layer.op.value, "role": layer.role.value}


def _layer(d: dict) -> Layer:
    check = tuple(d["check"]) if d["check"] is not None else None
    return Layer(**{**d, "op": OpKind(d["op"]), "role": Role(d["role"]), "width": Width(**d["width"]),
                    "inputs": tuple(d["inputs"]), "check": check})
