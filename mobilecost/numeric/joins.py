"""Where a head table's branches meet, their shapes must agree at every configuration evaluated.

The table's own configuration is checked when the table is read (count/engine.py, an error naming the
row); rounding can part two joined widths at another alpha (int(16 * 0.5) = 8 channels from the
backbone against a head's fixed 16) or two sides at another resolution, and a network that cannot be
built there is refused, never counted.
"""

from __future__ import annotations

from ..count.ops import OpKind
from ..errors import MobilecostError, quoted
from ..spec.roles import Role


def joins(layers) -> list[tuple[int, int, int, bool]]:
    """(join, first input, other input, widths must agree) for every pair of tensors a join reads
    (their sides must agree, or the second be 1x1 where a multiply broadcasts it)."""
    index = {layer.name: i for i, layer in enumerate(layers)}
    out = []
    for i, layer in enumerate(layers):
        if layer.role is not Role.join or layer.op is OpKind.upsample:
            continue
        first, *others = layer.inputs
        out.extend((i, index[first], index[other], layer.op is not OpKind.concat) for other in others)
    return out


def check_joins(layers, side, ch, alpha, rho) -> None:
    """Refuse a configuration where two joined tensors differ in shape: `side`, `ch` per layer, each a
    number (one configuration) or a sequence over configurations (`alpha`, `rho` then sequences too)."""
    pairs = joins(layers)
    if not pairs:
        return
    if not hasattr(side[0], "__len__"):
        side, ch, alpha, rho = [[v] for v in side], [[v] for v in ch], [alpha], [rho]
    for join, a, b, widths in pairs:
        layer = layers[join]
        broadcast = layer.op is OpKind.multiply
        for k in range(len(alpha)):
            if ((side[a][k] != side[b][k] and not (broadcast and side[b][k] == 1))
                    or (widths and ch[a][k] != ch[b][k])):
                first, other = layers[a].name, layers[b].name
                raise MobilecostError(
                    f"{layer.name} ({layer.op.value}) cannot join {quoted(other)} ({_shape(side[b][k], ch[b][k])}) "
                    f"and {quoted(first)} ({_shape(side[a][k], ch[a][k])}) at alpha {float(alpha[k]):g}, rho "
                    f"{float(rho[k]):g}: the rounded shapes differ there", field="--alpha/--resolution")


def check_joins_on(compiled, alphas, rhos) -> None:
    """`check_joins` at the configurations (alphas[i], rhos[i]) of a compiled table."""
    if not joins(compiled.layers):
        return
    from .values import values_at

    values = values_at(compiled, alphas, rhos)
    check_joins(compiled.layers, values["out_side"].tolist(), values["out_ch"].tolist(), list(alphas), list(rhos))


def _shape(side, ch) -> str:
    return f"{float(side):g}x{float(side):g}x{float(ch):g}"
