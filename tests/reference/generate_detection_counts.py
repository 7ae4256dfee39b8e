#!/usr/bin/env python3
"""Freeze parameter and convolution mult-add counts of torchvision's SSDLite on MobileNetV3-Large.

The network is torchvision's own ``ssdlite320_mobilenet_v3_large(weights=None,
weights_backbone=None)``: with no backbone weights torchvision builds the
backbone with ``reduced_tail=True`` (``reduce_tail = weights_backbone is None``
in torchvision/models/detection/ssdlite.py), which is also the architecture of
its published COCO weights (``SSDLite320_MobileNet_V3_Large_Weights.COCO_V1``,
``num_params`` 3,440,060 in the weights' metadata).

Method (as generate_reference_counts.py): forward hooks on every nn.Conv2d and
nn.Linear record the real output tensor of a batch-1 forward pass in eval mode
under no_grad; MACs = out_h * out_w * kh * kw * (cin / groups) * cout; bias
adds, batch norm, activations, anchors, box decoding and non-maximum
suppression count 0.  SSD's transform resizes every image to 320x320, so the
forward pass runs the network itself: ``model.head(list(model.backbone(x).values()))``
on a zero input of (1, 3, R, R); at R = 320 a full ``model([image])`` gives
the same convolution MACs (checked below).

Parameters are split as mobilecost reports them: ``weights`` (conv and linear
kernels), ``biases``, ``bn_affine`` (BatchNorm gamma and beta) and
``bn_stats`` (BatchNorm running mean and variance, buffers, not parameters);
``params`` = weights + biases + bn_affine = sum(p.numel() for p in
model.parameters()).  ``backbone_*`` and ``head_*`` split the same figures at
the boundary mobilecost draws: ``model.backbone.features`` (MobileNetV3 up to
its last convolution) versus ``model.backbone.extra`` plus ``model.head``.

Usage:  /tmp/torchenv/bin/python generate_detection_counts.py
"""

import argparse
import csv
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RESOLUTIONS = [320, 300]
FIELDS = ["variant", "resolution", "params", "weights", "biases", "bn_affine", "bn_stats", "macs",
          "backbone_params", "backbone_macs", "head_params", "head_macs"]


def build():
    from torchvision.models.detection import ssdlite320_mobilenet_v3_large

    model = ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None)
    return model.eval()


def in_backbone(name):
    return name.startswith("backbone.features")


def split_parameters(model, in_backbone=in_backbone):
    """Parameters split as mobilecost's conventions need them, and between backbone and head
    (`in_backbone(module name)`)."""
    from torch import nn

    out = {k: 0 for k in ("weights", "biases", "bn_affine", "bn_stats", "backbone_params", "head_params")}
    for name, mod in model.named_modules():
        own = 0
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            out["weights"] += mod.weight.numel()
            own += mod.weight.numel()
            if mod.bias is not None:
                out["biases"] += mod.bias.numel()
                own += mod.bias.numel()
        elif isinstance(mod, nn.BatchNorm2d):
            out["bn_affine"] += mod.weight.numel() + mod.bias.numel()
            out["bn_stats"] += mod.running_mean.numel() + mod.running_var.numel()
            own += mod.weight.numel() + mod.bias.numel()
        elif not list(mod.children()) and any(True for _ in mod.parameters(recurse=False)):
            raise RuntimeError(f"unexpected module with parameters: {name} {mod}")
        out["backbone_params" if in_backbone(name) else "head_params"] += own
    params = sum(p.numel() for p in model.parameters())
    assert params == out["weights"] + out["biases"] + out["bn_affine"] == out["backbone_params"] + out["head_params"]
    return params, out


def count_macs(model, run):
    from torch import nn

    records = []

    def make_hook(name):
        def hook(mod, inp, out):
            if isinstance(mod, nn.Conv2d):
                kh, kw = mod.kernel_size
                macs = out[0].numel() * (mod.in_channels // mod.groups) * kh * kw
            else:
                macs = mod.in_features * mod.out_features
            records.append({"name": name, "type": type(mod).__name__, "input_shape": list(inp[0].shape),
                            "output_shape": list(out.shape), "groups": getattr(mod, "groups", 1),
                            "params": sum(p.numel() for p in mod.parameters()), "macs": int(macs)})
        return hook

    hooks = [mod.register_forward_hook(make_hook(name)) for name, mod in model.named_modules()
             if isinstance(mod, (nn.Conv2d, nn.Linear))]
    run()
    for h in hooks:
        h.remove()
    return records


def count(model, res):
    import torch

    def network():
        with torch.no_grad():
            model.head(list(model.backbone(torch.zeros(1, 3, res, res)).values()))

    records = count_macs(model, network)
    if res == 320:
        def whole():
            with torch.no_grad():
                model([torch.zeros(3, 320, 320)])
        assert sum(r["macs"] for r in count_macs(model, whole)) == sum(r["macs"] for r in records)
    params, split = split_parameters(model)
    macs = sum(r["macs"] for r in records)
    backbone_macs = sum(r["macs"] for r in records if in_backbone(r["name"]))
    row = {"variant": "ssdlite320_mobilenet_v3_large", "resolution": res, "params": params, **split,
           "macs": macs, "backbone_macs": backbone_macs, "head_macs": macs - backbone_macs}
    return row, records


def main(argv=None):
    import torch
    import torchvision

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=HERE)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    model = build()
    rows, dumps = [], []
    for res in RESOLUTIONS:
        row, records = count(model, res)
        rows.append(row)
        dumps.append({"resolution": res, "layers": records})
        print(row)
    with open(os.path.join(args.out, "torchvision_detection.csv"), "w", newline="") as fh:
        writer = csv.DictWriter(fh, FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: r[k] for k in FIELDS} for r in rows)
    with open(os.path.join(args.out, "torchvision_detection_layers.json"), "w") as fh:
        json.dump({"torch_version": torch.__version__, "torchvision_version": torchvision.__version__,
                   "call": "ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None)",
                   "models": dumps}, fh, indent=1)
        fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
