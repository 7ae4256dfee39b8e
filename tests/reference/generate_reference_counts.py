#!/usr/bin/env python3
"""Freeze reference parameter / mult-add counts of the MobileNet family.

The figures come from the reference implementations themselves:

* ``keras``:       keras.applications.MobileNet / MobileNetV2 /
                   MobileNetV3Large / MobileNetV3Small (Keras 3, weights=None)
* ``torchvision``: torchvision.models.mobilenet_v2 / mobilenet_v3_large /
                   mobilenet_v3_small (weights=None)

Nothing here re-derives an architecture.  Mult-adds are counted by walking
the framework's own layer / module objects and reading the shapes the
framework itself produced:

* Keras: every layer of the built functional model is visited through its
  inbound nodes; the symbolic input/output tensors of each call give the
  shapes.
* torchvision: forward hooks on ``nn.Conv2d`` and ``nn.Linear`` record the
  real output tensor of a batch-1 forward pass in eval mode.

Counting rules (one multiply-accumulate = one MAC, bias adds not counted):

* convolution (incl. 1x1, squeeze-excite 1x1 and head convs):
      out_h * out_w * kh * kw * (cin / groups) * cout
* depthwise convolution (Keras DepthwiseConv2D):
      out_h * out_w * kh * kw * cin * depth_multiplier
* dense / linear: in_features * units
* BatchNorm, activations, pooling, Rescaling, Add, Multiply: 0 MACs.

Usage (each part needs its own virtualenv, see README.md):

    KERAS_BACKEND=numpy /tmp/kerasenv/bin/python generate_reference_counts.py keras
    /tmp/torchenv/bin/python generate_reference_counts.py torchvision

Outputs are written next to this file unless ``--out DIR`` is given.
"""

import argparse
import csv
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# --------------------------------------------------------------------------
# Grids
# --------------------------------------------------------------------------

KERAS_ALPHAS = {
    "mobilenet_v1": [0.25, 0.5, 0.75, 1.0],
    "mobilenet_v2": [0.35, 0.5, 0.75, 1.0, 1.3, 1.4],
    "mobilenet_v3_large": [0.35, 0.5, 0.75, 1.0, 1.25],
    "mobilenet_v3_small": [0.35, 0.5, 0.75, 1.0, 1.25],
}
KERAS_RESOLUTIONS = [
    32, 33, 64, 96, 97, 113, 127, 128, 150, 160, 192, 199, 224, 225, 250,
    256, 321,
]
KERAS_LAYER_DUMPS = [
    ("mobilenet_v1", 1.0, 224),
    ("mobilenet_v2", 1.0, 224),
    ("mobilenet_v3_large", 1.0, 224),
    ("mobilenet_v3_small", 1.0, 224),
    ("mobilenet_v1", 0.75, 127),
    ("mobilenet_v2", 0.35, 97),
]

TORCH_ALPHAS = {
    "mobilenet_v2": [0.35, 0.5, 0.75, 1.0, 1.25, 1.4],
    "mobilenet_v3_large": [0.5, 0.75, 1.0, 1.25],
    "mobilenet_v3_small": [0.5, 0.75, 1.0, 1.25],
}
TORCH_RESOLUTIONS = [128, 160, 224, 225]
TORCH_LAYER_DUMPS = [
    ("mobilenet_v3_large", 0.75, 224),
    ("mobilenet_v3_small", 0.75, 224),
]


def _write_csv(path, header, rows):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow([r[h] for h in header])
    print("wrote", path, len(rows), "rows")


def _write_json(path, obj):
    with open(path, "w") as fh:
        json.dump(obj, fh, indent=1)
        fh.write("\n")
    print("wrote", path)


def _prod(xs):
    p = 1
    for x in xs:
        p *= int(x)
    return p


# --------------------------------------------------------------------------
# Keras
# --------------------------------------------------------------------------

def _keras_builder(variant):
    import keras

    return {
        "mobilenet_v1": keras.applications.MobileNet,
        "mobilenet_v2": keras.applications.MobileNetV2,
        "mobilenet_v3_large": keras.applications.MobileNetV3Large,
        "mobilenet_v3_small": keras.applications.MobileNetV3Small,
    }[variant]


def _keras_build(variant, alpha, res):
    import keras

    keras.backend.clear_session()
    return _keras_builder(variant)(
        weights=None,
        include_top=True,
        classes=1000,
        input_shape=(res, res, 3),
        alpha=alpha,
    )


def _shape(t):
    return [None if d is None else int(d) for d in t.shape]


def _keras_layer_records(model):
    """One record per call of every layer (each layer is called once here)."""
    from keras import layers

    records = []
    for layer in model.layers:
        nodes = [n for n in layer._inbound_nodes]
        if isinstance(layer, layers.InputLayer):
            continue
        if len(nodes) != 1:
            raise RuntimeError(
                f"layer {layer.name} has {len(nodes)} calls; expected 1")
        node = nodes[0]
        ins = list(node.input_tensors)
        outs = list(node.output_tensors)
        params = int(layer.count_params())
        rec = {
            "name": layer.name,
            "class": type(layer).__name__,
            "input_shape": [_shape(t) for t in ins] if len(ins) > 1
            else _shape(ins[0]),
            "output_shape": _shape(outs[0]),
            "params": params,
            "macs": 0,
            "kind": None,
        }
        # DepthwiseConv2D is not a subclass of Conv2D in Keras 3, but test
        # it first in case a future version makes it one.
        if isinstance(layer, layers.DepthwiseConv2D):
            _, oh, ow, oc = _shape(outs[0])
            cin = _shape(ins[0])[-1]
            kh, kw = layer.kernel_size
            dm = int(layer.depth_multiplier)
            assert oc == cin * dm
            rec.update(
                kind="depthwise",
                kernel_size=[int(kh), int(kw)],
                strides=[int(s) for s in layer.strides],
                padding=layer.padding,
                depth_multiplier=dm,
                use_bias=bool(layer.use_bias),
                macs=oh * ow * kh * kw * cin * dm,
            )
        elif isinstance(layer, layers.Conv2D):
            _, oh, ow, oc = _shape(outs[0])
            cin = _shape(ins[0])[-1]
            kh, kw = layer.kernel_size
            g = int(layer.groups)
            assert cin % g == 0 and oc == layer.filters
            rec.update(
                kind="conv",
                kernel_size=[int(kh), int(kw)],
                strides=[int(s) for s in layer.strides],
                padding=layer.padding,
                groups=g,
                filters=int(layer.filters),
                use_bias=bool(layer.use_bias),
                macs=oh * ow * kh * kw * (cin // g) * oc,
            )
        elif isinstance(layer, layers.Dense):
            in_shape = _shape(ins[0])
            if len(in_shape) != 2:
                raise RuntimeError(f"Dense {layer.name} input {in_shape}")
            rec.update(
                kind="dense",
                units=int(layer.units),
                use_bias=bool(layer.use_bias),
                macs=in_shape[-1] * int(layer.units),
            )
        elif isinstance(layer, layers.BatchNormalization):
            rec.update(kind="batchnorm")
        elif params:
            raise RuntimeError(
                f"unexpected layer with weights: {layer.name} "
                f"({type(layer).__name__})")
        records.append(rec)
    return records


def _keras_summary(model, records):
    tot = {"conv": 0, "depthwise": 0, "dense": 0}
    for r in records:
        if r["kind"] in tot:
            tot[r["kind"]] += r["macs"]
    trainable = sum(_prod(w.shape) for w in model.trainable_weights)
    total = int(model.count_params())
    assert total == sum(r["params"] for r in records)
    return {
        "total_params": total,
        "trainable_params": trainable,
        "macs": sum(tot.values()),
        "macs_conv": tot["conv"],
        "macs_depthwise": tot["depthwise"],
        "macs_dense": tot["dense"],
    }


def run_keras(out):
    import keras

    rows, refused = [], []
    for variant, alphas in KERAS_ALPHAS.items():
        for alpha in alphas:
            for res in KERAS_RESOLUTIONS:
                try:
                    model = _keras_build(variant, alpha, res)
                except Exception as exc:  # refused by keras
                    msg = f"{type(exc).__name__}: {exc}".splitlines()[0]
                    refused.append({"variant": variant, "alpha": alpha,
                                    "resolution": res, "error": msg})
                    print("REFUSED", variant, alpha, res, msg)
                    continue
                s = _keras_summary(model, _keras_layer_records(model))
                rows.append(dict(variant=variant, alpha=alpha,
                                 resolution=res, **s))
                print(variant, alpha, res, s["total_params"], s["macs"])
    _write_csv(os.path.join(out, "keras_applications.csv"),
               ["variant", "alpha", "resolution", "total_params",
                "trainable_params", "macs", "macs_conv", "macs_depthwise",
                "macs_dense"], rows)
    print("refused grid points:", len(refused))
    for r in refused:
        print("  REFUSED {variant} alpha={alpha} res={resolution}: {error}"
              .format(**r))

    dumps = []
    for variant, alpha, res in KERAS_LAYER_DUMPS:
        model = _keras_build(variant, alpha, res)
        recs = _keras_layer_records(model)
        dumps.append({"variant": variant, "alpha": alpha, "resolution": res,
                      "keras_model_name": model.name,
                      "summary": _keras_summary(model, recs),
                      "layers": recs})
    _write_json(os.path.join(out, "keras_layers_1.0_224.json"),
                {"keras_version": keras.__version__,
                 "keras_backend": keras.backend.backend(),
                 "models": dumps})


# --------------------------------------------------------------------------
# torchvision
# --------------------------------------------------------------------------

def _tv_build(variant, alpha):
    import torchvision

    fn = getattr(torchvision.models, variant)
    model = fn(weights=None, num_classes=1000, width_mult=alpha)
    model.eval()
    return model


def _tv_count(model, res):
    import torch
    from torch import nn

    records = []
    hooks = []

    def make_hook(name):
        def hook(mod, inp, out):
            n = int(out.shape[0])
            assert n == 1
            per_sample = out.numel() // n
            if isinstance(mod, nn.Conv2d):
                kh, kw = mod.kernel_size
                macs = per_sample * (mod.in_channels // mod.groups) * kh * kw
                rec = {
                    "name": name, "type": "Conv2d",
                    "in_channels": mod.in_channels,
                    "out_channels": mod.out_channels,
                    "kernel_size": [kh, kw],
                    "stride": list(mod.stride),
                    "padding": list(mod.padding),
                    "groups": mod.groups,
                    "bias": mod.bias is not None,
                }
            else:
                macs = mod.in_features * mod.out_features
                rec = {
                    "name": name, "type": "Linear",
                    "in_features": mod.in_features,
                    "out_features": mod.out_features,
                    "bias": mod.bias is not None,
                }
            rec["input_shape"] = list(inp[0].shape)
            rec["output_shape"] = list(out.shape)
            rec["params"] = sum(p.numel() for p in mod.parameters())
            rec["macs"] = int(macs)
            records.append(rec)
        return hook

    def bn_hook(name):
        def hook(mod, inp, out):
            records.append({
                "name": name, "type": type(mod).__name__,
                "num_features": mod.num_features,
                "output_shape": list(out.shape),
                "params": sum(p.numel() for p in mod.parameters()),
                "macs": 0,
            })
        return hook

    for name, mod in model.named_modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            hooks.append(mod.register_forward_hook(make_hook(name)))
        elif isinstance(mod, nn.BatchNorm2d):
            hooks.append(mod.register_forward_hook(bn_hook(name)))
        elif (not list(mod.children())
              and any(True for _ in mod.parameters(recurse=False))):
            raise RuntimeError(f"unexpected module with params: {name} {mod}")
    with torch.no_grad():
        model(torch.zeros(1, 3, res, res))
    for h in hooks:
        h.remove()
    params = sum(p.numel() for p in model.parameters())
    assert params == sum(r["params"] for r in records)
    return params, sum(r["macs"] for r in records), records


def run_torchvision(out):
    import torch
    import torchvision

    torch.set_num_threads(2)
    rows = []
    for variant, alphas in TORCH_ALPHAS.items():
        for alpha in alphas:
            model = _tv_build(variant, alpha)
            for res in TORCH_RESOLUTIONS:
                params, macs, _ = _tv_count(model, res)
                rows.append(dict(variant=variant, alpha=alpha,
                                 resolution=res, params=params, macs=macs))
                print(variant, alpha, res, params, macs)
    _write_csv(os.path.join(out, "torchvision.csv"),
               ["variant", "alpha", "resolution", "params", "macs"], rows)

    dumps = []
    for variant, alpha, res in TORCH_LAYER_DUMPS:
        model = _tv_build(variant, alpha)
        params, macs, recs = _tv_count(model, res)
        dumps.append({"variant": variant, "alpha": alpha, "resolution": res,
                      "params": params, "macs": macs, "layers": recs})
    _write_json(os.path.join(out, "torchvision_layers_0.75_224.json"),
                {"torch_version": torch.__version__,
                 "torchvision_version": torchvision.__version__,
                 "models": dumps})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("framework", choices=["keras", "torchvision"])
    ap.add_argument("--out", default=HERE)
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    if args.framework == "keras":
        run_keras(args.out)
    else:
        run_torchvision(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
