"""Decode a table's rows into primitive layers with stable names.

One decoder per table format, all here (as timm decodes its block strings in one place):

* v1 rows are already layers: ``conv1``, ``b1.dw``, ``b1.pw``, ..., ``pool``, ``classifier``;
* a v2 ``bottleneck`` row with n repeats becomes blocks ``bK.expand``, ``bK.dw``, ``bK.project``
  (+ ``bK.add`` when stride 1 and widths match);
* a v3 ``bneck`` row becomes ``bK.expand``, ``bK.dw``, ``bK.se.{pool,reduce,expand,scale}``,
  ``bK.project`` (+ ``bK.add``);
* a head table is its backbone's layers (decoded as the backbone table, cut after ``until``, names
  kept) followed by one layer per head row, each reading the layers its ``from`` names.

Each layer carries its `Role` in its block (``expand``, ``dw``, ``se.reduce``, ...) and its block's
name, so no reader parses names. A layer's `Width` says what the table gives for its channels; the
table's width policy and the rounding are applied by the width rules (count/widths.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ..count.ops import OpKind
from ..errors import MobilecostError, quoted
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
    kernel: int = 1
    stride: int = 1
    bias: bool = False
    bn: bool = False
    act: str | None = None
    inputs: tuple[str, ...] = ()
    check: tuple[int, int] | None = None  # the paper's input (side, channels) at alpha = rho = 1
    block: str = ""  # the block's name (``b4``); a layer outside any block is its own block
    role: Role = Role.conv  # what the layer does in its block
    residual: bool = False  # an add that exists only where its two inputs have the same width
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
        inputs = kw.pop("inputs", (self.last,))
        block = kw.pop("block", name)
        self.layers.append(Layer(name=name, op=op, role=role, row=row, width=width, inputs=inputs, block=block,
                                 **kw))
        self.last = name
        return name

    def plain_conv_role(self) -> Role:
        """A convolution row outside any block: the stem when it reads the image."""
        return Role.stem if self.last == "input" else Role.conv


ACTIVATIONS = {"RE": "relu", "RE6": "relu6", "HS": "hswish"}


def decode(spec: VariantSpec) -> tuple[Layer, ...]:
    builder = _Builder(spec)
    {"v1": _decode_v1, "v2": _decode_v2, "v3": _decode_v3, "head": _decode_head}[spec.format](builder)
    return tuple(builder.layers)


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

    spec, act = b.spec, b.spec.activation
    pending_dw = False
    for i, row in enumerate(spec.layers):
        check = parse_size(row.input)
        if row.type in ("conv", "conv dw") and not row.filter:
            raise _row_error(spec, i, "filter", f"a '{row.type}' row needs a filter shape")
        if row.type == "conv":
            dims = _dims(row.filter)
            if len(dims) != 4 or dims[0] != dims[1]:
                raise _row_error(spec, i, "filter", "a conv filter is KxKxCinxCout with a square kernel")
            k, _, c_in, c_out = dims
            if pending_dw:
                name, role, block = f"b{b.blocks}.pw", Role.pw, f"b{b.blocks}"
                pending_dw = False
            else:
                name = row.name or (f"conv{i + 1}" if i else "conv1")
                role, block = b.plain_conv_role(), name
            op = OpKind.pointwise if k == 1 else OpKind.conv
            b.add(name, op, role, i, _row_width(row, c_out, c_in), kernel=k, stride=row.s,
                  bn=True, act=act, check=check, block=block)
        elif row.type == "conv dw":
            dims = _dims(row.filter)
            if len(dims) != 3 or dims[0] != dims[1]:
                raise _row_error(spec, i, "filter", "a depthwise filter is KxKxC with a square kernel")
            b.blocks += 1
            pending_dw = True
            b.add(f"b{b.blocks}.dw", OpKind.depthwise, Role.dw, i, Width("same"), kernel=dims[0], stride=row.s,
                  bn=True, act=act, check=check, block=f"b{b.blocks}")
        elif row.type == "avg pool":
            b.add(row.name or "pool", OpKind.global_pool, Role.pool, i, Width("same"), check=check)
        elif row.type == "fc":
            dims = _dims(row.filter or "")
            if len(dims) != 2:
                raise _row_error(spec, i, "filter", "an fc filter is CinxCout")
            b.add(row.name or "classifier", OpKind.fc, Role.classifier, i, Width("classes", dims[1]), bias=True,
                  check=check)
        elif row.type == "softmax":
            b.add(row.name or "softmax", OpKind.softmax, Role.softmax, i, Width("same"), check=check)


def _decode_v2(b: _Builder) -> None:
    from .models import parse_size

    spec, act = b.spec, b.spec.activation
    for i, row in enumerate(spec.layers):
        check = parse_size(row.input)
        op = row.operator
        if op in ("conv2d", "conv2d 3x3", "conv2d 1x1"):
            if row.c is None:
                raise _row_error(spec, i, "c", f"a {op} row needs c")
            k = 1 if op == "conv2d 1x1" else 3
            if row.c == "k":
                b.add(row.name or "classifier", OpKind.fc, Role.classifier, i, Width("classes", spec.classes),
                      bias=True, check=check)
                continue
            name = row.name or ("conv1" if i == 0 else f"conv{i + 1}")
            b.add(name, OpKind.pointwise if k == 1 else OpKind.conv, b.plain_conv_role(), i,
                  _row_width(row, row.c, check[1]), kernel=k, stride=row.s or 1, bn=True, act=act, check=check)
        elif op == "avgpool 7x7":
            b.add(row.name or "pool", OpKind.global_pool, Role.pool, i, Width("same"), check=check)
        elif op == "bottleneck":
            for field_name in ("t", "c", "n", "s"):
                if getattr(row, field_name) in (None, "k"):
                    raise _row_error(spec, i, field_name, f"a bottleneck row needs {field_name}")
            for repeat in range(row.n):
                in_c = check[1] if repeat == 0 else row.c
                _bottleneck(b, i, kernel=3, exp=row.t * in_c, in_c=in_c, out=row.c,
                            stride=row.s if repeat == 0 else 1, se=False, act=act,
                            check=check if repeat == 0 else None, block_output=True)


def _decode_v3(b: _Builder) -> None:
    from .models import parse_size

    spec = b.spec
    for i, row in enumerate(spec.layers):
        check = parse_size(row.input)
        kind, k, nbn = row.parsed
        act = ACTIVATIONS.get(row.nl)
        if kind == "pool":
            b.add(row.name or "pool", OpKind.global_pool, Role.pool, i, Width("same"), check=check)
            continue
        if row.out is None:
            raise _row_error(spec, i, "out", f"a {kind} row needs #out")
        if kind == "conv2d":
            k = k or 3
            if row.out == "k":
                b.add(row.name or "classifier", OpKind.fc if check[0] == 1 else OpKind.pointwise, Role.classifier, i,
                      Width("classes", spec.classes), bias=True, check=check)
                continue
            name = row.name or f"conv{i + 1}"
            op = OpKind.pointwise if k == 1 else OpKind.conv
            if row.se:
                raise _row_error(spec, i, "se", "SE is supported on bneck rows only")
            if not row.skip:
                raise _row_error(spec, i, "skip", "skip applies to bneck rows only")
            b.add(name, op, b.plain_conv_role(), i, _row_width(row, row.out, check[1]), kernel=k,
                  stride=row.s or 1, bias=nbn, bn=not nbn, act=act, check=check)
        else:
            if row.exp is None:
                raise _row_error(spec, i, "exp", "a bneck row needs exp size")
            _bottleneck(b, i, kernel=k, exp=row.exp, in_c=check[1], out=row.out, stride=row.s or 1,
                        se=row.se, act=act, check=check, block_output=False, skip=row.skip)


def _bottleneck(b: _Builder, row: int, *, kernel, exp, in_c, out, stride, se, act, check, block_output,
                skip=True):
    """Inverted residual with linear bottleneck (MobileNetV2 Fig. 3; MobileNetV3 Fig. 4 with SE;
    MnasNet Fig. 7: SE squeeze from the block input, sigmoid gate, some blocks without shortcut)."""
    b.blocks += 1
    name = f"b{b.blocks}"
    block_input = b.last
    if exp != in_c:
        b.add(f"{name}.expand", OpKind.pointwise, Role.expand, row, Width("expansion", exp, in_c), bn=True, act=act,
              check=check, block=name)
        check = None
    b.add(f"{name}.dw", OpKind.depthwise, Role.dw, row, Width("same"), kernel=kernel, stride=stride, bn=True,
          act=act, check=check, block=name)
    if se:
        dw = b.last
        b.add(f"{name}.se.pool", OpKind.global_pool, Role.se_pool, row, Width("same"), block=name)
        b.add(f"{name}.se.reduce", OpKind.pointwise, Role.se_reduce, row, Width("squeeze", ref=block_input),
              bias=True, act="relu", block=name)
        b.add(f"{name}.se.expand", OpKind.pointwise, Role.se_expand, row, Width("like", ref=dw), bias=True,
              act=b.spec.se_gate, block=name)
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
    base = decode(backbone)
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
        act = ACTIVATIONS.get(row.nl)
        common = dict(inputs=sources, kernel=row.kernel, stride=row.s or 1, bias=row.bias, bn=row.bn, act=act,
                      output=row.output)
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
