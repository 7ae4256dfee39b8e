#!/usr/bin/env python3
"""Freeze parameter and convolution mult-add counts of torchvision's MobileNetV3 segmenters.

The networks are torchvision's own ``lraspp_mobilenet_v3_large`` and
``deeplabv3_mobilenet_v3_large``, called with ``weights=None, weights_backbone=None``
and otherwise defaults: 21 classes, the backbone ``mobilenet_v3_large(dilated=True)``
(output stride 16; segmentation builds no reduced tail, unlike detection/ssdlite.py),
and for DeepLabv3 ``aux_loss=None``, so no auxiliary FCN head.  LR-ASPP is also the
network of its published weights (``num_params`` 3,221,538); DeepLabv3's published
weights carry the auxiliary head (``num_params`` 11,029,328), this call does not.
At alpha = 0.75 the builders take no width multiplier, so the script builds the same
networks from their parts: ``_lraspp_mobilenetv3`` / ``_deeplabv3_mobilenetv3(.., aux=False)``
on ``mobilenet_v3_large(weights=None, width_mult=0.75, dilated=True)``, as the builders do at 1.0.
torchvision has no LR-ASPP on MobileNetV3-Small; the script builds ``_lraspp_mobilenetv3`` on
``mobilenet_v3_small(weights=None, width_mult=alpha, dilated=True)``, with and without
``reduced_tail=True``.  At output stride 8 (``..._os8``) torchvision has no builder either; the script
takes ``_mobilenet_v3_conf("mobilenet_v3_large" or "mobilenet_v3_small", width_mult=alpha, dilated=True)``,
sets ``dilation`` on every InvertedResidualConfig after the input is divided by 8 (2 on the stride-16
stage, its first, strided block included, 4 on the stride-32 stage; InvertedResidual then runs them at
stride 1), builds ``MobileNetV3`` from it, and puts the same heads on it with the same builders' parts
(both heads on V3-Large, LR-ASPP on V3-Small).

Method (as generate_detection_counts.py): forward hooks on every nn.Conv2d and
nn.Linear record the real output tensor of a batch-1 eval-mode forward pass under
no_grad of a zero (1, 3, R, R) input through the whole model (``model(x)``);
MACs = out_h * out_w * kh * kw * (cin / groups) * cout (dilation changes the
padding, not the count); bias adds, batch norm, activations, the sigmoid gate, the
element-wise products and sums, and bilinear upsampling count 0.

Parameters are split as mobilecost reports them: ``weights``, ``biases``,
``bn_affine`` (BatchNorm gamma and beta) and ``bn_stats`` (running mean and
variance, buffers); ``params`` = weights + biases + bn_affine =
sum(p.numel() for p in model.parameters()).  ``backbone_*`` is ``model.backbone``
(MobileNetV3-Large's features up to the last convolution the head reads),
``head_*`` is ``model.classifier``.

Usage:  /tmp/torchenv/bin/python generate_segmentation_counts.py
"""

import argparse
import csv
import json
import os
import sys

from generate_detection_counts import count_macs, split_parameters

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIGS = [(1.0, 512), (1.0, 520), (1.0, 224), (0.75, 512)]  # (alpha, resolution)
# torchvision ships no LR-ASPP on V3-Small: its LR-ASPP head on mobilenet_v3_small(dilated=True), as the
# V3-Large builder, and on the reduced tail (the V3 paper's RF2, reduced_tail=True).
MODELS = ["lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_small",
          "lraspp_mobilenet_v3_small_reduced_tail", "lraspp_mobilenet_v3_large_os8",
          "deeplabv3_mobilenet_v3_large_os8", "lraspp_mobilenet_v3_small_os8"]
FIELDS = ["variant", "alpha", "resolution", "params", "weights", "biases", "bn_affine", "bn_stats", "macs",
          "backbone_params", "backbone_macs", "head_params", "head_macs"]


def build(name, alpha):
    from torchvision.models import mobilenet_v3_large, mobilenet_v3_small, segmentation
    from torchvision.models.segmentation.deeplabv3 import _deeplabv3_mobilenetv3
    from torchvision.models.segmentation.lraspp import _lraspp_mobilenetv3

    if name.endswith("_os8"):
        backbone = output_stride_8_backbone("mobilenet_v3_small" if "_small" in name else "mobilenet_v3_large", alpha)
        if name.startswith("lraspp"):
            return _lraspp_mobilenetv3(backbone, 21).eval()
        return _deeplabv3_mobilenetv3(backbone, 21, False).eval()
    if name.startswith("lraspp_mobilenet_v3_small"):
        backbone = mobilenet_v3_small(weights=None, width_mult=alpha, dilated=True,
                                      reduced_tail=name.endswith("_reduced_tail"))
        return _lraspp_mobilenetv3(backbone, 21).eval()
    if alpha == 1.0:
        return getattr(segmentation, name)(weights=None, weights_backbone=None).eval()
    backbone = mobilenet_v3_large(weights=None, width_mult=alpha, dilated=True)
    if name == "lraspp_mobilenet_v3_large":
        return _lraspp_mobilenetv3(backbone, 21).eval()
    return _deeplabv3_mobilenetv3(backbone, 21, False).eval()


# The dilations the blocks after stride 8 take: V3-Large's stride-16 stage has six blocks, V3-Small's five;
# both stride-32 stages have three.
OUTPUT_STRIDE_8_DILATIONS = {"mobilenet_v3_large": [2] * 6 + [4] * 3, "mobilenet_v3_small": [2] * 5 + [4] * 3}


def output_stride_8_backbone(arch, alpha):
    """A MobileNetV3's features at output stride 8: every block after stride 8 dilated, not strided."""
    from torchvision.models.mobilenetv3 import MobileNetV3, _mobilenet_v3_conf

    setting, last_channel = _mobilenet_v3_conf(arch, width_mult=alpha, dilated=True)
    current, rate = 2, 1  # the stem convolution has stride 2
    for cnf in setting:
        if current >= 8:
            rate *= cnf.stride
            cnf.dilation = rate
        else:
            current *= cnf.stride
    assert [c.dilation for c in setting if c.dilation > 1] == OUTPUT_STRIDE_8_DILATIONS[arch], \
        [c.dilation for c in setting]
    return MobileNetV3(setting, last_channel)


def in_backbone(name):
    return name.startswith("backbone.")


def count(name, model, alpha, res):
    import torch

    def network():
        with torch.no_grad():
            out = model(torch.zeros(1, 3, res, res))
        assert list(out) == ["out"] and tuple(out["out"].shape) == (1, 21, res, res), out.keys()

    records = count_macs(model, network)
    params, split = split_parameters(model, in_backbone)
    macs = sum(r["macs"] for r in records)
    backbone_macs = sum(r["macs"] for r in records if in_backbone(r["name"]))
    row = {"variant": name, "alpha": alpha, "resolution": res, "params": params, **split,
           "macs": macs, "backbone_macs": backbone_macs, "head_macs": macs - backbone_macs}
    return row, records


def main(argv=None):
    import torch
    import torchvision

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=HERE)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    rows, dumps = [], []
    for name in MODELS:
        for alpha, res in CONFIGS:
            row, records = count(name, build(name, alpha), alpha, res)
            rows.append(row)
            dumps.append({"variant": name, "alpha": alpha, "resolution": res, "layers": records})
            print(row)
    with open(os.path.join(args.out, "torchvision_segmentation.csv"), "w", newline="") as fh:
        writer = csv.DictWriter(fh, FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: r[k] for k in FIELDS} for r in rows)
    with open(os.path.join(args.out, "torchvision_segmentation_layers.json"), "w") as fh:
        json.dump({"torch_version": torch.__version__, "torchvision_version": torchvision.__version__,
                   "call": "<model>(weights=None, weights_backbone=None); alpha 0.75 from the builders' parts", "models": dumps}, fh, indent=1)
        fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
