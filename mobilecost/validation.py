"""Checks a table must pass before it is used: the paper's input-size column agrees with
shape propagation at alpha = rho = 1 (in exact mode, under every named semantics)."""

from __future__ import annotations

from .engine import CostTable, build_costs
from .errors import MobilecostError
from .loader import load_variant, row_location
from .numeric import evaluate_layers

_CHECKED: set = set()


def check_input_column(costs: CostTable) -> None:
    key = id(costs)
    if key in _CHECKED:
        return
    values = evaluate_layers(costs, 1.0, 1.0)
    for i, lc in enumerate(costs.layers):
        if lc.layer.check is None:
            continue
        side, ch = lc.layer.check
        got_side, got_ch = int(values["in_side"][i]), int(values["in_ch"][i])
        if (got_side, got_ch) != (side, ch):
            raise MobilecostError(
                f"the table says the input of {lc.layer.name} is {side}x{side}x{ch}, but the rows above give "
                f"{got_side}x{got_side}x{got_ch} at alpha = rho = 1"
                + ("" if costs.semantics == "default" else f" (semantics {costs.semantics})"),
                where=row_location(costs.spec, lc.layer.row), field="input",
            )
    _CHECKED.add(key)


def validate_table(name_or_path: str) -> str:
    spec = load_variant(name_or_path)
    layer_count = 0
    for semantics in ("default", *spec.semantics):
        costs = build_costs(spec, "exact", semantics)
        check_input_column(costs)
        layer_count = len(costs.layers)
    named = ", ".join(spec.semantics) or "none"
    return (f"{spec.path}: ok: {spec.title}, {len(spec.layers)} rows -> {layer_count} layers; input sizes agree "
            f"with shape propagation at alpha = rho = 1; alternative semantics: {named}")
