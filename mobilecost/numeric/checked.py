"""A table as the numeric stage uses it, after the checks it must pass: the paper's input-size column
agrees with shape propagation at alpha = rho = 1 (in exact mode, under every named semantics), and an
input is no smaller than the network's total stride."""

from __future__ import annotations

from .compiled import CompiledLayers, compiled_layers
from .points import check_resolution  # noqa: F401 (checked here, as the name says)
from .values import values_at
from ..spec.models import VariantSpec
from ..errors import MobilecostError, quoted
from ..spec.loader import load_variant, row_location, table_digest


def as_spec(variant) -> VariantSpec:
    return variant if isinstance(variant, VariantSpec) else load_variant(variant)


def costs_for(variant, mode="exact", semantics=None):
    """The cached symbolic CostTable; in exact mode the table's input-size column has been checked."""
    from ..count.engine import build_costs

    spec = as_spec(variant)
    if mode == "exact":
        compiled_for(spec, mode, semantics)
    return build_costs(spec, mode, semantics)


def checked_spec(variant, semantics=None) -> VariantSpec:
    """The table's spec after the checks `costs_for` makes in exact mode, without the symbolic build
    (for callers that only read its name, title or source)."""
    spec = as_spec(variant)
    compiled_for(spec, "exact", semantics)
    return spec


def compiled_for(spec, mode="exact", semantics=None):
    """The compiled per-layer evaluator, after the table's input-size column has been checked."""
    if mode not in ("exact", "ideal"):
        raise MobilecostError(f"unknown mode {quoted(mode)}; use exact or ideal", field="--mode")
    compiled = compiled_layers(spec, mode, semantics)
    if mode == "exact":
        check_input_column(compiled)
    return compiled


_CHECKED: set = set()


def rebased(spec: VariantSpec, height: int, width: int, semantics=None) -> VariantSpec:
    """The table with its input re-based on height x width at rho = 1 (square when they are equal). Its
    rows' input column speaks of the table's own input: it is checked on the table, not on this view."""
    compiled_for(spec, "exact", semantics)
    shape = {"size": height, "width": None if height == width else width}
    view = spec.model_copy(update={"input": spec.input.model_copy(update=shape)})
    _CHECKED.add((table_digest(view), semantics or "default"))
    return view


def spec_for(variant, resolution=None, semantics=None, mode="exact") -> VariantSpec:
    """The spec that evaluates `resolution`: the table's own, or the table re-based on an input no rho
    reaches from its own (`points.rebased_shape`)."""
    from .points import rebased_shape

    spec = as_spec(variant)
    shape = rebased_shape(spec.input.size, spec.input.width, resolution, mode)
    return spec if shape is None else rebased(spec, *shape, semantics)


def check_input_column(compiled: CompiledLayers) -> None:
    key = (table_digest(compiled.spec), compiled.semantics)
    if key in _CHECKED:
        return
    values = values_at(compiled, 1.0, 1.0).at(0)
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
    if spec.backbone_table is not None:  # a head table: its backbone was checked as its own table
        return (f"{spec.path}: ok: {spec.title}, {len(spec.layers)} head rows on {spec.backbone_table.name} -> "
                f"{layer_count} layers; joined shapes agree at alpha = 1")
    return (f"{spec.path}: ok: {spec.title}, {len(spec.layers)} rows -> {layer_count} layers; input sizes agree "
            f"with shape propagation at alpha = rho = 1; alternative semantics: {named}")
