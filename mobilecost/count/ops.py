"""One record per primitive op: everything mobilecost knows about an op kind, in one table.

A record holds the op's

* counting rule (as fvcore's per-op handles): it receives the layer and its symbolic shapes and
  returns the op's own work -- ``macs`` (multiply-accumulates), ``weights`` (kernel elements) and
  ``ew_ops`` (per-element work that is not a multiply-accumulate: pooling adds, SE scaling,
  residual adds, softmax), and ``attn_macs`` (the share of ``macs`` that multiplies two activations:
  attention's QK^T and attention x V). What every layer shares -- bias, batch norm, activation,
  output size -- the engine adds once;
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
    avg_pool = "avg_pool"  # average pooling over a KxK window smaller than the map
    scale = "scale"  # squeeze-and-excite: a tensor times its per-channel gate
    add = "add"  # a residual shortcut add
    softmax = "softmax"
    norm = "norm"  # a batch norm on its own (Mobile MQA's input norm)
    layer_scale = "layer_scale"  # a learned per-channel scale (MobileNetV4 hybrid blocks)
    attention_scores = "attention_scores"  # Q K^T of multi-query attention (Mobile MQA)
    attention_softmax = "attention_softmax"  # softmax of each query's scores over the keys
    attention_values = "attention_values"  # attention weights x V
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
    # reads its second input, a key or value tensor of (other_side^2 x other_ch) elements; the latency
    # model counts only the first input's bytes (K and V are a few per cent of an attention layer's traffic)
    key_value = "key_value"
    # reads every further input in full (a concatenation): its output's elements less its first input's
    other_inputs = "other_inputs"


LATENCY_CLASSES = ("conv", "pointwise", "depthwise", "fc", "elementwise")


class Blocking(StrEnum):
    """How a runtime whose kernels take channels in blocks (the latency model's `devices.Layout`) treats the op."""

    none = "none"
    channels = "channels"  # a depthwise convolution: fast only when its channels are whole blocks
    gemm = "gemm"  # a 1x1 convolution: its input and output channels padded to whole blocks

    def outside(self, out_ch, block: int):
        """Whether an op with `out_ch` channels (a number, or an array of them) runs outside `block`-channel blocks."""
        return out_ch % block != 0 if self is Blocking.channels else False

    def work_factor(self, in_ch, out_ch, block: int, per_output_macs: float, narrow_input: float):
        """The multiply-accumulates a blocked kernel does per MAC of the op (numbers, or arrays of them): a 1x1
        convolution's channels rounded up to whole blocks, `per_output_macs` more per output element, and
        `narrow_input` times more when its input has fewer channels than one block; 1 for other ops."""
        if self is not Blocking.gemm:
            return 1.0
        padded_in, padded_out = -(-in_ch // block) * block, -(-out_ch // block) * block
        narrow = (in_ch < block) * narrow_input + (in_ch >= block) * 1.0
        channels = in_ch * out_ch
        return padded_out * (padded_in + per_output_macs) * narrow / (channels + (channels == 0))  # 0: an absent op


@dataclass(frozen=True)
class Shapes:
    in_side: sp.Expr
    in_ch: sp.Expr
    out_side: sp.Expr
    out_ch: sp.Expr
    other_side: sp.Expr | None = None  # the second input's side and channels (a layer of two inputs)
    other_ch: sp.Expr | None = None
    # A rectangular map's widths (the sides above are its heights); None where the map is square.
    in_width: sp.Expr | None = None
    out_width: sp.Expr | None = None
    other_width: sp.Expr | None = None

    @property
    def in_area(self) -> sp.Expr:
        """Pixels of the input map: height x width (side squared when square)."""
        return _area(self.in_side, self.in_width)

    @property
    def out_area(self) -> sp.Expr:
        return _area(self.out_side, self.out_width)

    @property
    def other_area(self) -> sp.Expr:
        return _area(self.other_side, self.other_width)


def _area(side, width):
    return side**2 if width is None else side * width


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
    blocking: Blocking = Blocking.none


# -- counting rules ----------------------------------------------------------------------------

def _kernel_area(layer) -> int:
    height, width = layer.kernel_hw
    return height * width


def dense_convolution(layer, s: Shapes) -> dict:
    kernel = _kernel_area(layer) * s.in_ch * s.out_ch
    return {"weights": kernel, "macs": s.out_area * kernel}


def depthwise_convolution(layer, s: Shapes) -> dict:
    kernel = _kernel_area(layer) * s.out_ch
    return {"weights": kernel, "macs": s.out_area * kernel}


def fully_connected(layer, s: Shapes) -> dict:
    # Applied to a pooled 1x1 map; a larger map would be flattened first.
    weights = s.in_area * s.in_ch * s.out_ch
    return {"weights": weights, "macs": weights}


def global_average_pool(layer, s: Shapes) -> dict:
    return {"ew_ops": s.in_area * s.in_ch}


def window_average_pool(layer, s: Shapes) -> dict:
    # Each output element sums its kh x kw window: one add per window element, as global pooling
    # counts one per input element (whose window is the whole map).
    return {"ew_ops": s.out_area * s.out_ch * _kernel_area(layer)}


def elementwise_binary(layer, s: Shapes) -> dict:
    return {"ew_ops": s.out_area * s.out_ch}


def softmax(layer, s: Shapes) -> dict:
    return {"ew_ops": s.out_ch}


def standalone_norm(layer, s: Shapes) -> dict:
    return {}  # its scale and shift are the engine's batch-norm terms


def per_channel_scale(layer, s: Shapes) -> dict:
    return {"weights": s.out_ch, "ew_ops": s.out_area * s.out_ch}


def attention_scores(layer, s: Shapes) -> dict:
    """Q K^T: queries (in_side^2 positions, heads x key_dim channels) against one shared key head
    (other_side^2 positions, key_dim = other_ch channels). The output holds, at each query position,
    heads x other_side^2 scores: in_side^2 * heads * other_side^2 * key_dim MACs = out_side^2 * out_ch *
    other_ch; the queries are first scaled by 1/sqrt(key_dim) (one multiply per query element)."""
    macs = s.out_area * s.out_ch * s.other_ch
    return {"macs": macs, "attn_macs": macs, "ew_ops": s.in_area * s.in_ch}


def attention_softmax(layer, s: Shapes) -> dict:
    return {"ew_ops": s.out_area * s.out_ch}


def attention_values(layer, s: Shapes) -> dict:
    """Attention x V: at each query position, heads x (other_side^2 keys) weights times the shared value
    head (value_dim = other_ch channels): out_side^2 * in_ch * other_ch MACs."""
    macs = s.out_area * s.in_ch * s.other_ch
    return {"macs": macs, "attn_macs": macs}


def concatenation(layer, s: Shapes) -> dict:
    # Data movement only: no multiply-accumulate, no arithmetic (its reads are memory traffic).
    return {}


def upsampling(layer, s: Shapes) -> dict:
    # One interpolation per output element, counted as element-wise work (never as MACs).
    return {"ew_ops": s.out_area * s.out_ch}


# -- report labels ------------------------------------------------------------------------------

def _kernel_label(prefix: str) -> Callable[["object"], str]:
    return lambda layer: f"{prefix} {layer.kernel_hw[0]}x{layer.kernel_hw[1]}"


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
             _pointwise_label, ("Conv",), Blocking.gemm),
    OpRecord(OpKind.depthwise, depthwise_convolution, Side.strided, "depthwise", "depthwise", ExtraReads.none,
             _kernel_label("Conv dw"), ("Conv",), Blocking.channels),
    OpRecord(OpKind.fc, fully_connected, Side.one, None, "fc", ExtraReads.none,
             _fixed_label("Fully connected"), ("Flatten", "Gemm")),
    OpRecord(OpKind.global_pool, global_average_pool, Side.one, None, "elementwise", ExtraReads.none,
             _OTHER, ("GlobalAveragePool",)),
    OpRecord(OpKind.avg_pool, window_average_pool, Side.strided, "pool", "elementwise", ExtraReads.none,
             _OTHER, ("AveragePool",)),
    OpRecord(OpKind.scale, elementwise_binary, Side.kept, None, "elementwise", ExtraReads.channel_gate,
             _OTHER, ("Mul",)),
    OpRecord(OpKind.add, elementwise_binary, Side.kept, None, "elementwise", ExtraReads.second_input,
             _OTHER, ("Add",)),
    OpRecord(OpKind.softmax, softmax, Side.kept, None, "elementwise", ExtraReads.none,
             _OTHER, ("Softmax",)),
    OpRecord(OpKind.norm, standalone_norm, Side.kept, None, "elementwise", ExtraReads.none,
             _OTHER, ("BatchNormalization",)),
    OpRecord(OpKind.layer_scale, per_channel_scale, Side.kept, None, "elementwise", ExtraReads.none,
             _OTHER, ("Mul",)),
    # The two attention products are matrix products of the same shape class as a 1x1 convolution
    # (positions x channels times channels x outputs): the latency model times them as pointwise.
    OpRecord(OpKind.attention_scores, attention_scores, Side.kept, None, "pointwise", ExtraReads.key_value,
             _fixed_label("Attention QK^T"), ("MatMul",)),
    OpRecord(OpKind.attention_softmax, attention_softmax, Side.kept, None, "elementwise", ExtraReads.none,
             _OTHER, ("Softmax",)),
    OpRecord(OpKind.attention_values, attention_values, Side.kept, None, "pointwise", ExtraReads.key_value,
             _fixed_label("Attention x V"), ("MatMul",)),
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


# -- activation functions ----------------------------------------------------------------------

@dataclass(frozen=True)
class ActivationRecord:
    """An activation function a layer may apply to its output.

    ``act_ops`` counts evaluations of the layer's activation function: ``per_element`` per output
    element. Every function here is one evaluation per element -- ReLU's max, h-swish's
    x * ReLU6(x + 3) / 6, SiLU's x * sigmoid(x) and GELU's x * Phi(x) alike -- so act_ops is the same
    for every choice and what one evaluation costs on a device is the latency model's to say
    (latency/model.py times the functions that are not fused into the convolution separately).
    ``onnx``: the operator types it becomes, in order (onnx.ai/onnx/operators); ``opset``: the
    lowest ONNX opset that has them."""

    name: str
    per_element: int
    onnx: tuple[str, ...]
    opset: int = 1


ACTIVATION_RECORDS: dict[str, ActivationRecord] = {r.name: r for r in (
    ActivationRecord("relu", 1, ("Relu",)),
    ActivationRecord("relu6", 1, ("Clip",)),  # Clip(x, 0, 6)
    ActivationRecord("hswish", 1, ("HardSwish",), 14),
    ActivationRecord("hsigmoid", 1, ("HardSigmoid",)),  # alpha 1/6, beta 1/2: ReLU6(x + 3) / 6
    ActivationRecord("sigmoid", 1, ("Sigmoid",)),
    ActivationRecord("swish", 1, ("Sigmoid", "Mul")),  # SiLU: x * Sigmoid(x); ONNX has no Swish before opset 24
    ActivationRecord("gelu", 1, ("Gelu",), 20),  # the erf form (Gelu's default approximate="none")
)}


def activation_of(layer) -> ActivationRecord | None:
    """The record of the layer's activation function (None: no activation)."""
    if not layer.act:
        return None
    try:
        return ACTIVATION_RECORDS[layer.act]
    except KeyError:
        raise MobilecostError(f"no record for activation {layer.act!r}", field=layer.name) from None
