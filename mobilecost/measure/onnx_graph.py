"""Build the network a table describes as an ONNX graph, with random weights.

Nothing here knows an architecture: the graph follows the engine's evaluated layers one by one.
Channels and sides come from `api.evaluate` (the same numbers the cost reports print); kernel,
stride, activation, bias, batch norm and producers come from each `Layer`, and the ONNX operators
a layer becomes from its op's record (`count.ops.OpRecord.onnx`). One builder per ONNX operator
type, in the registry `BUILDERS`; a layer runs the builders of its record's operators in order.

Node and initializer names are the layer names (``b4.se.reduce``, ``b4.se.reduce.weight``,
``b4.dw.bn.mean``, ...); every layer's output tensor is named after the layer, so a graph viewer
such as Netron shows the rows of the cost report.

ONNX operator semantics used (onnx.ai/onnx/operators): Conv weight is (M, C/group, kH, kW) and
``pads`` is [top, left, bottom, right]; HardSigmoid is max(0, min(1, alpha*x + beta)) and
HardSwish is x * HardSigmoid(x) with alpha = 1/6, beta = 1/2 -- the ReLU6(x + 3) / 6 of
MobileNetV3 (arXiv:1905.02244 Sec. 5.2).

onnx is an optional dependency (``pip install mobilecost[measure]``), imported inside functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..count.ops import activation_of, record_of
from ..errors import MobilecostError
from ..spec.layers import network_outputs

OPSET = 17  # HardSwish needs 14; onnxruntime 1.17+ runs opset 17 everywhere
# A graph whose activations need a later opset (GELU's Gelu: 20) declares the lowest that has them.
BN_EPSILON = 1e-3  # Keras BatchNormalization's epsilon in the MobileNet applications
INSTALL_HINT = "this command needs onnx and onnxruntime: pip install 'mobilecost[measure]'"
# Largest network built: its fp32 weights (with biases and batch-norm parameters; ONNX's protobuf
# stops at 2 GiB) and its peak live fp32 activations each at most this, from mobilecost's own counts.
MAX_MODEL_BYTES = 2 * 2**30


def check_model_size(frame) -> None:
    """Refuse, before anything is built, a network whose fp32 weights or peak live activations exceed
    MAX_MODEL_BYTES; `frame` is `api.evaluate`'s table at the configuration (exact counts)."""
    totals = frame.attrs["totals"]
    weights = 4 * (totals["weights"] + totals["biases"] + totals["bn_affine"] + totals["bn_stats"])
    peak = frame.attrs["memory"]["act_peak_bytes"]  # fp32: evaluate's default dtype
    where = f"{frame.attrs['variant']} at alpha {frame.attrs['alpha']:g}, {frame.attrs['resolution']} pixels"
    for what, size in (("weights", weights), ("peak live activations", peak)):
        if size > MAX_MODEL_BYTES:
            raise MobilecostError(f"{where} has {size / 2**30:,.1f} GiB of fp32 {what}; a built network has at "
                                  f"most {MAX_MODEL_BYTES / 2**30:g} GiB of each", field="--alpha/--resolution")


def require_onnx():
    """The onnx module, or one line saying how to install it."""
    try:
        import onnx
    except ImportError:
        raise MobilecostError(INSTALL_HINT) from None
    return onnx


@dataclass
class _Graph:
    """Nodes and initializers being collected, plus the tensor each layer name resolves to."""

    helper: object
    rng: np.random.Generator
    fold_bn: bool
    padding: object  # the table's PaddingSpec under the chosen semantics
    nodes: list = field(default_factory=list)
    initializers: list = field(default_factory=list)
    tensors: dict = field(default_factory=lambda: {"input": "input"})
    shapes: dict = field(default_factory=dict)  # layer name -> (side, channels) of its output
    heads: dict = field(default_factory=dict)  # attention map tensor -> (heads, key positions)

    def constant(self, name: str, values: np.ndarray) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(values, dtype=np.float32), name))
        return name

    def shape(self, name: str, dims) -> str:
        """An int64 constant (a Reshape target); named ``const.*``, so it is not counted as a parameter."""
        from onnx import numpy_helper

        name = f"const.{name}"
        self.initializers.append(numpy_helper.from_array(np.array(dims, dtype=np.int64), name))
        return name

    def relu6_bounds(self) -> list[str]:
        """The Clip bounds (0, 6), one pair shared by every ReLU6 of the graph."""
        if not any(t.name == "relu6.min" for t in self.initializers):
            self.constant("relu6.min", np.array(0.0))
            self.constant("relu6.max", np.array(6.0))
        return ["relu6.min", "relu6.max"]

    def node(self, op: str, inputs: list[str], output: str, name: str, **attrs) -> str:
        self.nodes.append(self.helper.make_node(op, inputs, [output], name=name, **attrs))
        return output

    def source(self, layer, position: int = 0) -> str:
        return self.tensors[layer.inputs[position]]


# -- per-op builders: each returns the name of the layer's output tensor ------------------------

def _pads(g: _Graph, layer, row) -> list[int]:
    """Pads that make ONNX's floor((H + pads - k) / s) + 1 equal the engine's output side, per axis
    (a kh x kw kernel pads its height and width apart): [top, left, bottom, right]."""
    s, h, out = layer.stride, int(row.in_side), int(row.out_side)
    rule = getattr(g.padding, record_of(layer).padding)
    if rule == "valid":
        return [0, 0, 0, 0]
    if s > 1 and rule == "bottom_right":
        # Keras MobileNet: ZeroPadding2D(((0, 1), (0, 1))) then a 'valid' convolution.
        return [0, 0, 1, 1]
    begin, end = [], []
    for k in layer.kernel_span:
        total = max((out - 1) * s + k - h, 0)  # TensorFlow 'SAME': out = ceil(h / s)
        begin.append(total // 2)
        end.append(total - total // 2)
    return begin + end


def _convolution(g: _Graph, layer, row, tensor: str, group: int, weight_shape: tuple) -> str:
    name = layer.name
    fan_in = int(np.prod(weight_shape[1:]))
    weight = g.rng.normal(0.0, np.sqrt(2.0 / fan_in), size=weight_shape)
    bias = g.rng.normal(0.0, 0.01, size=weight_shape[0]) if layer.bias else None
    bn = _batch_norm_values(g, weight_shape[0]) if layer.bn else None
    if bn is not None and g.fold_bn:
        # y = gamma * (conv(x) + b - mean) / sqrt(var + eps) + beta, folded into the conv.
        gamma, beta, mean, var = bn
        factor = gamma / np.sqrt(var + BN_EPSILON)
        weight = weight * factor.reshape(-1, *([1] * (len(weight_shape) - 1)))
        bias = beta + ((bias if bias is not None else 0.0) - mean) * factor
        bn = None
    inputs = [tensor, g.constant(f"{name}.weight", weight)]
    if bias is not None:
        inputs.append(g.constant(f"{name}.bias", bias))
    dilated = {"dilations": [layer.dilation, layer.dilation]} if layer.dilation > 1 else {}
    out = g.node("Conv", inputs, f"{name}.conv" if (bn is not None or layer.act) else name, name,
                 kernel_shape=list(layer.kernel_hw), strides=[layer.stride, layer.stride],
                 pads=_pads(g, layer, row), group=group, **dilated)
    if bn is not None:
        gamma, beta, mean, var = bn
        out = g.node("BatchNormalization",
                     [out, g.constant(f"{name}.bn.scale", gamma), g.constant(f"{name}.bn.bias", beta),
                      g.constant(f"{name}.bn.mean", mean), g.constant(f"{name}.bn.var", var)],
                     f"{name}.bn" if layer.act else name, f"{name}.bn", epsilon=BN_EPSILON)
    return _activation(g, layer, out)


def _batch_norm_values(g: _Graph, channels: int):
    gamma = g.rng.uniform(0.5, 1.5, channels)
    beta = g.rng.normal(0.0, 0.1, channels)
    mean = g.rng.normal(0.0, 0.1, channels)
    var = g.rng.uniform(0.5, 1.5, channels)
    return gamma, beta, mean, var


def _activation(g: _Graph, layer, tensor: str) -> str:
    """The layer's activation, as the operators its record names (count.ops.ACTIVATION_RECORDS)."""
    record, name = activation_of(layer), layer.name
    if record is None:
        return tensor
    node = f"{name}.act"
    if record.name == "relu":
        return g.node("Relu", [tensor], name, node)
    if record.name == "relu6":
        return g.node("Clip", [tensor, *g.relu6_bounds()], name, node)
    if record.name == "hswish":
        return g.node("HardSwish", [tensor], name, node)
    if record.name == "hsigmoid":
        return g.node("HardSigmoid", [tensor], name, node, alpha=1.0 / 6.0, beta=0.5)
    if record.name == "sigmoid":
        return g.node("Sigmoid", [tensor], name, node)
    if record.name == "swish":  # SiLU: x * sigmoid(x)
        gate = g.node("Sigmoid", [tensor], f"{name}.sigmoid", f"{name}.sigmoid")
        return g.node("Mul", [tensor, gate], name, node)
    if record.name == "gelu":
        return g.node("Gelu", [tensor], name, node)
    raise MobilecostError(f"no ONNX activation for {record.name!r}", field=name)


def _build_conv(g, layer, row, tensor):
    """Conv weight is (M, C/group, k, k): the group count that makes it hold the counted weights
    (1 for a dense convolution, C for a depthwise one)."""
    (kh, kw), c_in, c_out = layer.kernel_hw, int(row.in_ch), int(row.out_ch)
    per_group, rest = divmod(int(row.weights), kh * kw * c_out)  # input channels each filter reads
    if rest or per_group == 0 or c_in % per_group or c_out % (c_in // per_group):
        raise MobilecostError(f"{int(row.weights)} weights make no grouped {kh}x{kw} convolution of {c_in} to "
                              f"{c_out} channels", field=layer.name)
    return _convolution(g, layer, row, tensor, c_in // per_group, (c_out, per_group, kh, kw))


def _build_flatten(g, layer, row, tensor):
    return g.node("Flatten", [tensor], f"{layer.name}.flatten", f"{layer.name}.flatten", axis=1)


def _build_gemm(g, layer, row, tensor):
    name, n_in, n_out = layer.name, int(row.in_side) ** 2 * int(row.in_ch), int(row.out_ch)
    inputs = [tensor, g.constant(f"{name}.weight", g.rng.normal(0.0, np.sqrt(1.0 / n_in), (n_out, n_in)))]
    if layer.bias:
        inputs.append(g.constant(f"{name}.bias", np.zeros(n_out)))
    out = g.node("Gemm", inputs, name if not layer.act else f"{name}.gemm", name, transB=1)
    return _activation(g, layer, out)


def _build_global_average_pool(g, layer, row, tensor):
    return g.node("GlobalAveragePool", [tensor], layer.name, layer.name)


def _build_average_pool(g, layer, row, tensor):
    """A windowed average; padded elements are left out of the mean (TensorFlow's 'SAME' pooling)."""
    return g.node("AveragePool", [tensor], layer.name, layer.name, kernel_shape=list(layer.kernel_hw),
                  strides=[layer.stride, layer.stride], pads=_pads(g, layer, row), count_include_pad=0)


def _build_mul(g, layer, row, tensor):
    """A tensor times its second input (an SE gate), or, for a layer of one input, times a learned
    per-channel scale (a layer scale)."""
    if len(layer.inputs) == 1:
        gamma = g.constant(f"{layer.name}.gamma", g.rng.uniform(0.5, 1.5, (int(row.out_ch), 1, 1)))
        return g.node("Mul", [tensor, gamma], layer.name, layer.name)
    return g.node("Mul", [tensor, g.source(layer, 1)], layer.name, layer.name)


def _build_batch_norm(g, layer, row, tensor):
    """A batch norm on its own (nothing before it to fold it into, so kept even with fold_bn)."""
    name = layer.name
    gamma, beta, mean, var = _batch_norm_values(g, int(row.out_ch))
    return g.node("BatchNormalization",
                  [tensor, g.constant(f"{name}.bn.scale", gamma), g.constant(f"{name}.bn.bias", beta),
                   g.constant(f"{name}.bn.mean", mean), g.constant(f"{name}.bn.var", var)],
                  name, f"{name}.bn", epsilon=BN_EPSILON)


def _heads_last(g, name: str, tensor: str, heads: int, channels: int, positions: int) -> str:
    """(1, heads x channels, H, W) -> (1, heads, H*W, channels)."""
    grouped = g.node("Reshape", [tensor, g.shape(f"{name}.grouped", [1, heads, channels, positions])],
                     f"{name}.grouped", f"{name}.grouped")
    return g.node("Transpose", [grouped], f"{name}.by_position", f"{name}.by_position", perm=[0, 1, 3, 2])


def _as_map(g, name: str, tensor: str, channels: int, side: int) -> str:
    """(1, heads, H*W, c) -> (1, heads x c, H, W): the layer's output, shaped as the engine counts it."""
    back = g.node("Transpose", [tensor], f"{name}.by_channel", f"{name}.by_channel", perm=[0, 1, 3, 2])
    return g.node("Reshape", [back, g.shape(name, [1, channels, side, side])], name, name)


def _build_matmul(g, layer, row, tensor):
    """Mobile MQA's two products, on the engine's layout of an attention map: (1, heads x keys, H, W).

    QK^T: queries (1, heads x d, H, W), scaled by 1/sqrt(d), times the one key head (1, d, Hk, Wk);
    attention x V: the softmaxed map times the one value head (1, dv, Hk, Wk)."""
    from ..count.ops import OpKind

    name, side, positions = layer.name, int(row.out_side), int(row.out_side) ** 2
    other_side, other_ch = g.shapes[layer.inputs[1]]
    keys = other_side**2
    shared = g.node("Reshape", [g.source(layer, 1), g.shape(f"{name}.shared", [1, 1, other_ch, keys])],
                    f"{name}.shared", f"{name}.shared")
    if layer.op == OpKind.attention_scores:
        heads = int(row.out_ch) // keys
        queries = _heads_last(g, name, tensor, heads, other_ch, positions)
        scale = g.constant(f"const.{name}.scale", np.array(1.0 / np.sqrt(other_ch)))
        scaled = g.node("Mul", [queries, scale], f"{name}.scaled", f"{name}.scaled")
        product = g.node("MatMul", [scaled, shared], f"{name}.matmul", f"{name}.matmul")
        g.heads[name] = (heads, keys)
        return _as_map(g, name, product, int(row.out_ch), side)
    heads, keys = g.heads[layer.inputs[0]]
    weights = _heads_last(g, name, tensor, heads, keys, positions)
    values = g.node("Transpose", [shared], f"{name}.values", f"{name}.values", perm=[0, 1, 3, 2])
    product = g.node("MatMul", [weights, values], f"{name}.matmul", f"{name}.matmul")
    return _as_map(g, name, product, int(row.out_ch), side)


def _build_add(g, layer, row, tensor):
    return g.node("Add", [tensor, g.source(layer, 1)], layer.name, layer.name)


def _build_softmax(g, layer, row, tensor):
    """Softmax over the classes, or over the keys of each head of an attention map."""
    if layer.inputs[0] not in g.heads:
        return g.node("Softmax", [tensor], layer.name, layer.name, axis=-1)
    name, side = layer.name, int(row.out_side)
    heads, keys = g.heads[name] = g.heads[layer.inputs[0]]
    grouped = g.node("Reshape", [tensor, g.shape(f"{name}.grouped", [1, heads, keys, side * side])],
                     f"{name}.grouped", f"{name}.grouped")
    weights = g.node("Softmax", [grouped], f"{name}.softmax", f"{name}.softmax", axis=2)
    return g.node("Reshape", [weights, g.shape(name, [1, heads * keys, side, side])], name, name)


def _build_concat(g, layer, row, tensor):
    others = [g.source(layer, i) for i in range(1, len(layer.inputs))]
    return g.node("Concat", [tensor, *others], layer.name, layer.name, axis=1)


def _build_resize(g, layer, row, tensor):
    """Nearest-neighbour resize to the engine's output side (ONNX Resize with ``sizes``)."""
    from onnx import numpy_helper

    side, channels = int(row.out_side), int(row.out_ch)
    shape = numpy_helper.from_array(np.array([1, channels, side, side], dtype=np.int64), f"{layer.name}.sizes")
    sizes = g.node("Constant", [], f"{layer.name}.sizes", f"{layer.name}.sizes", value=shape)  # not a parameter
    return g.node("Resize", [tensor, "", "", sizes], layer.name, layer.name, mode="nearest")


BUILDERS = {  # ONNX operator type -> builder(graph, layer, evaluated row, input tensor) -> output tensor
    "Conv": _build_conv,
    "Flatten": _build_flatten,
    "Gemm": _build_gemm,
    "GlobalAveragePool": _build_global_average_pool,
    "AveragePool": _build_average_pool,
    "Mul": _build_mul,
    "Add": _build_add,
    "Softmax": _build_softmax,
    "BatchNormalization": _build_batch_norm,
    "MatMul": _build_matmul,
    "Concat": _build_concat,
    "Resize": _build_resize,
}


# -- the whole network ---------------------------------------------------------------------------

def build_model(variant, alpha=1.0, resolution=None, rho=None, semantics=None, seed=0, fold_bn=False):
    """An onnx ModelProto of the table's network at (alpha, resolution), batch 1, NCHW float32."""
    onnx = require_onnx()
    from onnx import TensorProto, helper

    from ..api import evaluate
    from ..numeric.checked import costs_for

    frame = evaluate(variant, alpha, rho, resolution, "exact", semantics)
    if "width" in frame.attrs:
        raise MobilecostError(f"the ONNX export builds square inputs only; {frame.attrs['height']}x{frame.attrs['width']} "
                              "is rectangular (report, sweep, memory and latency count it)", field="--resolution")
    check_model_size(frame)
    costs = costs_for(variant, "exact", semantics)
    spec = costs.spec.with_semantics(costs.semantics)
    layers = {lc.layer.name: lc.layer for lc in costs.layers}
    g = _Graph(helper, np.random.default_rng(seed), fold_bn, spec.padding)
    rows = {row.name: row for row in frame.itertuples(index=False)}
    g.shapes = {name: (int(row.out_side), int(row.out_ch)) for name, row in rows.items()}
    for lc in costs.layers:
        layer = lc.layer
        if layer.name not in rows:  # a shortcut add the rounded widths rule out: its input passes on
            g.tensors[layer.name] = g.source(layer)
            continue
        tensor = g.source(layer)
        for operator in record_of(layer).onnx:
            try:
                builder = BUILDERS[operator]
            except KeyError:
                raise MobilecostError(f"no ONNX builder for operator {operator!r}", field=layer.name) from None
            tensor = builder(g, layer, rows[layer.name], tensor)
        g.tensors[layer.name] = tensor

    side, channels = int(frame.attrs["resolution"]), spec.input.channels
    outputs = [rows[name] for name in network_outputs([lc.layer for lc in costs.layers])]
    if len(outputs) == 1 and _is_flat(frame, layers):
        shapes = [[1, int(outputs[0].out_ch)]]
    else:  # feature maps: a classifier's 1x1 logits, a head table's outputs (a segmenter's at full side)
        shapes = [[1, int(row.out_ch), int(row.out_side), int(row.out_side)] for row in outputs]
    graph = helper.make_graph(
        g.nodes, f"{spec.name}_{_alpha_text(alpha)}_{side}",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, channels, side, side])],
        [helper.make_tensor_value_info(g.tensors[row.name], TensorProto.FLOAT, shape)
         for row, shape in zip(outputs, shapes)],
        g.initializers,
    )
    opset = max([OPSET, *(activation_of(lc.layer).opset for lc in costs.layers if lc.layer.act)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="mobilecost", doc_string=_doc(frame, seed, fold_bn))
    model.ir_version = min(model.ir_version, 8)  # readable by onnxruntime releases back to 1.10
    onnx.checker.check_model(model, full_check=True)
    return model


def _is_flat(frame, layers) -> bool:
    """Whether the output is (1, C): after a Flatten nothing returns to 4-D."""
    return any("Flatten" in record_of(layers[name]).onnx for name in frame["name"])


def _alpha_text(alpha) -> str:
    return f"{float(alpha):g}".replace(".", "_")


def _doc(frame, seed, fold_bn) -> str:
    a = frame.attrs
    return (f"{a['title']} alpha={a['alpha']:g} resolution={a['resolution']} semantics={a['semantics']}; "
            f"random weights, seed {seed}; batch norm {'folded into the convolutions' if fold_bn else 'kept'}")


def parameter_count(model) -> int:
    """Elements of the trainable and statistics initializers (activation bounds, reshape targets and
    attention's 1/sqrt(d) constants, all named ``const.*``, excluded)."""
    return sum(int(np.prod(t.dims)) for t in model.graph.initializer
               if t.name not in ("relu6.min", "relu6.max") and not t.name.startswith("const."))


def layer_shapes(model) -> dict[str, tuple[int, ...]]:
    """Every tensor's shape after ONNX shape inference, by tensor name."""
    onnx = require_onnx()
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    shapes = {}
    for info in [*inferred.graph.value_info, *inferred.graph.output]:
        shapes[info.name] = tuple(d.dim_value for d in info.type.tensor_type.shape.dim)
    return shapes


def save_model(model, path: str) -> None:
    """Serialise and write atomically."""
    from ..outputs.files import write_atomic

    write_atomic(path, model.SerializeToString())
