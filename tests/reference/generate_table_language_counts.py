#!/usr/bin/env python3
"""Freeze torchvision's parameter and conv+linear mult-add counts of networks written with the
table language's newer columns (tests/reference/tables/):

* ``mnasnet1_0``: torchvision.models.mnasnet1_0 -- 5x5 depthwise kernels (the v2 format's kernel column);
* ``efficientnet_b0`` / ``efficientnet_b1`` / ``efficientnet_b2``: torchvision.models.efficientnet_b0/b1/b2 --
  SiLU everywhere and inside the squeeze-and-excite block, sigmoid gate, repeats scaled by the depth
  coefficient (B1: depth 1.1; B2: width 1.1, depth 1.2);
* ``mobilenet_v2_t2.5``: torchvision.models.mobilenet_v2 with its documented ``inverted_residual_setting``
  argument holding fractional expansion ratios (2.5, 2.3), whose expanded widths torchvision rounds with
  ``int(round(inp * t))``;
* ``mobilenet_v3_large_dilated``: torchvision.models.mobilenet_v3_large(dilated=True) -- the last stage
  at stride 1 with dilation 2 (output stride 16, the segmentation backbone of torchvision's LR-ASPP
  and DeepLabV3 models).

As generate_reference_counts.py does for the MobileNets: forward hooks on nn.Conv2d and nn.Linear record
the real output tensor of one batch-1 forward pass (eval mode, no_grad, zero input); one MAC is one
multiply-accumulate, out_h * out_w * kh * kw * (cin / groups) * cout for a convolution and
in_features * out_features for a linear layer; bias adds, batch norm, activations, pooling, adds and
multiplies count 0. ``params = sum(p.numel() for p in model.parameters())`` (no buffers).

Usage (a throwaway virtualenv, see README.md):

    /tmp/torchenv/bin/python generate_table_language_counts.py [--out DIR]
"""

import argparse
import json
import os
import platform

HERE = os.path.dirname(os.path.abspath(__file__))

# torchvision.models.mobilenet_v2's own setting with three rows given fractional ratios.
V2_FRACTIONAL_SETTING = [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [2.5, 32, 3, 2],
    [6, 64, 4, 2],
    [2.3, 96, 3, 1],
    [2.5, 160, 3, 2],
    [6, 320, 1, 1],
]

MODELS = [
    # (key, constructor name, kwargs, resolutions)
    ("mnasnet1_0", "mnasnet1_0", {}, [224, 225, 192]),
    ("efficientnet_b0", "efficientnet_b0", {}, [224, 225]),
    ("efficientnet_b1", "efficientnet_b1", {}, [240]),
    ("efficientnet_b2", "efficientnet_b2", {}, [260]),
    ("mobilenet_v2_t2.5", "mobilenet_v2", {"inverted_residual_setting": V2_FRACTIONAL_SETTING}, [224]),
    ("mobilenet_v2_t2.5_0.75", "mobilenet_v2",
     {"inverted_residual_setting": V2_FRACTIONAL_SETTING, "width_mult": 0.75}, [160]),
    ("mobilenet_v3_large_dilated", "mobilenet_v3_large", {"dilated": True}, [224, 225, 512]),
]


def count(model, resolution):
    import torch
    from torch import nn

    records = []

    def hook(module, inputs, output):
        name = names[module]
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            _, cout, oh, ow = output.shape
            macs = oh * ow * kh * kw * (module.in_channels // module.groups) * cout
            records.append({"name": name, "type": "Conv2d", "in_channels": module.in_channels,
                            "out_channels": module.out_channels, "kernel": [kh, kw], "stride": list(module.stride),
                            "dilation": list(module.dilation), "groups": module.groups, "out_shape": list(output.shape),
                            "params": sum(p.numel() for p in module.parameters()), "macs": macs})
        else:
            macs = module.in_features * module.out_features
            records.append({"name": name, "type": "Linear", "in_features": module.in_features,
                            "out_features": module.out_features, "out_shape": list(output.shape),
                            "params": sum(p.numel() for p in module.parameters()), "macs": macs})

    names = {}
    for name, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            names[module] = name
            module.register_forward_hook(hook)
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, resolution, resolution))
    return records


def main():
    import torch
    import torchvision
    from torchvision import models

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=HERE)
    args = parser.parse_args()
    torch.manual_seed(0)
    result = {"generator": "generate_table_language_counts.py",
              "versions": {"python": platform.python_version(), "torch": torch.__version__,
                           "torchvision": torchvision.__version__},
              "models": []}
    for key, constructor, kwargs, resolutions in MODELS:
        model = getattr(models, constructor)(weights=None, num_classes=1000, **kwargs)
        params = sum(p.numel() for p in model.parameters())
        for resolution in resolutions:
            layers = count(model, resolution)
            for module in model.modules():
                module._forward_hooks.clear()
            result["models"].append({
                "model": key, "constructor": f"torchvision.models.{constructor}",
                "kwargs": kwargs, "resolution": resolution, "params": params,
                "macs": sum(r["macs"] for r in layers), "layers": layers,
            })
            print(f"{key:24s} {resolution:4d} params {params:>10,} MACs {result['models'][-1]['macs']:>13,}")
    path = os.path.join(args.out, "torchvision_table_language.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=1)
        handle.write("\n")


if __name__ == "__main__":
    main()
