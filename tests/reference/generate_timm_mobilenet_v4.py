#!/usr/bin/env python3
"""Freeze reference parameter / multiply-accumulate counts of MobileNetV4 from timm.

The networks are timm's own (``timm.create_model(name, pretrained=False)``); nothing here re-derives
an architecture. Counts are read off the built modules and one batch-1 forward pass in eval mode
under ``torch.no_grad()`` with a zero input of shape ``(1, 3, R, R)``:

* parameters: ``sum(p.numel() for p in model.parameters())``, split into ``weights`` (Conv2d and
  Linear weights), ``biases`` (their biases), ``bn_affine`` (BatchNorm2d weight and bias) and
  ``layer_scale`` (LayerScale2d gamma: every other parameter); ``bn_stats`` counts the BatchNorm
  running mean and variance (buffers, not parameters);
* ``macs``: forward hooks on nn.Conv2d (``out_h * out_w * kh * kw * cin / groups * cout``) and
  nn.Linear (``in_features * out_features`` per row); bias adds, norms, activations, pooling,
  upsampling and adds count 0;
* ``attn_qk`` and ``attn_av``: the two attention matrix products of every MultiQueryAttention2d,
  from the shapes of its query, key and value projections' outputs:
  QK^T = heads * Nq * Nkv * key_dim and attention x V = heads * Nq * Nkv * value_dim
  (Nq, Nkv: query and key/value positions). They are not in ``macs`` (no hook sees them).

Usage (a throwaway virtualenv, CPU only):

    python3 -m venv /tmp/ref-v4
    /tmp/ref-v4/bin/pip install torch==2.14.1 torchvision==0.29.1 timm==1.0.31
    /tmp/ref-v4/bin/python generate_timm_mobilenet_v4.py

Writes ``timm_mobilenet_v4.csv`` next to this file unless ``--out DIR`` is given.
"""

import argparse
import csv
import os
import platform

HERE = os.path.dirname(os.path.abspath(__file__))

# timm name -> mobilecost table; the channel multiplier each timm name builds.
MODELS = [
    ("mobilenetv4_conv_small", "mobilenet_v4_conv_small", 1.0),
    ("mobilenetv4_conv_small_050", "mobilenet_v4_conv_small", 0.5),
    ("mobilenetv4_conv_small_035", "mobilenet_v4_conv_small", 0.35),
    ("mobilenetv4_conv_medium", "mobilenet_v4_conv_medium", 1.0),
    ("mobilenetv4_conv_large", "mobilenet_v4_conv_large", 1.0),
    ("mobilenetv4_hybrid_medium", "mobilenet_v4_hybrid_medium", 1.0),
    ("mobilenetv4_hybrid_medium_075", "mobilenet_v4_hybrid_medium", 0.75),
    ("mobilenetv4_hybrid_large", "mobilenet_v4_hybrid_large", 1.0),
    ("mobilenetv4_hybrid_large_075", "mobilenet_v4_hybrid_large", 0.75),
]
# Besides 224 and each pretrained configuration's input_size / test_input_size: the paper's
# resolutions (conv-small 224, medium 256, large 384) and an odd side.
EXTRA_RESOLUTIONS = [225, 256, 384]

HEADER = ["timm_model", "table", "alpha", "resolution", "params", "weights", "biases", "bn_affine", "layer_scale",
          "bn_stats", "macs", "attn_qk", "attn_av", "resolution_source"]


def _resolutions(timm, name):
    """224, every input_size / test_input_size of the name's pretrained configurations, the extras."""
    found = {224: "224"}
    for tag in timm.list_pretrained(name + ".*"):
        cfg = timm.models.get_pretrained_cfg(tag)
        for key in ("input_size", "test_input_size"):
            size = getattr(cfg, key, None)
            if size:
                found.setdefault(int(size[-1]), f"{tag} {key}")
    for r in EXTRA_RESOLUTIONS:
        found.setdefault(r, "extra")
    return sorted(found.items())


def count(name, resolution):
    import timm
    import torch
    from torch import nn
    from timm.layers import MultiQueryAttention2d

    model = timm.create_model(name, pretrained=False)
    model.eval()
    parts = dict(weights=0, biases=0, bn_affine=0, layer_scale=0, bn_stats=0)
    for module in model.modules():
        own = list(module.named_parameters(recurse=False))
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            for pname, p in own:
                parts["weights" if pname == "weight" else "biases"] += p.numel()
        elif isinstance(module, nn.BatchNorm2d):
            parts["bn_affine"] += sum(p.numel() for _, p in own)
            parts["bn_stats"] += module.running_mean.numel() + module.running_var.numel()
        else:
            parts["layer_scale"] += sum(p.numel() for _, p in own)
    params = sum(p.numel() for p in model.parameters())
    assert params == parts["weights"] + parts["biases"] + parts["bn_affine"] + parts["layer_scale"]

    macs = [0]
    attention = []

    def conv_hook(module, inputs, output):
        _, cout, oh, ow = output.shape
        kh, kw = module.kernel_size
        macs[0] += oh * ow * kh * kw * (module.in_channels // module.groups) * cout

    def linear_hook(module, inputs, output):
        rows = output.numel() // output.shape[-1]
        macs[0] += rows * module.in_features * module.out_features

    hooks = []
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            hooks.append(module.register_forward_hook(conv_hook))
        elif isinstance(module, nn.Linear):
            hooks.append(module.register_forward_hook(linear_hook))
        elif isinstance(module, MultiQueryAttention2d):
            shapes = {}
            attention.append((module, shapes))
            for part in ("query", "key", "value"):
                hooks.append(getattr(module, part).register_forward_hook(
                    lambda m, i, o, part=part, shapes=shapes: shapes.__setitem__(part, tuple(o.shape))))
    with torch.no_grad():
        model(torch.zeros(1, 3, resolution, resolution))
    for h in hooks:
        h.remove()

    qk = av = 0
    for module, shapes in attention:
        _, q_ch, qh, qw = shapes["query"]
        _, k_ch, kh, kw = shapes["key"]
        _, v_ch, vh, vw = shapes["value"]
        heads = module.num_heads
        assert q_ch == heads * k_ch and (kh, kw) == (vh, vw)
        qk += heads * qh * qw * kh * kw * k_ch
        av += heads * qh * qw * kh * kw * v_ch
    return dict(params=params, **parts, macs=macs[0], attn_qk=qk, attn_av=av)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=HERE)
    args = parser.parse_args()
    import timm
    import torch

    rows = []
    for name, table, alpha in MODELS:
        for resolution, source in _resolutions(timm, name):
            row = dict(timm_model=name, table=table, alpha=alpha, resolution=resolution, resolution_source=source,
                       **count(name, resolution))
            print(row)
            rows.append(row)
    path = os.path.join(args.out, "timm_mobilenet_v4.csv")
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, HEADER, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print("wrote", path, len(rows), "rows;", f"python {platform.python_version()}, torch {torch.__version__}, "
          f"timm {timm.__version__}")


if __name__ == "__main__":
    main()
