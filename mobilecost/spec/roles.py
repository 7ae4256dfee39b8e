"""What a layer does in its block (or in the network), as the decoders name it.

Readers ask a layer's `role` instead of parsing its name (``b4.se.reduce`` -> ``se.reduce``).
A `StrEnum`, so a role prints, compares and serialises as its plain string.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    stem = "stem"  # the first convolution, on the image
    conv = "conv"  # any other plain convolution row (e.g. the 1x1 convolutions of the head)
    dw = "dw"  # the depthwise convolution of a separable pair or of an inverted residual block
    dw_start = "dw.start"  # MobileNetV4 Universal Inverted Bottleneck: the depthwise before the expansion
    pw = "pw"  # MobileNets V1: the pointwise convolution after a depthwise one
    expand = "expand"  # inverted residual: the 1x1 expansion
    se_pool = "se.pool"  # squeeze-and-excite: global pool of the depthwise output
    se_reduce = "se.reduce"  # squeeze-and-excite: the 1x1 squeeze
    se_expand = "se.expand"  # squeeze-and-excite: the 1x1 excitation (the gate)
    se_scale = "se.scale"  # squeeze-and-excite: depthwise output times the gate
    project = "project"  # inverted residual: the linear 1x1 projection
    add = "add"  # inverted residual: the shortcut add
    layer_scale = "layer_scale"  # MobileNetV4 hybrid blocks: a learned per-channel scale before the shortcut
    attn_norm = "attn.norm"  # Mobile MQA: the batch norm of the block input
    query = "attn.query"  # Mobile MQA: the 1x1 query projection (heads x key_dim)
    kv_down = "attn.kv_down"  # Mobile MQA: the strided depthwise that downsamples keys or values
    key = "attn.key"  # Mobile MQA: the 1x1 projection to the one shared key head
    value = "attn.value"  # Mobile MQA: the 1x1 projection to the one shared value head
    attn_scores = "attn.scores"  # Mobile MQA: Q K^T
    attn_softmax = "attn.softmax"  # Mobile MQA: softmax over the keys
    attn_values = "attn.context"  # Mobile MQA: attention weights x V
    attn_output = "attn.output"  # Mobile MQA: the 1x1 output projection
    pool = "pool"  # the global average pool before the classifier
    classifier = "classifier"
    softmax = "softmax"
    join = "join"  # a head table's concat, multiply or upsample, or an add of two branches


SQUEEZE_EXCITE = frozenset({Role.se_pool, Role.se_reduce, Role.se_expand, Role.se_scale})
