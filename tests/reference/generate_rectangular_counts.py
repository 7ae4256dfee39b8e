#!/usr/bin/env python3
"""Freeze torchvision's conv+linear mult-add counts of MobileNets at rectangular inputs
(height x width): ``torchvision.models.mobilenet_v2`` and ``mobilenet_v3_large`` (weights=None,
width_mult 1.0 and 0.75) at 240x320 and 320x240, and at a few odd rectangles where 'same' padding's
ceil(H/s) differs per axis; with ``keras``, Keras 3 ``keras.applications.MobileNet`` (V1, weights=None,
input_shape=(H, W, 3)) at the same rectangles, whose stride-2 'valid' convolutions after
ZeroPadding2D(((0, 1), (0, 1))) size each axis on its own (keras_rectangular.csv).

Counting as in generate_reference_counts.py: forward hooks on nn.Conv2d and nn.Linear record the
real output tensor of one batch-1 forward pass (eval mode, no_grad, zero input of shape
1 x 3 x height x width); one MAC is out_h * out_w * kh * kw * (cin / groups) * cout for a convolution
and in_features * out_features for a linear layer. ``params = sum(p.numel() for p in model.parameters())``.

Keras: Conv2D and DepthwiseConv2D MACs = out_h * out_w * kh * kw * (cin / groups) * cout (resp.
* cin * depth_multiplier) from each layer's real output shape; Dense in * out; ``params =
model.count_params()``.

Usage (throwaway virtualenvs, see README.md):

    /tmp/torchenv/bin/python generate_rectangular_counts.py [--out DIR]
    KERAS_BACKEND=numpy /tmp/kerasenv/bin/python generate_rectangular_counts.py keras [--out DIR]
"""

import argparse
import csv
import os
import platform
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

MODELS = ["mobilenet_v2", "mobilenet_v3_large"]
ALPHAS = [1.0, 0.75]
SHAPES = [(240, 320), (320, 240), (97, 225), (512, 1024)]


def count(model, height, width):
    import torch
    from torch import nn

    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            _, cout, oh, ow = output.shape
            total += oh * ow * kh * kw * (module.in_channels // module.groups) * cout
        else:
            total += module.in_features * module.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, height, width))
    for handle in handles:
        handle.remove()
    return total


def keras_main(out_dir):
    import keras
    from keras import layers

    path = os.path.join(out_dir, "keras_rectangular.csv")
    with open(path, "w", newline="", encoding="utf-8") as handle:
        handle.write(f"# generate_rectangular_counts.py keras; python {platform.python_version()}, keras {keras.__version__}, "
                     f"backend {keras.backend.backend()}\n")
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(["variant", "alpha", "height", "width", "params", "macs"])
        for alpha in ALPHAS:
            for height, width in SHAPES:
                keras.backend.clear_session()
                model = keras.applications.MobileNet(weights=None, include_top=True, classes=1000,
                                                     input_shape=(height, width, 3), alpha=alpha)
                macs = 0
                for layer in model.layers:
                    if isinstance(layer, (layers.Conv2D, layers.DepthwiseConv2D)):
                        _, oh, ow, oc = layer.output.shape
                        cin = layer.input.shape[-1]
                        kh, kw = layer.kernel_size
                        if isinstance(layer, layers.DepthwiseConv2D):
                            macs += oh * ow * kh * kw * cin * layer.depth_multiplier
                        else:
                            macs += oh * ow * kh * kw * (cin // layer.groups) * oc
                    elif isinstance(layer, layers.Dense):
                        macs += layer.input.shape[-1] * layer.units
                params = int(model.count_params())
                out.writerow(["mobilenet_v1", alpha, height, width, params, int(macs)])
                print("mobilenet_v1", alpha, height, width, params, macs)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "keras":
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("framework")
        parser.add_argument("--out", default=HERE)
        keras_main(parser.parse_args().out)
        return
    import torch
    import torchvision
    from torchvision import models

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=HERE)
    args = parser.parse_args()
    path = os.path.join(args.out, "torchvision_rectangular.csv")
    with open(path, "w", newline="", encoding="utf-8") as handle:
        handle.write(f"# generate_rectangular_counts.py; python {platform.python_version()}, torch {torch.__version__}, "
                     f"torchvision {torchvision.__version__}\n")
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(["variant", "alpha", "height", "width", "params", "macs"])
        for name in MODELS:
            for alpha in ALPHAS:
                model = getattr(models, name)(weights=None, width_mult=alpha)
                params = sum(p.numel() for p in model.parameters())
                for height, width in SHAPES:
                    macs = count(model, height, width)
                    out.writerow([name, alpha, height, width, params, macs])
                    print(name, alpha, height, width, params, macs)


if __name__ == "__main__":
    main()
