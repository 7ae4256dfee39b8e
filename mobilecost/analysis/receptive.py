"""Receptive field of every layer: how many input pixels one output element sees, and how many input
pixels apart neighbouring outputs are (the jump: the product of the strides so far).

Along each axis (Araujo et al., "Computing Receptive Fields of Convolutional Neural Networks",
Distill 2019, eqs. 1-2): ``jump_out = jump_in * stride`` and ``rf_out = rf_in + (span - 1) * jump_in``,
where span = dilation * (k - 1) + 1 is the pixels a kernel covers. A layer that reads two tensors (a
shortcut add, an SE scale) sees the larger of their fields; after a global pool, a fully connected
layer, or an SE scale (whose gate pools the whole map), one output sees the whole input: None.

The fields depend on kernels, strides and dilations only, not on alpha or the resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..count.ops import OpKind
from ..spec.layers import decode


@dataclass(frozen=True)
class Field:
    name: str
    jump: int  # input pixels between neighbouring outputs
    height: int | None  # input rows one output sees; None: the whole input
    width: int | None  # input columns one output sees; None: the whole input


WHOLE_INPUT = (OpKind.global_pool, OpKind.fc)


def receptive_fields(spec, semantics: str | None = None) -> list[Field]:
    """The receptive field of every layer of a validated table (under a named semantics)."""
    layers = decode(spec.with_semantics(semantics))
    known = {"input": Field("input", 1, 1, 1)}
    for layer in layers:
        sources = [known[name] for name in layer.inputs]
        first = sources[0]
        if layer.op in WHOLE_INPUT or any(s.height is None for s in sources):
            field = Field(layer.name, first.jump, None, None)
        else:
            span_h, span_w = layer.kernel_span
            field = Field(layer.name, first.jump * layer.stride,
                          max(s.height for s in sources) + (span_h - 1) * first.jump,
                          max(s.width for s in sources) + (span_w - 1) * first.jump)
        known[layer.name] = field
    return [known[layer.name] for layer in layers]
