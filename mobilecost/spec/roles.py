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
    pw = "pw"  # MobileNets V1: the pointwise convolution after a depthwise one
    expand = "expand"  # inverted residual: the 1x1 expansion
    se_pool = "se.pool"  # squeeze-and-excite: global pool of the depthwise output
    se_reduce = "se.reduce"  # squeeze-and-excite: the 1x1 squeeze
    se_expand = "se.expand"  # squeeze-and-excite: the 1x1 excitation (the gate)
    se_scale = "se.scale"  # squeeze-and-excite: depthwise output times the gate
    project = "project"  # inverted residual: the linear 1x1 projection
    add = "add"  # inverted residual: the shortcut add
    pool = "pool"  # the global average pool before the classifier
    classifier = "classifier"
    softmax = "softmax"
    join = "join"  # a head table's concat, multiply or upsample, or an add of two branches


SQUEEZE_EXCITE = frozenset({Role.se_pool, Role.se_reduce, Role.se_expand, Role.se_scale})
