"""One record per primitive op: everything mobilecost knows about an op kind, in one table.

A record holds the op's

* counting rule (as fvcore's per-op handles): it receives the layer and its symbolic shapes and
  returns the op's own work -- ``macs`` (multiply-accumulates), ``weights`` (kernel elements) and
  ``ew_ops`` (per-element work that is not a multiply-accumulate: pooling adds, SE scaling,
  residual adds, softmax). What every layer shares -- bias, batch norm, activation, output size --
  the engine adds once;
* output side: the input's side kept, divided by the layer's stride (placed by the table's
  ``padding`` rule named in ``padding``), 1x1 after global pooling or a fully connected layer, or
  enlarged by an upsampling (to its second input's side, or times its factor);
* latency class: ``conv``, ``pointwise``, ``depthwise``, ``fc``, or ``elementwise`` for ops
  without multiply-accumulates;
* extra reads: tensors it reads besides its input -- a residual add reads its second input in
  full, an SE scale its per-channel gate;
* report label: the layer type a report groups it under (MobileNets Table 2's breakdown);
* ONNX operators: the operator types it becomes, in order (onnx.ai/onnx/operators).

`OpKind` is a `StrEnum`: an op prints, compares and serialises as its plain string. An op with
no record is an error, never a silent zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Callable

from ..errors import MobilecostError
from ..spec.roles import SQUEEZE_EXCITE

if TYPE_CHECKING:  # the records are read without sympy (report labels of a cached evaluation)
    import sympy as sp


class OpKind(StrEnum):
    conv = "conv"  # a full KxK convolution
    pointwise = "pointwise"  # a 1x1 convolution
    depthwise = "depthwise"  # a KxK convolution of each channel on its own
    fc = "fc"  # fully connected (on a pooled 1x1 map)
    global_pool = "global_pool"  # global average pooling
    scale = "scale"  # squeeze-and-excite: a tensor times its per-channel gate
    add = "add"  # a residual shortcut add
    softmax = "softmax"
    # Joins of a head table's branches (a tensor's name in ``Layer.inputs`` is a reference, not a copy):
    concat = "concat"  # channel concatenation of inputs with the same side
    multiply = "multiply"  # element-wise product; the second input may be 1x1 (broadcast over the side)
    upsample = "upsample"  # nearest/bilinear resize to the second input's side, or by an integer factor


class Side(StrEnum):
    kept = "kept"  # the output has the input's side
    strided = "strided"  # the input's side divided by the layer's stride
    one = "one"  # 1x1: after global pooling or a fully connected layer
    upsampled = "upsampled"  # the second input's side, or the input's side times the layer's factor


class ExtraReads(StrEnum):
    none = "none"
    second_input = "second_input"  # reads its second input in full (a residual add)
    channel_gate = "channel_gate"  # reads a per-channel vector of out_ch elements (an SE scale)
    other_inputs = "other_inputs"  # reads every further input in full (a concatenation)


LATENCY_CLASSES = ("conv", "pointwise", "depthwise", "fc", "elementwise")


@dataclass(frozen=True)
class Shapes:
    in_side: sp.Expr
    in_ch: sp.Expr
    out_side: sp.Expr
    out_ch: sp.Expr


Rule = Callable[["object", Shapes], dict]


@dataclass(frozen=True)
class OpRecord:
    kind: OpKind
    count: Rule  # (layer, shapes) -> {"macs", "weights", "ew_ops"} (absent keys are zero)
    side: Side
    padding: str | None  # the PaddingSpec field that places a strided window; None unless side is strided
    latency_class: str  # one of LATENCY_CLASSES
    extra_reads: ExtraReads
    label: Callable[["object"], str]  # layer -> report type ("Conv 3x3", "SE 1x1", "Other", ...)
    onnx: tuple[str, ...]  # ONNX operator types, in order


# -- counting rules ----------------------------------------------------------------------------

def dense_convolution(layer, s: Shapes) -> dict:
    kernel = layer.kernel**2 * s.in_ch * s.out_ch
    return {"weights": kernel, "macs": s.out_side**2 * kernel}


def depthwise_convolution(layer, s: Shapes) -> dict:
    kernel = layer.kernel**2 * s.out_ch
    return {"weights": kernel, "macs": s.out_side**2 * kernel}


def fully_connected(layer, s: Shapes) -> dict:
    # Applied to a pooled 1x1 map; a larger map would be flattened first.
    weights = s.in_side**2 * s.in_ch * s.out_ch
    return {"weights": weights, "macs": weights}


def global_average_pool(layer, s: Shapes) -> dict:
    return {"ew_ops": s.in_side**2 * s.in_ch}


def elementwise_binary(layer, s: Shapes) -> dict:
    return {"ew_ops": s.out_side**2 * s.out_ch}


def softmax(layer, s: Shapes) -> dict:
    return {"ew_ops": s.out_ch}


def concatenation(layer, s: Shapes) -> dict:
    # Data movement only: no multiply-accumulate, no arithmetic (its reads are memory traffic).
    return {}


def upsampling(layer, s: Shapes) -> dict:
    # One interpolation per output element, counted as element-wise work (never as MACs).
    return {"ew_ops": s.out_side**2 * s.out_ch}


# -- report labels ------------------------------------------------------------------------------

def _kernel_label(prefix: str) -> Callable[["object"], str]:
    return lambda layer: f"{prefix} {layer.kernel}x{layer.kernel}"


def _fixed_label(text: str) -> Callable[["object"], str]:
    return lambda layer: text


def _pointwise_label(layer) -> str:
    return "SE 1x1" if layer.role in SQUEEZE_EXCITE else "Conv 1x1"


# -- the records ------------------------------------------------------------------------------

_OTHER = _fixed_label("Other")

OP_RECORDS: dict[OpKind, OpRecord] = {r.kind: r for r in (
    OpRecord(OpKind.conv, dense_convolution, Side.strided, "conv", "conv", ExtraReads.none,
             _kernel_label("Conv"), ("Conv",)),
    OpRecord(OpKind.pointwise, dense_convolution, Side.strided, "conv", "pointwise", ExtraReads.none,
             _pointwise_label, ("Conv",)),
    OpRecord(OpKind.depthwise, depthwise_convolution, Side.strided, "depthwise", "depthwise", ExtraReads.none,
             _kernel_label("Conv dw"), ("Conv",)),
    OpRecord(OpKind.fc, fully_connected, Side.one, None, "fc", ExtraReads.none,
             _fixed_label("Fully connected"), ("Flatten", "Gemm")),
    OpRecord(OpKind.global_pool, global_average_pool, Side.one, None, "elementwise", ExtraReads.none,
             _OTHER, ("GlobalAveragePool",)),
    OpRecord(OpKind.scale, elementwise_binary, Side.kept, None, "elementwise", ExtraReads.channel_gate,
             _OTHER, ("Mul",)),
    OpRecord(OpKind.add, elementwise_binary, Side.kept, None, "elementwise", ExtraReads.second_input,
             _OTHER, ("Add",)),
    OpRecord(OpKind.softmax, softmax, Side.kept, None, "elementwise", ExtraReads.none,
             _OTHER, ("Softmax",)),
    OpRecord(OpKind.concat, concatenation, Side.kept, None, "elementwise", ExtraReads.other_inputs,
             _OTHER, ("Concat",)),
    OpRecord(OpKind.multiply, elementwise_binary, Side.kept, None, "elementwise", ExtraReads.second_input,
             _OTHER, ("Mul",)),
    OpRecord(OpKind.upsample, upsampling, Side.upsampled, None, "elementwise", ExtraReads.none,
             _OTHER, ("Resize",)),
)}


def record_of(layer) -> OpRecord:
    """The record of the layer's op."""
    try:
        return OP_RECORDS[layer.op]
    except KeyError:
        raise MobilecostError(f"no record for op {layer.op!r}", field=layer.name) from None


def op_cost(layer, shapes: Shapes) -> dict:
    return record_of(layer).count(layer, shapes)


def type_label(layer) -> str:
    """How a report groups the layer when it shares MACs and parameters out by layer type."""
    return record_of(layer).label(layer)
