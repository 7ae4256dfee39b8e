"""Checks a table must pass before it is used: the paper's input-size column agrees with
shape propagation at alpha = rho = 1 (in exact mode, under every named semantics)."""

from __future__ import annotations

from .compiled import CompiledLayers, compiled_layers
from ..errors import MobilecostError
from ..spec.loader import load_variant, row_location

_CHECKED: set = set()


def check_input_column(compiled: CompiledLayers) -> None:
    key = id(compiled)
    if key in _CHECKED:
        return
    values = compiled.evaluate(1.0, 1.0)
    for i, layer in enumerate(compiled.layers):
        if layer.check is None:
            continue
        side, ch = layer.check
        got_side, got_ch = round(values["in_side"][i]), round(values["in_ch"][i])
        if (got_side, got_ch) != (side, ch):
            raise MobilecostError(
                f"the table says the input of {layer.name} is {side}x{side}x{ch}, but the rows above give "
                f"{got_side}x{got_side}x{got_ch} at alpha = rho = 1"
                + ("" if compiled.semantics == "default" else f" (semantics {compiled.semantics})"),
                where=row_location(compiled.spec, layer.row), field="input",
            )
    _CHECKED.add(key)


def validate_table(name_or_path: str) -> str:
    spec = load_variant(name_or_path)
    layer_count = 0
    for semantics in ("default", *spec.semantics):
        compiled = compiled_layers(spec, "exact", semantics)
        check_input_column(compiled)
        layer_count = len(compiled.layers)
    named = ", ".join(spec.semantics) or "none"
    return (f"{spec.path}: ok: {spec.title}, {len(spec.layers)} rows -> {layer_count} layers; input sizes agree "
            f"with shape propagation at alpha = rho = 1; alternative semantics: {named}")
