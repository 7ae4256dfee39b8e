"""A table as one configuration needs it, kept in the compiled cache: on a warm start a report reads
neither YAML nor pydantic, and loads neither numpy nor sympy.

The entry is keyed by the table file's text, the mode, the semantics and the package fingerprint. It
holds the table's name, title and input side, its decoded layers and the plain-Python per-layer
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


def snapshot_of(compiled) -> TableSnapshot:
    """The snapshot of a checked, compiled table (`numeric.checked.compiled_for`)."""
    spec = compiled.spec
    return TableSnapshot(spec.name, spec.title, spec.input.size, compiled.mode, compiled.semantics, compiled.layers,
                         compiled.point_function)


def table_snapshot(variant: str, mode: str = "exact", semantics: str | None = None) -> TableSnapshot:
    """The snapshot of a built-in variant or a table file: from the cache when this text was seen before."""
    text = _table_text(variant)
    if text is None:  # not a table file: the full path says why in one line
        return _full(variant, mode, semantics)
    semantics = semantics or "default"
    key = hashlib.sha256("|".join((text, mode, semantics, package_fingerprint(), ",".join(FIELDS))).encode())
    namespace = cached_namespace(f"table-{key.hexdigest()[:24]}", lambda: _source(variant, mode, semantics),
                                 python_namespace())
    table = namespace["TABLE"]
    layers = tuple(_layer(d) for d in table["layers"])
    return TableSnapshot(table["name"], table["title"], table["size"], mode, table["semantics"], layers,
                         namespace["_lambdifygenerated"])


def _table_text(variant: str) -> str | None:
    from pathlib import Path

    text = str(variant)
    path = Path(text) if text.endswith((".yaml", ".yml")) else tables_dir() / f"{text}.yaml"
    if not is_file(path, text):
        return None
    return read_text_file(path, text)


def _full(variant, mode, semantics) -> TableSnapshot:
    from .checked import as_spec, compiled_for

    return snapshot_of(compiled_for(as_spec(variant), mode, semantics))


def _source(variant, mode, semantics) -> str:
    from .checked import as_spec, compiled_for

    compiled = compiled_for(as_spec(variant), mode, semantics)
    spec = compiled.spec
    table = {"name": spec.name, "title": spec.title, "size": spec.input.size, "semantics": compiled.semantics,
             "layers": [_plain(layer) for layer in compiled.layers]}
    return f"TABLE = {table!r}\n\n" + compiled.point_namespace()["__source__"]


def _plain(layer: Layer) -> dict:
    return {**asdict(layer), "op": layer.op.value, "role": layer.role.value}


def _layer(d: dict) -> Layer:
    check = tuple(d["check"]) if d["check"] is not None else None
    return Layer(**{**d, "op": OpKind(d["op"]), "role": Role(d["role"]), "width": Width(**d["width"]),
                    "inputs": tuple(d["inputs"]), "check": check})
