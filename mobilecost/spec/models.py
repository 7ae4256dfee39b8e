"""Validated, frozen description of a variant table (what the YAML says, checked).

The row models mirror the papers' own columns:

* ``v1``: MobileNets (arXiv:1704.04861) Table 1 -- type, stride, filter shape, input size;
* ``v2``: MobileNetV2 (arXiv:1801.04381) Table 2 -- input, operator, t, c, n, s;
* ``v3``: MobileNetV3 (arXiv:1905.02244) Tables 1-2 -- input, operator, exp size, #out, SE, NL, s;
* ``v4``: MobileNetV4 (arXiv:2404.10518) architecture tables -- input, block, DW K1, DW K2,
  expanded dim, output dim, stride.
"""

from __future__ import annotations

import re
import typing
from functools import lru_cache
from typing import Annotated, Any, Literal, NamedTuple, Union

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, field_validator,
                      model_validator)

from ..errors import quoted

# Bounds on a table's whole numbers: far beyond any network these tables describe (MobileNets have
# at most 1280 channels x alpha, 1000 classes, kernels of 7 and strides of 2), low enough that a
# mistyped or absurd value is refused at its row and key instead of overflowing into wrong counts.
MAX_SIDE = 100_000  # input side, pixels
MAX_CHANNELS = 1_000_000  # channels of any layer: c, #out, exp size, filter shapes, divisor, min_channels
MAX_CLASSES = 1_000_000  # classes:
MAX_KERNEL = 100  # kernel side
MAX_STRIDE = 100  # s
MAX_EXPANSION = 1_000  # t (MobileNetV2's expansion factor)
MAX_DILATION = 100  # a row's dilation rate (DeepLab's output stride 8 dilates MobileNets' last stages by 4)
MAX_DEPTH_MULTIPLIER = 10  # d (EfficientNet-B7's depth coefficient is 3.1)
# n (MobileNetV2's repeats of a row; EfficientNet-B7's deepest stage repeats 10 times): a table of two
# rows at n = 100 builds in about 2 s and reports in 0.35 s afterwards; at 1,000 the first build took 21 s.
MAX_REPEATS = 100
# Layers a table builds (the largest built-in table, mobilenet_v4_hybrid_large, builds 246): compiling
# grows faster than the layers: 967 layers report in 4 s and sweep in 11 s, 1,867 sweep in 33 s, and
# 15,000 took 73 s and 1.1 GB to report.
MAX_LAYERS = 1_000


def _bounded(high: int):
    return Annotated[int, Field(gt=0, le=high)]


Channels = _bounded(MAX_CHANNELS)
Stride = _bounded(MAX_STRIDE)


def _kinds(annotation) -> set:
    """'number' and 'bool' as a field's type admits them (through Annotated, Optional and unions)."""
    if annotation is bool:
        return {"bool"}
    if annotation in (int, float):
        return {"number"}
    return set().union(*(_kinds(arg) for arg in typing.get_args(annotation)))


@lru_cache(maxsize=None)
def _number_keys(model: type) -> frozenset:
    """The keys (aliases where given) of `model`'s fields that take a number and not a boolean."""
    return frozenset(field.alias or name for name, field in model.model_fields.items()
                     if _kinds(field.annotation) == {"number"})


class NumbersNotBooleans(BaseModel):
    """Refuses true/false where a field takes a number: YAML reads yes, no, on, off, true and false as booleans,
    and pydantic would take them as 1 and 0 (`cores: yes`, one core, said nothing)."""

    @model_validator(mode="before")
    @classmethod
    def _no_booleans(cls, data):
        if isinstance(data, dict):
            for key in _number_keys(cls):
                if isinstance(data.get(key), bool):
                    raise ValueError(f"{key}: give a number, not {str(data[key]).lower()} (YAML reads yes, no, on, off, "
                                     "true and false as true or false)")
        return data


class _Frozen(NumbersNotBooleans):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _dash_to_none(value):
    """The papers print '-' for an empty cell; so do the tables."""
    return None if value == "-" else value


def _check_mark(value):
    if value in ("✓", "yes", True):
        return True
    if value in ("-", "no", False, None):
        return False
    raise ValueError("expected ✓ or - (or true/false)")


Dash = BeforeValidator(_dash_to_none)
OptChannels = Annotated[Union[Channels, None], Dash]
OptStride = Annotated[Union[Stride, None], Dash]
Check = Annotated[bool, BeforeValidator(_check_mark)]

_SIZE = re.compile(r"^\s*(\d+)\s*(?:\^2|²|x\s*(\d+))\s*x\s*(\d+)\s*$")


def parse_size(text: str) -> tuple[int, int]:
    """'224x224x3', '224^2x3' or '224²x3' -> (side, channels); sides must be square."""
    match = _SIZE.match(str(text))
    if not match:
        raise ValueError(f"expected a size like 224x224x3 or 224^2x3, got {quoted(text)}")
    side, other_side, channels = match.groups()
    if other_side is not None and other_side != side:
        raise ValueError(f"only square inputs are supported, got {quoted(text)}")
    if max(len(side), len(channels)) > 9 or not (0 < int(side) <= MAX_SIDE
                                                 and 0 < int(channels) <= max(MAX_CHANNELS, MAX_CLASSES)):
        raise ValueError(f"sides are 1 to {MAX_SIDE:,} pixels and channels 1 to {max(MAX_CHANNELS, MAX_CLASSES):,}")
    return int(side), int(channels)


_KERNEL = re.compile(r"^\s*(\d+)\s*(?:x\s*(\d+))?\s*$")


def parse_kernel(value) -> tuple[int, int]:
    """A kernel column: 5, '5' or '5x5' -> (5, 5); '5x3' -> (5, 3) (height x width)."""
    match = _KERNEL.match(str(value)) if not isinstance(value, bool) else None
    if not match:
        raise ValueError("expected a kernel like 3, 5x5 or 5x3 (height x width)")
    sides = [int(d) if len(d) <= 9 else 10**9 for d in match.groups(match.group(1))]
    if any(not 0 < k <= MAX_KERNEL for k in sides):
        raise ValueError(f"a kernel side is 1 to {MAX_KERNEL}")
    return sides[0], sides[1]


def _kernel(value):
    parse_kernel(value)
    return value if isinstance(value, int) else str(value)


def _size(value):
    parse_size(value)
    return str(value)


Size = Annotated[str, BeforeValidator(_size)]
Kernel = Annotated[Union[int, str], BeforeValidator(_kernel)]

# Activation functions a table can name (rows' NL column, the table's `activation`, the SE block's
# inner activation and gate), each -> the name the engine, the ONNX export and the latency model use.
# RE and HS are MobileNetV3 Table 1's own abbreviations; SiLU (= swish, x * sigmoid(x), EfficientNet)
# and GELU (the erf form, x * Phi(x)) are the functions of later mobile networks.
ACTIVATION_NAMES = {
    "RE": "relu", "relu": "relu", "ReLU": "relu",
    "RE6": "relu6", "relu6": "relu6", "ReLU6": "relu6",
    "HS": "hswish", "hswish": "hswish", "h-swish": "hswish", "hardswish": "hswish",
    "hsigmoid": "hsigmoid", "h-sigmoid": "hsigmoid", "hardsigmoid": "hsigmoid",
    "sigmoid": "sigmoid",
    "SiLU": "swish", "silu": "swish", "swish": "swish",
    "GELU": "gelu", "gelu": "gelu",
}
ActivationName = Literal[tuple(ACTIVATION_NAMES)]


class InputSpec(_Frozen):
    """The input at rho = 1: `size` x `size` pixels, or `height` x `width` for a rectangular one
    (`height` names `size`; without `width` the input is square)."""

    size: _bounded(MAX_SIDE) = 224
    channels: Channels = 3
    width: Union[_bounded(MAX_SIDE), None] = None

    @model_validator(mode="before")
    @classmethod
    def _height_is_size(cls, data):
        if isinstance(data, dict) and "height" in data:
            data = dict(data)
            height = data.pop("height")
            if "size" in data and data["size"] != height:
                raise ValueError(f"give size or height, not both ({data['size']} and {height})")
            data["size"] = height
        return data

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) at rho = 1."""
        return self.size, self.width if self.width is not None else self.size


class WidthSpec(_Frozen):
    """How the width multiplier alpha becomes channel counts."""

    rounding: Literal["truncate", "make_divisible"]
    divisor: Channels = 8
    min_channels: Channels | None = None
    truncate_first: bool = False
    expansion: Literal["input_ratio", "absolute"] = "input_ratio"
    se_ratio: float = Field(0.25, gt=0, le=1)
    # SE squeeze width = round(se_ratio * channels of `se_of`): the expanded (depthwise) width as in
    # MobileNetV3, or the block's input width as in MnasNet (tensorflow/tpu mnasnet_model.py);
    # rounded by `se_rounding` (default: `rounding`; `truncate` = max(1, int(v)) as MnasNet does).
    se_of: Literal["expanded", "input"] = "expanded"
    se_rounding: Literal["truncate", "make_divisible"] | None = None
    # A block's expanded width under `expansion: input_ratio` (input channels x t, t possibly
    # fractional): `make_divisible` (EfficientNet's _make_divisible(inp * t, 8) in torchvision) or
    # `round` (Python's round(), halves to even: torchvision MobileNetV2's int(round(inp * t)));
    # default: `rounding`.
    expansion_rounding: Literal["make_divisible", "round"] | None = None
    fixed: tuple[str, ...] = ()
    above_one: tuple[str, ...] = ()
    input_ratio: tuple[str, ...] = ()

    @property
    def minimum(self) -> int:
        if self.min_channels is not None:
            return self.min_channels
        return self.divisor if self.rounding == "make_divisible" else 1


class PaddingSpec(_Frozen):
    """Output side of strided layers: `same` = ceil(H/s); `bottom_right` = pad one
    row and column at the bottom/right then convolve 'valid': floor((H+1-k)/s)+1. A string sets
    `conv` and `depthwise`; a windowed pool follows `pool`."""

    conv: Literal["same", "bottom_right"] = "same"
    depthwise: Literal["same", "bottom_right"] = "same"
    # A windowed average pool (a pool row whose window is smaller than its input): `valid` =
    # floor((H-k)/s)+1, the default of torch.nn.AvgPool2d and Keras AveragePooling2D; `same` = ceil(H/s).
    pool: Literal["same", "valid"] = "valid"


def _padding(value):
    if isinstance(value, str):
        return {"conv": value, "depthwise": value}
    return value


Padding = Annotated[PaddingSpec, BeforeValidator(_padding)]


class SemanticsSpec(_Frozen):
    """A named alternative reading of the same table (e.g. another framework's rules)."""

    description: str
    width: dict = Field(default_factory=dict)
    padding: dict | str | None = None


class _Row(_Frozen):
    name: str | None = None
    note: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value):
        if value is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError("layer names are letters, digits and underscores")
        return value


class V1Row(_Row):
    type: Literal["conv", "conv dw", "avg pool", "fc", "softmax"]
    s: Stride = 1
    filter: str | None = None
    input: Size

    @field_validator("filter")
    @classmethod
    def _filter(cls, value):
        if value is not None and not re.fullmatch(r"\d+(x\d+){1,3}", value.replace(" ", "")):
            raise ValueError(f"expected a filter shape like 3x3x32x64, got {quoted(value)}")
        if value is not None:
            dims = [int(d) if len(d) <= 9 else 10**9 for d in value.replace(" ", "").split("x")]
            kernel = dims[:2] if len(dims) > 2 else []
            if any(not 0 < k <= MAX_KERNEL for k in kernel):
                raise ValueError(f"a kernel side is 1 to {MAX_KERNEL}")
            if any(not 0 < d <= max(MAX_CHANNELS, MAX_CLASSES) for d in dims[len(kernel):]):
                raise ValueError(f"channels are 1 to {max(MAX_CHANNELS, MAX_CLASSES):,}")
        return value


def _whole_if_integral(value: float) -> int | float:
    return int(value) if value.is_integer() else value


# t, the expansion ratio: a whole number as the paper writes it, or a fraction (2.5) as torchvision accepts it.
Expansion = Annotated[float, Field(gt=0, le=MAX_EXPANSION), AfterValidator(_whole_if_integral)]

_V2_POOL = re.compile(r"avgpool (\d+)x(\d+)")


class V2Row(_Row):
    input: Size
    operator: str
    t: Annotated[Union[Expansion, None], Dash] = None
    c: Annotated[Union[Channels, Literal["k"], None], Dash] = None
    n: Annotated[Union[_bounded(MAX_REPEATS), None], Dash] = None
    s: OptStride = None
    # Optional columns beyond the paper's: the depthwise kernel of a bottleneck (or a conv2d row's
    # kernel; default 3x3) and the row's activation (default: the table's `activation`).
    kernel: Annotated[Union[Kernel, None], Dash] = None
    nl: Annotated[Union[ActivationName, None], Dash] = None
    dilation: _bounded(MAX_DILATION) = 1  # of a bottleneck's depthwise conv, or of a conv2d row

    @field_validator("operator")
    @classmethod
    def _operator(cls, value):
        if value in ("conv2d", "conv2d 3x3", "bottleneck", "conv2d 1x1"):
            return value
        match = _V2_POOL.fullmatch(value)
        if not match:
            raise ValueError("expected one of 'conv2d', 'conv2d 3x3', 'conv2d 1x1', 'bottleneck', 'avgpool KxK'; "
                             f"got {quoted(value)}")
        if any(len(k) > 9 or not 0 < int(k) <= MAX_KERNEL for k in match.groups()):
            raise ValueError(f"a kernel side is 1 to {MAX_KERNEL}")
        return value

    @property
    def pool_window(self) -> tuple[int, int] | None:
        """(height, width) of an ``avgpool KxK`` row's window; None on other rows."""
        match = _V2_POOL.fullmatch(self.operator)
        return (int(match.group(1)), int(match.group(2))) if match else None


class V3Operator(NamedTuple):
    """A v3 table's operator column, parsed: ``bneck, 5x5`` -> ("bneck", 5, False)."""

    kind: Literal["conv2d", "bneck", "pool"]
    kernel: int | None  # K of a written KxK (a bare ``conv2d`` is None: 3x3); the height of a KxL
    nbn: bool  # ``, NBN``: no batch norm, a bias instead
    kernel_w: int | None = None  # L of a written KxL (the kernel's width); None with a bare ``conv2d``


_V3_OPERATOR = re.compile(r"(conv2d)(?:,? ?(\d+)x(\d+))?(, NBN)?|(bneck|pool), (\d+)x(\d+)")


@lru_cache(maxsize=None)
def parse_v3_operator(text: str) -> V3Operator | None:
    """'conv2d', 'conv2d, 3x3', 'conv2d 1x1, NBN', 'bneck, 5x5' or 'pool, 7x7' -> V3Operator; else None.

    A non-square 'bneck, 5x3' is a 5-high, 3-wide kernel."""
    match = _V3_OPERATOR.fullmatch(text)
    if not match:
        return None
    conv, conv_kh, conv_kw, nbn, other, kh, kw = match.groups()
    if conv:
        if not conv_kh:
            return V3Operator("conv2d", None, bool(nbn))
        return V3Operator("conv2d", int(conv_kh), bool(nbn), int(conv_kw))
    return V3Operator(other, int(kh), False, int(kw))


class V3Row(_Row):
    input: Size
    operator: str
    exp: OptChannels = None
    out: Annotated[Union[Channels, Literal["k"], None], Dash] = None
    se: Check = False
    nl: Annotated[Union[ActivationName, None], Dash] = None
    s: OptStride = None
    skip: Check = True  # bneck rows: '-' = no shortcut add even where widths agree (MnasNet 'noskip')
    # bneck rows: repeats of the block (EfficientNet's stage repeats); the first has stride s and the
    # row's input, the others stride 1 and the row's #out as input, expanded by the same ratio exp/input.
    n: _bounded(MAX_REPEATS) = 1
    dilation: _bounded(MAX_DILATION) = 1  # of a bneck's depthwise conv, or of a conv2d row (torchvision's `dilated`)
    _parsed: V3Operator = PrivateAttr()

    @field_validator("operator")
    @classmethod
    def _operator(cls, value):
        if parse_v3_operator(value) is None:
            raise ValueError(
                "expected one of 'conv2d', 'conv2d, 3x3', 'conv2d, 1x1', 'conv2d 1x1, NBN', "
                f"'bneck, KxK', 'pool, 7x7'; got {quoted(value)}"
            )
        if any(len(k) > 9 or not 0 < int(k) <= MAX_KERNEL for k in re.findall(r"\d+", value)):
            raise ValueError(f"a kernel side is 1 to {MAX_KERNEL}")
        return value

    def model_post_init(self, context: Any) -> None:
        self._parsed = parse_v3_operator(self.operator)

    @property
    def parsed(self) -> V3Operator:
        """The operator column, parsed when the row was validated."""
        return self._parsed


V4_BLOCKS = ("Conv2D", "FusedIB", "ExtraDW", "IB", "ConvNext", "FFN", "MobileMQA", "AvgPool")
_V4_KERNEL = re.compile(r"^\s*(\d{1,9})\s*[x×]\s*(\d{1,9})\s*$")


def _v4_kernel(value):
    """'3x3' (or 3) -> 3; '-' -> None; a non-square kernel is refused, never squared."""
    value = _dash_to_none(value)
    if value is None or isinstance(value, int):
        return value
    match = _V4_KERNEL.match(str(value))
    if not match:
        raise ValueError(f"expected a kernel like 3x3 or -, got {quoted(value)}")
    if match.group(1) != match.group(2):
        raise ValueError(f"only square kernels are supported, got {quoted(value)}")
    return int(match.group(1))


V4Kernel = Annotated[Union[_bounded(MAX_KERNEL), None], BeforeValidator(_v4_kernel)]


class V4Row(_Row):
    """A row of the MobileNetV4 architecture tables (arXiv:2404.10518, Appendix).

    ``dw_k1`` / ``dw_k2``: the Universal Inverted Bottleneck's optional depthwise kernels before the
    expansion and between expansion and projection (ExtraDW has both, IB only K2, ConvNext only K1,
    FFN neither). As the paper prints them, a Conv2D, FusedIB or AvgPool row's kernel sits in DW K2.
    A MobileMQA row (Mobile multi-query attention) gives ``heads``, ``key_dim`` (= value dim) and
    ``kv_stride`` (keys and values downsampled by a strided depthwise of kernel DW K2 when above 1).
    """

    input: Size
    block: Literal[V4_BLOCKS]
    dw_k1: V4Kernel = None
    dw_k2: V4Kernel = None
    exp: OptChannels = None
    out: Annotated[Union[Channels, Literal["k"], None], Dash] = None
    s: OptStride = None
    skip: Check = True  # '-': no shortcut add even where the widths agree
    heads: Annotated[Union[_bounded(MAX_CHANNELS), None], Dash] = None
    key_dim: OptChannels = None
    kv_stride: OptStride = None




_HEAD_OPERATOR = re.compile(r"(conv2d|dwconv) (\d+)x\2|concat|add|multiply|upsample|pool")
LayerRef = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.]*$", max_length=200)]


class HeadRow(_Row):
    """A row of a head table: one layer, reading the layers it names in ``from`` (by reference).

    operator: ``conv2d KxK`` (dense), ``dwconv KxK`` (depthwise, width of its input), or a join:
    ``concat`` (channels), ``add``, ``multiply`` (the second input may be 1x1, broadcast over the side),
    ``upsample`` (to the side of its second input, or by the factor ``s``); ``pool``: global average pooling.
    ``out`` is the convolution's channels per anchor (``k``: the table's classes) times ``anchors``."""

    operator: str
    inputs: Annotated[Union[LayerRef, tuple[LayerRef, ...], None], Field(alias="from")] = None
    out: Annotated[Union[Channels, Literal["k"], None], Dash] = None
    anchors: _bounded(MAX_CHANNELS) = 1
    s: OptStride = None
    dilation: _bounded(MAX_DILATION) = 1  # of a conv2d or dwconv row (ASPP's atrous 3x3); output side kept
    nl: Annotated[Union[ActivationName, None], Dash] = None
    bn: Check = False
    bias: Check = False
    output: Check = False  # returned by the network even if a later row reads it

    @field_validator("operator")
    @classmethod
    def _operator(cls, value):
        if not _HEAD_OPERATOR.fullmatch(value):
            raise ValueError("expected 'conv2d KxK', 'dwconv KxK', 'pool', 'concat', 'add', 'multiply' or 'upsample'; "
                             f"got {quoted(value)}")
        kernel = _HEAD_OPERATOR.fullmatch(value).group(2)
        if kernel is not None and (len(kernel) > 9 or not 0 < int(kernel) <= MAX_KERNEL):
            raise ValueError(f"a kernel side is 1 to {MAX_KERNEL}")
        return value

    @property
    def kernel(self) -> int:
        kernel = _HEAD_OPERATOR.fullmatch(self.operator).group(2)
        return int(kernel) if kernel else 1

    @property
    def sources(self) -> tuple[str, ...]:
        if self.inputs is None:
            return ()
        return (self.inputs,) if isinstance(self.inputs, str) else tuple(self.inputs)


class BackboneSpec(_Frozen):
    """The table a head table builds on, read as its own table would be, and cut after ``until``.

    ``reduced_tail``: torchvision's ``mobilenet_v3_large(reduced_tail=True)`` (mobilenetv3.py, the
    backbone of its detection and segmentation models): the #out of the last stride-2 bneck row, and
    the exp size and #out of the bneck rows after it, divided by this factor (2).

    ``output_stride``: the backbone read with its table's ``output_stride`` key set to this value
    (torchvision's ``mobilenet_v3_large(dilated=True)``, the backbone of its segmentation models, is
    output stride 16)."""

    table: str
    semantics: str | None = None
    until: LayerRef | None = None
    reduced_tail: Annotated[Union[_bounded(MAX_CHANNELS), None], Dash] = None
    output_stride: Annotated[Union[_bounded(MAX_SIDE), None], Dash] = None


ROW_MODELS = {"v1": V1Row, "v2": V2Row, "v3": V3Row, "v4": V4Row, "head": HeadRow}


class VariantSpec(_Frozen):
    """A whole table: metadata, width and padding rules, alternatives, rows."""

    name: str
    title: str
    source: str
    format: Literal["v1", "v2", "v3", "v4", "head"]
    backbone: BackboneSpec | None = None  # a head table's backbone (format: head)
    # A head's convolution widths: `fixed` as written (torchvision's detection and segmentation heads
    # are built at width_mult 1.0 whatever the backbone's), or `scaled` by alpha with the backbone's
    # rounding. Prediction outputs (out: k, or anchors > 1) never scale.
    head_widths: Literal["fixed", "scaled"] = "fixed"
    input: InputSpec = InputSpec()
    classes: _bounded(MAX_CLASSES) = 1000
    activation: ActivationName = "relu6"
    se_gate: ActivationName = "hsigmoid"  # SE gate: V3's h-sigmoid, MnasNet's and EfficientNet's sigmoid
    se_act: ActivationName = "relu"  # SE inner activation: ReLU (V3, MnasNet), SiLU (EfficientNet)
    # Repeats of a row with n: ceil(n * depth_multiplier) (EfficientNet's depth coefficient, its
    # _round_repeats / torchvision's adjust_depth).
    depth_multiplier: float = Field(1.0, gt=0, le=MAX_DEPTH_MULTIPLIER)
    # The table as a dense-prediction backbone (DeepLab, arXiv:1706.05587 Sec. 3.1): once the input has
    # been divided by output_stride, every later stride becomes 1 and the later layers' dilation grows by
    # it instead (TF-slim mobilenet's output_stride rule); None: the table as written.
    output_stride: Union[_bounded(MAX_SIDE), None] = None
    # v4: a learned per-channel scale ends every UIB and Mobile MQA block (MobileNetV4's hybrid models)
    layer_scale: bool = False
    width: WidthSpec
    padding: Padding = PaddingSpec()
    semantics: dict[str, SemanticsSpec] = Field(default_factory=dict)
    layers: tuple[Any, ...]  # rows validated one by one with ROW_MODELS[format]
    # Where the table came from (filled by the loader, not by the YAML).
    path: str = ""
    line_of_row: tuple[int, ...] = ()
    line_of_backbone: int = 0
    backbone_table: "VariantSpec | None" = None  # a head table's backbone, read under its semantics

    @field_validator("name")
    @classmethod
    def _printable_name(cls, value):
        # The name keys sheets, files and grid columns: numpy's strings drop a trailing NUL, so 'x\0' and
        # 'x' once parted ways inside an export (a traceback from the workbook's chart).
        if any(c < " " or "\x7f" <= c <= "\x9f" for c in value):
            raise ValueError("a table's name is printable text, without control characters")
        return value

    def with_semantics(self, name: str | None) -> "VariantSpec":
        """The same table read under a named alternative (None or 'default': as written)."""
        if name in (None, "default"):
            return self
        if name not in self.semantics:
            from ..errors import MobilecostError

            known = ", ".join(["default", *self.semantics]) or "default"
            raise MobilecostError(
                f"unknown semantics {quoted(name)} for {self.name}; known: {known}", field="--semantics"
            )
        alt = self.semantics[name]
        width = WidthSpec.model_validate({**self.width.model_dump(), **alt.width})
        padding = self.padding
        if alt.padding is not None:
            padding = PaddingSpec.model_validate({**self.padding.model_dump(), **_padding(alt.padding)})
        return self.model_copy(update={"width": width, "padding": padding})
