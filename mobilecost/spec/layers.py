"""Decode a table's rows into primitive layers with stable names.

One decoder per table format, all here (as timm decodes its block strings in one place):

* v1 rows are already layers: ``conv1``, ``b1.dw``, ``b1.pw``, ..., ``pool``, ``classifier``;
* a v2 ``bottleneck`` row with n repeats becomes blocks ``bK.expand``, ``bK.dw``, ``bK.project``
  (+ ``bK.add`` when stride 1 and widths match);
* a v3 ``bneck`` row becomes ``bK.expand``, ``bK.dw``, ``bK.se.{pool,reduce,expand,scale}``,
  ``bK.project`` (+ ``bK.add``);
* a v4 Universal Inverted Bottleneck row (ExtraDW, IB, ConvNext, FFN) becomes ``bK.dw_start``,
  ``bK.expand``, ``bK.dw``, ``bK.project`` (each depthwise only where its kernel is given; + ``bK.add``);
  a FusedIB row ``bK.expand`` (the KxK expansion) and ``bK.project``; a MobileMQA row ``bK.norm``,
  ``bK.query``, ``bK.key_down``/``bK.value_down`` (with a KV stride), ``bK.key``, ``bK.value``,
  ``bK.scores``, ``bK.softmax``, ``bK.context``, ``bK.output``; with ``layer_scale``, a UIB or MQA
  block ends with ``bK.layer_scale``.
* a head table is its backbone's layers (decoded as the backbone table, cut after ``until``, names
  kept) followed by one layer per head row, each reading the layers its ``from`` names.

Each layer carries its `Role` in its block (``expand``, ``dw``, ``se.reduce``, ...) and its block's
name, so no reader parses names. A layer's `Width` says what the table gives for its channels; the
table's width policy and the rounding are applied by the width rules (count/widths.py).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import TYPE_CHECKING

from ..count.ops import OpKind
from ..errors import MobilecostError, quoted
from .roles import Role

if TYPE_CHECKING:  # decoding reads the validated spec; the layer records themselves need neither YAML nor pydantic
    from .models import VariantSpec


# What the engine computes for every layer (expressions in alpha, rho; integers once evaluated).
SHAPE_FIELDS = ("in_side", "in_ch", "out_side", "out_ch")
COST_FIELDS = ("macs", "weights", "biases", "bn_affine", "bn_stats", "act_in", "act_out", "bn_ops", "act_ops", "ew_ops",
               "attn_macs")
# A map's width beside its height (in_side, out_side): equal to it unless the table's input is rectangular.
WIDTH_FIELDS = ("in_width", "out_width")
FIELDS = SHAPE_FIELDS + COST_FIELDS + WIDTH_FIELDS


@dataclass(frozen=True)
class Width:
    """What the table gives for a layer's output channels.

    kind: ``row`` (a row's own c, of its ``of`` input channels; the policy may name the row
    ``row_name`` fixed, above-one or input-ratio), ``expansion`` (a block's expanded width c of its
    ``of`` input channels), ``scaled`` (round(c*alpha)), ``fixed`` (c), ``above_one`` (c unless
    alpha > 1), ``input_ratio`` (round(input channels * c / of)), ``same`` (= input channels),
    ``attention_map`` (c heads x the squared side of layer ``ref``: attention scores per query position),
    ``classes`` (the classifier's outputs), ``squeeze`` (round(se_ratio * channels) of the SE input,
    or of the block input ``ref`` under ``width.se_of: input``), ``like`` (the width of layer ``ref``),
    ``concat`` (the sum of the widths of layers ``refs``).
    """

    kind: str
    c: int = 0
    of: int = 1
    block_output: bool = False  # a V2 block's output, which Keras truncates before make_divisible
    ref: str = ""  # ``like``: the layer whose width this one repeats; ``squeeze``: the block input
    row_name: str = ""  # ``row``: the row's name in the table, as the width policy names it
    refs: tuple[str, ...] = ()  # ``concat``: the layers whose widths add up


@dataclass(frozen=True)
class Layer:
    name: str
    op: OpKind
    row: int  # 0-based table row
    width: Width
    kernel: int = 1  # the kernel's (or pooling window's) height, and its width unless kernel_w says otherwise
    stride: int = 1
    bias: bool = False
    bn: bool = False
    act: str | None = None
    inputs: tuple[str, ...] = ()
    check: tuple[int, int] | None = None  # the paper's input (side, channels) at alpha = rho = 1
    block: str = ""  # the block's name (``b4``); a layer outside any block is its own block
    role: Role = Role.conv  # what the layer does in its block
    residual: bool = False  # an add that exists only where its two inputs have the same width
    kernel_w: int | None = None  # the width of a non-square kernel (``bneck, 5x3``: kernel 5, kernel_w 3)
    dilation: int = 1  # the rate of a dilated (atrous) convolution: its kernel spans dilation * (k - 1) + 1 pixels

    @property
    def kernel_hw(self) -> tuple[int, int]:
        """(height, width) of the kernel or pooling window."""
        return self.kernel, self.kernel if self.kernel_w is None else self.kernel_w

    @property
    def kernel_span(self) -> tuple[int, int]:
        """(height, width) of the pixels the kernel spans: dilation * (k - 1) + 1 along each axis."""
        return tuple(self.dilation * (k - 1) + 1 for k in self.kernel_hw)

    @property
    def kernel_label(self) -> int | str:
        """The kernel as a report's kernel column shows it: its side, or ``5x3`` when not square."""
        height, width = self.kernel_hw
        return height if height == width else f"{height}x{width}"
    source: str = ""  # in a head table: the backbone table's name for the backbone's layers ("" = the head's)
    output: bool = False  # returned by the network although a later layer reads it (a head's feature tap)


def network_outputs(layers) -> tuple[str, ...]:
    """The tensors a network returns: those marked ``output`` and those no later layer reads."""
    read = {name for layer in layers for name in layer.inputs}
    return tuple(layer.name for layer in layers if layer.output or layer.name not in read)


@dataclass
class _Builder:
    spec: VariantSpec
    layers: list[Layer] = field(default_factory=list)
    last: str = "input"
    blocks: int = 0

    def add(self, name, op, role, row, width, **kw) -> str:
        from .models import MAX_LAYERS

        if len(self.layers) >= MAX_LAYERS:
            raise _row_error(self.spec, row, "layers", f"this row takes the table past {MAX_LAYERS:,} layers, the most "
                             "a table may build (the largest built-in table builds 246)")
        inputs = kw.pop("inputs", (self.last,))
        block = kw.pop("block", name)
        self.layers.append(Layer(name=name, op=op, role=role, row=row, width=width, inputs=inputs, block=block,
                                 **kw))
        self.last = name
        return name

    def plain_conv_role(self) -> Role:
        """A convolution row outside any block: the stem when it reads the image."""
        return Role.stem if self.last == "input" else Role.conv


def _act(name: str | None) -> str | None:
    """A table's activation name (``RE``, ``HS``, ``SiLU``, ...) -> the engine's (``relu``, ``hswish``, ``swish``)."""
    from .models import ACTIVATION_NAMES

    return None if name is None else ACTIVATION_NAMES[name]


def _kernel_kw(kh: int, kw: int) -> dict:
    """Layer keywords of a kh x kw kernel (a square one keeps kernel_w unset, as before)."""
    return {"kernel": kh} if kh == kw else {"kernel": kh, "kernel_w": kw}


def _add_pool(b: "_Builder", row, i: int, window: tuple[int, int] | None, check, stride) -> None:
    """A pool row: global average pooling when its window covers the table's input (``avgpool 4x4`` on
    a 4x4 map) or is 7x7 -- the three papers' name for the global pool of a 224-pixel network, which
    tables keep at other sizes (the next row's input column, 1x1, then says so) -- else a windowed
    average pool with the row's stride (``pool, 3x3`` on a 7x7 map)."""
    spec = b.spec
    name = row.name or "pool"
    if window is None or min(window) >= check[0] or window == (7, 7):
        b.add(name, OpKind.global_pool, Role.pool, i, Width("same"), check=check)
        return
    if max(window) > check[0]:
        raise _row_error(spec, i, "operator" if spec.format != "v1" else "filter",
                         f"a {window[0]}x{window[1]} pooling window is wider than its {check[0]}x{check[0]} "
                         "input along one axis only")
    if stride is None:
        raise _row_error(spec, i, "s", f"a {window[0]}x{window[1]} pool on a {check[0]}x{check[0]} map is a windowed "
                         "pool, not a global one: give its stride s")
    b.add(name, OpKind.avg_pool, Role.pool, i, Width("same"), stride=stride, check=check, **_kernel_kw(*window))


def decode(spec: VariantSpec) -> tuple[Layer, ...]:
    builder = _Builder(spec)
    {"v1": _decode_v1, "v2": _decode_v2, "v3": _decode_v3, "v4": _decode_v4, "head": _decode_head}[spec.format](builder)
    if spec.output_stride is None:
        return tuple(builder.layers)
    return _with_output_stride(spec, builder.layers)


def _with_output_stride(spec: VariantSpec, layers: list[Layer]) -> tuple[Layer, ...]:
    """The layers of a backbone with output stride `spec.output_stride`, by TF-slim mobilenet's rule
    (nets/mobilenet/mobilenet.py, as DeepLab uses it): once the strides so far reach the output stride,
    a strided layer runs at stride 1 with the current rate, and the rate of every later layer grows
    by the stride it dropped. The paper's input sizes written after that point grow by the same factor."""
    target, current, rate, grown, out = spec.output_stride, 1, 1, 1, []
    for layer in layers:
        update = {}
        if layer.check is not None and grown > 1:
            update["check"] = (layer.check[0] * grown, layer.check[1])
        if current == target:
            if layer.op in (OpKind.conv, OpKind.depthwise):
                update["dilation"] = layer.dilation * rate
            if layer.stride > 1:
                update["stride"] = 1
                rate *= layer.stride
                grown *= layer.stride
        elif layer.stride > 1:
            current *= layer.stride
            if current > target or target % current:
                raise MobilecostError(f"output_stride {target} is not a product of the table's strides "
                                      f"({current // layer.stride} then {current})", where=spec.path or spec.name,
                                      field="output_stride")
        out.append(dataclasses.replace(layer, **update) if update else layer)
        if layer.op in (OpKind.global_pool, OpKind.fc) and layer.role is not Role.se_pool:
            grown = 1  # 1x1 from here on, at any output stride
    return tuple(out)


def _dims(text: str) -> list[int]:
    return [int(x) for x in text.replace(" ", "").split("x")]


def _row_width(row, c: int, of: int) -> Width:
    """A convolution row's own output width c (of its `of` input channels), as the policy reads it."""
    return Width("row", c, of, row_name=row.name or "")


def _row_error(spec, index, field, message):
    from .loader import row_location

    return MobilecostError(message, where=row_location(spec, index), field=field)


def _decode_v1(b: _Builder) -> None:
    from .models import parse_size

    spec, act = b.spec, _act(b.spec.activation)
    pending_dw = False
    for i, row in enumerate(spec.layers):
        check = parse_size(row.input)
        if row.type in ("conv", "conv dw") and not row.filter:
            raise _row_error(spec, i, "filter", f"a '{row.type}' row needs a filter shape")
        if row.type == "conv":
            dims = _dims(row.filter)
            if len(dims) != 4:
                raise _row_error(spec, i, "filter", "a conv filter is KxKxCinxCout (kernel height x width x in x out)")
            k, k_w, c_in, c_out = dims
            if pending_dw:
                name, role, block = f"b{b.blocks}.pw", Role.pw, f"b{b.blocks}"
                pending_dw = False
            else:
                name = row.name or (f"conv{i + 1}" if i else "conv1")
                role, block = b.plain_conv_role(), name
            op = OpKind.pointwise if (k, k_w) == (1, 1) else OpKind.conv
            b.add(name, op, role, i, _row_width(row, c_out, c_in), stride=row.s,
                  bn=True, act=act, check=check, block=block, **_kernel_kw(k, k_w))
        elif row.type == "conv dw":
            dims = _dims(row.filter)
            if len(dims) != 3:
                raise _row_error(spec, i, "filter", "a depthwise filter is KxKxC (kernel height x width x channels)")
            b.blocks += 1
            pending_dw = True
            b.add(f"b{b.blocks}.dw", OpKind.depthwise, Role.dw, i, Width("same"), stride=row.s,
                  bn=True, act=act, check=check, block=f"b{b.blocks}", **_kernel_kw(dims[0], dims[1]))
        elif row.type == "avg pool":
            dims = _dims(row.filter) if row.filter else []
            if row.filter and len(dims) != 2:
                raise _row_error(spec, i, "filter", "a pool's filter is its window, KxK")
            _add_pool(b, row, i, tuple(dims) or None, check, row.s)
        elif row.type == "fc":
            dims = _dims(row.filter or "")
            if len(dims) != 2:
                raise _row_error(spec, i, "filter", "an fc filter is CinxCout")
            b.add(row.name or "classifier", OpKind.fc, Role.classifier, i, Width("classes", dims[1]), bias=True,
                  check=check)
        elif row.type == "softmax":
            b.add(row.name or "softmax", OpKind.softmax, Role.softmax, i, Width("same"), check=check)


def _decode_v2(b: _Builder) -> None:
    from .models import parse_kernel, parse_size

    spec = b.spec
    for i, row in enumerate(spec.layers):
        check = parse_size(row.input)
        op = row.operator
        act = _act(row.nl or spec.activation)
        kernel = parse_kernel(row.kernel) if row.kernel is not None else None
        if kernel is not None and op not in ("conv2d", "bottleneck", "conv2d 3x3", "conv2d 1x1"):
            raise _row_error(spec, i, "kernel", f"a kernel applies to conv2d and bottleneck rows, not {op}")
        if row.dilation != 1 and op not in ("conv2d", "bottleneck", "conv2d 3x3", "conv2d 1x1"):
            raise _row_error(spec, i, "dilation", f"dilation applies to conv2d and bottleneck rows, not {op}")
        if row.nl is not None and op not in ("conv2d", "bottleneck", "conv2d 3x3", "conv2d 1x1"):
            raise _row_error(spec, i, "nl", f"an activation applies to conv2d and bottleneck rows, not {op}")
        if op in ("conv2d", "conv2d 3x3", "conv2d 1x1"):
            if row.c is None:
                raise _row_error(spec, i, "c", f"a {op} row needs c")
            written = {"conv2d 1x1": (1, 1), "conv2d 3x3": (3, 3)}.get(op)
            if kernel is not None and written is not None and kernel != written:
                raise _row_error(spec, i, "kernel", f"kernel {row.kernel} contradicts the operator {op}")
            kh, kw = kernel or written or (3, 3)
            if row.c == "k":
                b.add(row.name or "classifier", OpKind.fc, Role.classifier, i, Width("classes", spec.classes),
                      bias=True, check=check)
                continue
            name = row.name or ("conv1" if i == 0 else f"conv{i + 1}")
            b.add(name, OpKind.pointwise if (kh, kw) == (1, 1) else OpKind.conv, b.plain_conv_role(), i,
                  _row_width(row, row.c, check[1]), stride=row.s or 1, bn=True, act=act, check=check,
                  dilation=row.dilation, **_kernel_kw(kh, kw))
        elif row.pool_window is not None:
            _add_pool(b, row, i, row.pool_window, check, row.s)
        elif op == "bottleneck":
            for field_name in ("t", "c", "n", "s"):
                if getattr(row, field_name) in (None, "k"):
                    raise _row_error(spec, i, field_name, f"a bottleneck row needs {field_name}")
            for repeat in range(_repeats(spec, i, row.n)):
                in_c = check[1] if repeat == 0 else row.c
                _bottleneck(b, i, kernel=kernel or (3, 3), exp=_expansion(spec, i, row.t, in_c), in_c=in_c,
                            out=row.c, stride=row.s if repeat == 0 else 1, se=False, act=act,
                            check=check if repeat == 0 else None, block_output=True, dilation=row.dilation)


def _decode_v3(b: _Builder) -> None:
    from .models import parse_size

    spec = b.spec
    for i, row in enumerate(spec.layers):
        check = parse_size(row.input)
        kind, k, nbn, k_w = row.parsed
        act = _act(row.nl)
        if row.n != 1 and kind != "bneck":
            raise _row_error(spec, i, "n", "repeats apply to bneck rows only")
        if row.dilation != 1 and kind == "pool":
            raise _row_error(spec, i, "dilation", "dilation applies to convolution rows")
        if kind == "pool":
            _add_pool(b, row, i, (k, k_w), check, row.s)
            continue
        if row.out is None:
            raise _row_error(spec, i, "out", f"a {kind} row needs #out")
        if kind == "conv2d":
            k, k_w = (k, k_w) if k else (3, 3)
            if row.out == "k":
                b.add(row.name or "classifier", OpKind.fc if check[0] == 1 else OpKind.pointwise, Role.classifier, i,
                      Width("classes", spec.classes), bias=True, check=check)
                continue
            name = row.name or f"conv{i + 1}"
            op = OpKind.pointwise if (k, k_w) == (1, 1) else OpKind.conv
            if row.se:
                raise _row_error(spec, i, "se", "SE is supported on bneck rows only")
            if not row.skip:
                raise _row_error(spec, i, "skip", "skip applies to bneck rows only")
            b.add(name, op, b.plain_conv_role(), i, _row_width(row, row.out, check[1]),
                  stride=row.s or 1, bias=nbn, bn=not nbn, act=act, check=check, dilation=row.dilation,
                  **_kernel_kw(k, k_w))
        else:
            if row.exp is None:
                raise _row_error(spec, i, "exp", "a bneck row needs exp size")
            for repeat in range(_repeats(spec, i, row.n)):
                in_c = check[1] if repeat == 0 else row.out
                exp = row.exp if repeat == 0 else _expansion(spec, i, Fraction(row.exp, check[1]), in_c)
                _bottleneck(b, i, kernel=(k, k_w), exp=exp, in_c=in_c, out=row.out,
                            stride=(row.s or 1) if repeat == 0 else 1, se=row.se, act=act,
                            check=check if repeat == 0 else None, block_output=False, skip=row.skip,
                            dilation=row.dilation)


def _repeats(spec: VariantSpec, index: int, n: int) -> int:
    """A row's repeats under the table's depth multiplier: ceil(n * d), as EfficientNet's _round_repeats
    (the float product, as the reference code computes it); at most MAX_REPEATS, as n itself."""
    from .models import MAX_REPEATS

    if spec.depth_multiplier == 1:
        return n
    repeats = math.ceil(n * spec.depth_multiplier)
    if repeats > MAX_REPEATS:
        raise _row_error(spec, index, "n", f"n = {n} x depth_multiplier {spec.depth_multiplier:g} repeats the row "
                         f"{repeats} times; at most {MAX_REPEATS}")
    return repeats


def _expansion(spec: VariantSpec, index: int, t, in_c: int) -> int | Fraction:
    """A block's expanded width t * in_c at alpha = 1 (t may be fractional: 2.5 * 25 = 62.5); the width
    rules round t * (the rounded input) at each alpha. An absolute expansion must be whole."""
    exp = Fraction(t) * in_c
    if exp.denominator == 1:
        return int(exp)
    if spec.width.expansion != "input_ratio":
        raise _row_error(spec, index, "t", f"t = {float(t):g} gives {float(exp):g} expanded channels of {in_c}; "
                         "a fractional width needs width.expansion: input_ratio")
    return exp


# MobileNetV4's Universal Inverted Bottleneck: which optional depthwise each block name has
# (arXiv:2404.10518 Fig. 4: ExtraDW both, IB the middle one, ConvNext the first, FFN neither).
UIB_KERNELS = {"ExtraDW": (True, True), "IB": (False, True), "ConvNext": (True, False), "FFN": (False, False)}


def _decode_v4(b: _Builder) -> None:
    from .models import parse_size

    spec, act = b.spec, _act(b.spec.activation)
    for i, row in enumerate(spec.layers):
        check = parse_size(row.input)
        if row.block == "AvgPool":
            if row.dw_k2 not in (None, check[0]):
                raise _row_error(spec, i, "dw_k2", f"only a global pool is supported: the window is the "
                                                    f"{check[0]}x{check[0]} input")
            b.add(row.name or "pool", OpKind.global_pool, Role.pool, i, Width("same"), check=check)
            continue
        if row.out is None:
            raise _row_error(spec, i, "out", f"a {row.block} row needs an output dim")
        if row.block == "Conv2D":
            if row.dw_k1 is not None:
                raise _row_error(spec, i, "dw_k1", "a Conv2D row gives its kernel in dw_k2")
            k = row.dw_k2 or 1
            if row.out == "k":
                b.add(row.name or "classifier", OpKind.fc if check[0] == 1 and k == 1 else OpKind.conv,
                      Role.classifier, i, Width("classes", spec.classes), kernel=k, bias=True, check=check)
                continue
            b.add(row.name or f"conv{i + 1}", OpKind.pointwise if k == 1 else OpKind.conv, b.plain_conv_role(), i,
                  _row_width(row, row.out, check[1]), kernel=k, stride=row.s or 1, bn=True, act=act, check=check)
            continue
        if row.out == "k":
            raise _row_error(spec, i, "out", "only a Conv2D row is the classifier (out: k)")
        attention_keys = ("heads", "key_dim", "kv_stride")
        if row.block == "MobileMQA":
            for field_name in ("heads", "key_dim"):
                if getattr(row, field_name) is None:
                    raise _row_error(spec, i, field_name, f"a MobileMQA row needs {field_name}")
            for field_name in ("dw_k1", "exp"):
                if getattr(row, field_name) is not None:
                    raise _row_error(spec, i, field_name, f"a MobileMQA row has no {field_name}")
            kv_stride = row.kv_stride or 1
            if kv_stride > 1 and row.dw_k2 is None:
                raise _row_error(spec, i, "dw_k2", "a KV stride needs the kernel of its depthwise in dw_k2")
            if (row.s or 1) != 1:
                raise _row_error(spec, i, "s", "a MobileMQA block keeps its input's side (s: 1)")
            _mobile_mqa(b, i, heads=row.heads, key_dim=row.key_dim, kv_stride=kv_stride, kernel=row.dw_k2,
                        out=row.out, check=check, skip=row.skip)
            continue
        for field_name in attention_keys:
            if getattr(row, field_name) is not None:
                raise _row_error(spec, i, field_name, f"only a MobileMQA row has {field_name}")
        if row.exp is None:
            raise _row_error(spec, i, "exp", f"a {row.block} row needs an expanded dim")
        if row.block == "FusedIB":
            if row.dw_k2 is None or row.dw_k1 is not None:
                raise _row_error(spec, i, "dw_k2", "a FusedIB row gives its expansion kernel in dw_k2 only")
            _fused_ib(b, i, kernel=row.dw_k2, exp=row.exp, in_c=check[1], out=row.out, stride=row.s or 1,
                      act=act, check=check, skip=row.skip)
            continue
        start, middle = UIB_KERNELS[row.block]
        for field_name, wanted in (("dw_k1", start), ("dw_k2", middle)):
            if (getattr(row, field_name) is not None) != wanted:
                raise _row_error(spec, i, field_name, f"{row.block} {'has' if wanted else 'has no'} "
                                                      f"{'DW K1' if field_name == 'dw_k1' else 'DW K2'}")
        _universal_inverted_bottleneck(b, i, k1=row.dw_k1, k2=row.dw_k2, exp=row.exp, in_c=check[1], out=row.out,
                                       stride=row.s or 1, act=act, check=check, skip=row.skip)


def _shortcut(b: _Builder, name: str, row: int, block_input: str, stride: int, skip: bool) -> None:
    if stride == 1 and skip:
        b.add(f"{name}.add", OpKind.add, Role.add, row, Width("same"), block=name, inputs=(b.last, block_input),
              residual=True)


def _fused_ib(b: _Builder, row: int, *, kernel, exp, in_c, out, stride, act, check, skip):
    """Fused inverted bottleneck (MobileNetV4 Fig. 4; EfficientNetV2's Fused-MBConv): a KxK expansion,
    then a linear 1x1 projection."""
    b.blocks += 1
    name = f"b{b.blocks}"
    block_input = b.last
    b.add(f"{name}.expand", OpKind.conv if kernel > 1 else OpKind.pointwise, Role.expand, row,
          Width("expansion", exp, in_c), kernel=kernel, stride=stride, bn=True, act=act, check=check, block=name)
    b.add(f"{name}.project", OpKind.pointwise, Role.project, row, Width("scaled", out), bn=True, block=name)
    _shortcut(b, name, row, block_input, stride, skip)


def _universal_inverted_bottleneck(b: _Builder, row: int, *, k1, k2, exp, in_c, out, stride, act, check, skip):
    """MobileNetV4's Universal Inverted Bottleneck (arXiv:2404.10518 Fig. 4): an optional depthwise
    (no activation) before the 1x1 expansion, an optional one after it, a linear 1x1 projection. The
    stride sits on the middle depthwise, or on the first when there is no middle one (as in timm's
    UniversalInvertedResidual)."""
    b.blocks += 1
    name = f"b{b.blocks}"
    block_input = b.last
    if k1 is not None:
        b.add(f"{name}.dw_start", OpKind.depthwise, Role.dw_start, row, Width("same"), kernel=k1,
              stride=1 if k2 is not None else stride, bn=True, check=check, block=name)
        check = None
    b.add(f"{name}.expand", OpKind.pointwise, Role.expand, row, Width("expansion", exp, in_c), bn=True, act=act,
          check=check, block=name)
    if k2 is not None:
        b.add(f"{name}.dw", OpKind.depthwise, Role.dw, row, Width("same"), kernel=k2, stride=stride, bn=True,
              act=act, block=name)
    elif k1 is None and stride != 1:
        raise _row_error(b.spec, row, "s", "an FFN block has no depthwise to carry a stride")
    b.add(f"{name}.project", OpKind.pointwise, Role.project, row, Width("scaled", out), bn=True, block=name)
    _layer_scale(b, name, row)
    _shortcut(b, name, row, block_input, stride, skip)


def _layer_scale(b: _Builder, name: str, row: int) -> None:
    if b.spec.layer_scale:
        b.add(f"{name}.layer_scale", OpKind.layer_scale, Role.layer_scale, row, Width("same"), block=name)


def _mobile_mqa(b: _Builder, row: int, *, heads, key_dim, kv_stride, kernel, out, check, skip):
    """Mobile MQA (arXiv:2404.10518 Sec. 3.3, as timm's MobileAttention with MultiQueryAttention2d):
    the block input batch-normed; `heads` query heads of `key_dim` channels (1x1); one shared key head
    and one shared value head of `key_dim` channels (1x1), each after its own strided depthwise
    (kernel `kernel`, no activation) when `kv_stride` > 1; softmax(Q K^T / sqrt(key_dim)) V; a 1x1
    output projection; then the layer scale and the shortcut."""
    b.blocks += 1
    name = f"b{b.blocks}"
    block_input = b.last
    norm = b.add(f"{name}.norm", OpKind.norm, Role.attn_norm, row, Width("same"), bn=True, check=check, block=name)
    query = b.add(f"{name}.query", OpKind.pointwise, Role.query, row, Width("fixed", heads * key_dim), block=name)
    shared = {}
    for part, role in (("key", Role.key), ("value", Role.value)):
        source = norm
        if kv_stride > 1:
            source = b.add(f"{name}.{part}_down", OpKind.depthwise, Role.kv_down, row, Width("same"), kernel=kernel,
                           stride=kv_stride, bn=True, inputs=(norm,), block=name)
        shared[part] = b.add(f"{name}.{part}", OpKind.pointwise, role, row, Width("fixed", key_dim), inputs=(source,),
                             block=name)
    b.add(f"{name}.scores", OpKind.attention_scores, Role.attn_scores, row, Width("attention_map", heads,
          ref=shared["key"]), inputs=(query, shared["key"]), block=name)
    b.add(f"{name}.softmax", OpKind.attention_softmax, Role.attn_softmax, row, Width("same"), block=name)
    b.add(f"{name}.context", OpKind.attention_values, Role.attn_values, row, Width("fixed", heads * key_dim),
          inputs=(b.last, shared["value"]), block=name)
    b.add(f"{name}.output", OpKind.pointwise, Role.attn_output, row, Width("scaled", out), block=name)
    _layer_scale(b, name, row)
    _shortcut(b, name, row, block_input, 1, skip)


def _bottleneck(b: _Builder, row: int, *, kernel, exp, in_c, out, stride, se, act, check, block_output,
                skip=True, dilation=1):
    """Inverted residual with linear bottleneck (MobileNetV2 Fig. 3; MobileNetV3 Fig. 4 with SE;
    MnasNet Fig. 7: SE squeeze from the block input, sigmoid gate, some blocks without shortcut).
    `kernel` is the depthwise kernel's (height, width); `exp` may be a fraction of whole channels
    (t = 2.5 of 25 input channels), which the width rules round."""
    b.blocks += 1
    name = f"b{b.blocks}"
    block_input = b.last
    if exp != in_c:
        exp = Fraction(exp)
        # c/of is the expansion ratio exp/in_c (as written, c = exp and of = in_c when exp is whole)
        c, of = (exp.numerator, in_c) if exp.denominator == 1 else (exp.numerator, in_c * exp.denominator)
        b.add(f"{name}.expand", OpKind.pointwise, Role.expand, row, Width("expansion", c, of), bn=True, act=act,
              check=check, block=name)
        check = None
    b.add(f"{name}.dw", OpKind.depthwise, Role.dw, row, Width("same"), stride=stride, bn=True,
          act=act, check=check, block=name, dilation=dilation, **_kernel_kw(*kernel))
    if se:
        dw = b.last
        b.add(f"{name}.se.pool", OpKind.global_pool, Role.se_pool, row, Width("same"), block=name)
        b.add(f"{name}.se.reduce", OpKind.pointwise, Role.se_reduce, row, Width("squeeze", ref=block_input),
              bias=True, act=_act(b.spec.se_act), block=name)
        b.add(f"{name}.se.expand", OpKind.pointwise, Role.se_expand, row, Width("like", ref=dw), bias=True,
              act=_act(b.spec.se_gate), block=name)
        b.add(f"{name}.se.scale", OpKind.scale, Role.se_scale, row, Width("same"), block=name,
              inputs=(dw, f"{name}.se.expand"))
    b.add(f"{name}.project", OpKind.pointwise, Role.project, row, Width("scaled", out, block_output=block_output),
          bn=True, block=name)
    if stride == 1 and skip:
        # Keras, TF-slim and torchvision add the shortcut whenever stride is 1 and the *rounded*
        # widths agree, which at some alpha happens even where the paper's widths differ.
        b.add(f"{name}.add", OpKind.add, Role.add, row, Width("same"), block=name, inputs=(b.last, block_input),
              residual=True)



_JOINS = {"concat": OpKind.concat, "add": OpKind.add, "multiply": OpKind.multiply, "upsample": OpKind.upsample}
_INPUT_COUNTS = {"conv2d": (1, 1), "dwconv": (1, 1), "pool": (1, 1), "concat": (2, 64), "add": (2, 2), "multiply": (2, 2),
                 "upsample": (1, 2)}


def _decode_head(b: _Builder) -> None:
    """The backbone's layers (by reference to its table), then the head's rows."""
    spec, backbone = b.spec, b.spec.backbone_table
    try:
        base = decode(backbone)
    except MobilecostError as exc:
        if exc.field != "output_stride":
            raise
        raise MobilecostError(exc.message, where=f"{spec.path}:{spec.line_of_backbone}",
                              field="backbone.output_stride") from None
    names = [layer.name for layer in base]
    until = spec.backbone.until
    if until is not None:
        if until not in names:
            raise MobilecostError(f"{backbone.name} has no layer {quoted(until)}; its layers are "
                                  f"{_name_list(names)}", where=f"{spec.path}:{spec.line_of_backbone}",
                                  field="backbone.until")
        base = base[:names.index(until) + 1]
    for layer in base:
        # The backbone's input column was checked when its own table loaded; its classifier keeps its classes.
        width = Width("fixed", backbone.classes) if layer.width.kind == "classes" else layer.width
        b.layers.append(replace(layer, check=None, source=backbone.name, width=width))
    b.last = base[-1].name
    known = {"input", *(layer.name for layer in base)}
    for i, row in enumerate(spec.layers):
        name = row.name or f"h{i + 1}"
        if name in known:
            raise _row_error(spec, i, "name", f"layer name {quoted(name)} is already used"
                             + (f" by the backbone {backbone.name}" if name in names else ""))
        kind = row.operator.split()[0]
        sources = row.sources or (b.last,)
        low, high = _INPUT_COUNTS[kind]
        if not low <= len(sources) <= high:
            wanted = f"{low}" if low == high else f"{low} to {high}"
            raise _row_error(spec, i, "from", f"{kind} reads {wanted} input{'s' if high > 1 else ''}, "
                             f"got {len(sources)}")
        for source in sources:
            if source not in known:
                raise _row_error(spec, i, "from", f"unknown layer {quoted(source)}: a row reads the backbone's "
                                 "layers and the rows above it (so no cycles)")
        act = _act(row.nl)
        if row.dilation != 1 and kind not in ("conv2d", "dwconv"):
            raise _row_error(spec, i, "dilation", f"dilation applies to conv2d and dwconv rows, not {kind}")
        common = dict(inputs=sources, kernel=row.kernel, stride=row.s or 1, bias=row.bias, bn=row.bn, act=act,
                      output=row.output, dilation=row.dilation)
        if kind == "conv2d":
            if row.out is None:
                raise _row_error(spec, i, "out", "a conv2d row needs out")
            per_anchor = spec.classes if row.out == "k" else row.out
            op = OpKind.pointwise if row.kernel == 1 else OpKind.conv
            scaled = spec.head_widths == "scaled" and row.out != "k" and row.anchors == 1
            b.add(name, op, Role.conv, i, Width("scaled" if scaled else "fixed", per_anchor * row.anchors), **common)
        elif kind == "pool":
            if row.out is not None or row.bn or row.bias or row.s not in (None, 1):
                raise _row_error(spec, i, "operator", "a pool row (global average pooling) has no out, bn, bias or s")
            b.add(name, OpKind.global_pool, Role.pool, i, Width("same"), **common)
        elif kind == "dwconv":
            if row.out is not None:
                raise _row_error(spec, i, "out", "a dwconv row keeps its input's width; leave out empty")
            b.add(name, OpKind.depthwise, Role.dw, i, Width("same"), **common)
        else:
            if row.out is not None or row.bn or row.bias or row.kernel != 1:
                raise _row_error(spec, i, "operator", f"a {kind} row has no out, kernel, bn or bias")
            if kind != "upsample" and row.s not in (None, 1):
                raise _row_error(spec, i, "s", f"a {kind} row has no stride")
            if kind == "upsample" and (len(sources) == 2) == (row.s is not None):
                raise _row_error(spec, i, "s", "an upsample row reads a second input whose side it takes, or has "
                                 "a factor s; one of the two")
            width = Width("concat", refs=sources) if kind == "concat" else Width("same")
            b.add(name, _JOINS[kind], Role.join, i, width, **common)
        known.add(name)


def _name_list(names, limit=12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} layers)" if len(names) > limit else "")
