"""Op records: every op kind has one, with every facet, and the facets agree with hand derivations."""

from dataclasses import fields

import pytest

from mobilecost.count.ops import LATENCY_CLASSES, OP_RECORDS, ExtraReads, OpKind, OpRecord, Shapes, Side, record_of
from mobilecost.measure.onnx_graph import BUILDERS
from mobilecost.spec.layers import Layer, Width
from mobilecost.spec.models import PaddingSpec
from mobilecost.spec.roles import Role

OPTIONAL = {"padding"}  # only ops with a strided window have a padding rule


def test_every_op_kind_has_a_record_with_every_facet():
    assert set(OP_RECORDS) == set(OpKind)
    for kind, record in OP_RECORDS.items():
        assert record.kind is kind
        for facet in fields(OpRecord):
            if facet.name not in OPTIONAL:
                assert getattr(record, facet.name) is not None, (kind, facet.name)
        assert callable(record.count) and callable(record.label)
        assert isinstance(record.side, Side) and isinstance(record.extra_reads, ExtraReads)
        assert record.latency_class in LATENCY_CLASSES
        assert (record.padding is not None) == (record.side is Side.strided), kind
        assert record.padding in (None, *PaddingSpec.model_fields)
        assert record.onnx and all(isinstance(op, str) for op in record.onnx)


def test_every_onnx_operator_a_record_names_has_a_builder():
    named = {op for record in OP_RECORDS.values() for op in record.onnx}
    assert named <= set(BUILDERS)


def test_op_kinds_are_their_strings():
    # Tables, reports and the latency model compare and print ops as plain strings.
    assert OpKind.conv == "conv" and f"{OpKind.global_pool}" == "global_pool"
    assert {"depthwise": 1}[OpKind.depthwise] == 1


def _layer(op, kernel=1, role=Role.conv):
    return Layer(name="x", op=op, row=0, width=Width("same"), kernel=kernel, role=role)


@pytest.mark.parametrize("op,kernel,role,label", [
    # MobileNets Table 2's layer types, and the SE rows of MobileNetV3.
    (OpKind.conv, 3, Role.stem, "Conv 3x3"),
    (OpKind.pointwise, 1, Role.pw, "Conv 1x1"),
    (OpKind.pointwise, 1, Role.se_reduce, "SE 1x1"),
    (OpKind.pointwise, 1, Role.se_expand, "SE 1x1"),
    (OpKind.depthwise, 5, Role.dw, "Conv dw 5x5"),
    (OpKind.fc, 1, Role.classifier, "Fully connected"),
    (OpKind.global_pool, 1, Role.se_pool, "Other"),
    (OpKind.scale, 1, Role.se_scale, "Other"),
    (OpKind.add, 1, Role.add, "Other"),
    (OpKind.softmax, 1, Role.softmax, "Other"),
])
def test_report_labels(op, kernel, role, label):
    assert record_of(_layer(op, kernel, role)).label(_layer(op, kernel, role)) == label


def test_counting_rules_by_hand():
    # A 3x3 convolution 8 -> 16 channels on a 10x10 output: 3*3*8*16 = 1152 weights, 100 * 1152 MACs;
    # depthwise 3x3 on 16 channels: 144 weights, 14400 MACs; fc 1024 -> 1000: 1,024,000 of each.
    s = Shapes(in_side=20, in_ch=8, out_side=10, out_ch=16)
    assert record_of(_layer(OpKind.conv, 3)).count(_layer(OpKind.conv, 3), s) == {"weights": 1152, "macs": 115200}
    dw = Shapes(in_side=20, in_ch=16, out_side=10, out_ch=16)
    assert OP_RECORDS[OpKind.depthwise].count(_layer(OpKind.depthwise, 3), dw) == {"weights": 144, "macs": 14400}
    fc = Shapes(in_side=1, in_ch=1024, out_side=1, out_ch=1000)
    assert OP_RECORDS[OpKind.fc].count(_layer(OpKind.fc), fc) == {"weights": 1_024_000, "macs": 1_024_000}
    # Global pooling adds every input element; a residual add or SE scale one op per output element.
    assert OP_RECORDS[OpKind.global_pool].count(_layer(OpKind.global_pool), Shapes(7, 960, 1, 960)) == {
        "ew_ops": 47040}
    assert OP_RECORDS[OpKind.add].count(_layer(OpKind.add), Shapes(14, 40, 14, 40)) == {"ew_ops": 7840}


def test_sides_latency_classes_and_extra_reads():
    assert {k for k, r in OP_RECORDS.items() if r.side is Side.strided} == {OpKind.conv, OpKind.pointwise,
                                                                            OpKind.depthwise, OpKind.avg_pool}
    assert {k for k, r in OP_RECORDS.items() if r.side is Side.one} == {OpKind.fc, OpKind.global_pool}
    assert OP_RECORDS[OpKind.depthwise].padding == "depthwise" and OP_RECORDS[OpKind.pointwise].padding == "conv"
    assert {k for k, r in OP_RECORDS.items() if r.latency_class == "elementwise"} == {
        OpKind.global_pool, OpKind.avg_pool, OpKind.scale, OpKind.add, OpKind.softmax, OpKind.norm, OpKind.layer_scale,
        OpKind.attention_softmax, OpKind.concat, OpKind.multiply, OpKind.upsample}
    # The attention products are matrix products timed like 1x1 convolutions; they read a key or value head.
    assert {k for k, r in OP_RECORDS.items() if r.extra_reads is ExtraReads.key_value} == {
        OpKind.attention_scores, OpKind.attention_values}
    assert OP_RECORDS[OpKind.attention_scores].latency_class == "pointwise"
    assert OP_RECORDS[OpKind.add].extra_reads is ExtraReads.second_input
    assert OP_RECORDS[OpKind.scale].extra_reads is ExtraReads.channel_gate
    assert OP_RECORDS[OpKind.multiply].extra_reads is ExtraReads.second_input
    assert OP_RECORDS[OpKind.concat].extra_reads is ExtraReads.other_inputs
    assert {k for k, r in OP_RECORDS.items() if r.side is Side.upsampled} == {OpKind.upsample}


def test_attention_and_layer_scale_rules_by_hand():
    # Mobile MQA at 14x14 with 4 heads of key_dim 64 against a 7x7 key head: the scores hold 4 x 49 per
    # query; QK^T = 196 x 4 x 49 x 64 = 2,458,624 MACs (all of them attention MACs), plus 196 x 256
    # query scalings by 1/sqrt(64). Attention x V: the same count with value_dim 64.
    scores = Shapes(in_side=14, in_ch=256, out_side=14, out_ch=196, other_side=7, other_ch=64)
    layer = _layer(OpKind.attention_scores)
    assert OP_RECORDS[OpKind.attention_scores].count(layer, scores) == {
        "macs": 2_458_624, "attn_macs": 2_458_624, "ew_ops": 50_176}
    values = Shapes(in_side=14, in_ch=196, out_side=14, out_ch=256, other_side=7, other_ch=64)
    assert OP_RECORDS[OpKind.attention_values].count(_layer(OpKind.attention_values), values) == {
        "macs": 2_458_624, "attn_macs": 2_458_624}
    # Softmax: one op per score; a layer scale: one parameter per channel, one multiply per element;
    # a lone batch norm has no own work (the engine adds its scale and shift).
    assert OP_RECORDS[OpKind.attention_softmax].count(_layer(OpKind.attention_softmax),
                                                      Shapes(14, 196, 14, 196)) == {"ew_ops": 38_416}
    assert OP_RECORDS[OpKind.layer_scale].count(_layer(OpKind.layer_scale), Shapes(7, 256, 7, 256)) == {
        "weights": 256, "ew_ops": 12_544}
    assert OP_RECORDS[OpKind.norm].count(_layer(OpKind.norm), Shapes(14, 160, 14, 160)) == {}
    assert record_of(layer).label(layer) == "Attention QK^T"


def test_join_counting_rules_by_hand():
    # A concat moves data and computes nothing; a multiply of a 14x14x40 map by a broadcast gate is one
    # product per output element (7840); an upsample to 28x28x40 one interpolation per output element.
    assert OP_RECORDS[OpKind.concat].count(_layer(OpKind.concat), Shapes(14, 40, 14, 120)) == {}
    assert OP_RECORDS[OpKind.multiply].count(_layer(OpKind.multiply), Shapes(14, 40, 14, 40)) == {"ew_ops": 7840}
    assert OP_RECORDS[OpKind.upsample].count(_layer(OpKind.upsample), Shapes(14, 40, 28, 40)) == {"ew_ops": 31360}
    for kind in (OpKind.concat, OpKind.multiply, OpKind.upsample):
        assert record_of(_layer(kind, role=Role.join)).label(_layer(kind, role=Role.join)) == "Other"
