"""Decode a table's rows into primitive layers with stable names.

One decoder per table format, all here (as timm decodes its block strings in one place):

* v1 rows are already layers: ``conv1``, ``b1.dw``, ``b1.pw``, ..., ``pool``, ``classifier``;
* a v2 ``bottleneck`` row with n repeats becomes blocks ``bK.expand``, ``bK.dw``, ``bK.project``
  (+ ``bK.add`` when stride 1 and widths match);
* a v3 ``bneck`` row becomes ``bK.expand``, ``bK.dw``, ``bK.se.{pool,reduce,expand,scale}``,
  ``bK.project`` (+ ``bK.add``).

Each layer carries its `Role` in its block (``expand``, ``dw``, ``se.reduce``, ...) and its block's
name, so no reader parses names. A layer's `Width` says what the table gives for its channels; the
table's width policy and the rounding are applied by the width rules (count/widths.py).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING

from ..count.ops import OpKind
from ..errors import MobilecostError
from .roles import Role

if TYPE_CHECKING:  # decoding reads the validated spec; the layer records themselves need neither YAML nor pydantic
    from .models import VariantSpec


# What the engine computes for every layer (expressions in alpha, rho; integers once evaluated).
SHAPE_FIELDS = ("in_side", "in_ch", "out_side", "out_ch")
COST_FIELDS = ("macs", "weights", "biases", "bn_affine", "bn_stats", "act_in", "act_out", "bn_ops", "act_ops", "ew_ops")
FIELDS = SHAPE_FIELDS + COST_FIELDS


@dataclass(frozen=True)
class Width:
    """What the table gives for a layer's output channels.

    kind: ``row`` (a row's own c, of its ``of`` input channels; the policy may name the row
    ``row_name`` fixed, above-one or input-ratio), ``expansion`` (a block's expanded width c of its
    ``of`` input channels), ``scaled`` (round(c*alpha)), ``fixed`` (c), ``above_one`` (c unless
    alpha > 1), ``input_ratio`` (round(input channels * c / of)), ``same`` (= input channels),
    ``classes`` (the classifier's outputs), ``squeeze`` (round(se_ratio * channels) of the SE input,
    or of the block input ``ref`` under ``width.se_of: input``), ``like`` (the width of layer ``ref``).
    """

    kind: str
    c: int = 0
    of: int = 1
    block_output: bool = False  # a V2 block's output, which Keras truncates before make_divisible
    ref: str = ""  # ``like``: the layer whose width this one repeats; ``squeeze``: the block input
    row_name: str = ""  # ``row``: the row's name in the table, as the width policy names it


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


@dataclass
class _Builder:
    spec: VariantSpec
    layers: list[Layer] = field(default_factory=list)
    last: str = "input"
    blocks: int = 0

    def add(self, name, op, role, row, width, **kw) -> str:
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
    {"v1": _decode_v1, "v2": _decode_v2, "v3": _decode_v3}[spec.format](builder)
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

