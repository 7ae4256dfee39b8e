"""Element sizes and the sequential schedule's live sets from numbers at one configuration.

The sympy-free half of the memory model (memory.py holds the symbolic half), so that a
single-configuration report does not need sympy.
"""

from __future__ import annotations

from ..errors import MobilecostError

DTYPE_BYTES = {"fp32": 4, "fp16": 2, "int8": 1}


def dtype_bytes(dtype: str) -> int:
    try:
        return DTYPE_BYTES[dtype]
    except KeyError:
        raise MobilecostError(f"unknown dtype {dtype!r}; use one of {', '.join(DTYPE_BYTES)}",
                              field="--dtype") from None


def sequential_live(layers, act_in_first: float, act_out) -> tuple[list[float], list[tuple[str, ...]]]:
    """The sequential schedule's live set per layer, from numbers at one configuration (no sympy).

    `layers` are the decoded layers in order and `act_out` their output elements; a shortcut add
    with no output (ruled out by the rounded widths) passes its projection on to its readers.
    Returns (live elements per layer, live tensor names per layer).
    """
    size = {"input": float(act_in_first)}
    alias = {}
    for layer, out in zip(layers, act_out):
        if layer.residual and out == 0:
            alias[layer.name] = alias.get(layer.inputs[0], layer.inputs[0])
        else:
            size[layer.name] = float(out)

    start, end = {"input": 0}, {"input": 0}
    for i, layer in enumerate(layers):
        if layer.name in size:
            start[layer.name] = end[layer.name] = i
    for i, layer in enumerate(layers):
        if layer.name in alias:
            continue
        for src in layer.inputs:
            src = alias.get(src, src)
            end[src] = max(end[src], i)
    live, names = [], []
    for i in range(len(layers)):
        here = tuple(t for t in size if start[t] <= i <= end[t])
        names.append(here)
        live.append(sum(size[t] for t in here))
    return live, names
