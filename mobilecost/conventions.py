"""Counting conventions, each stated once.

* A MAC is one multiply-accumulate; FLOPs = 2 x MACs (converted here and nowhere else).
* Parameters are always kept split -- ``weights``, ``biases``, ``bn_affine`` (gamma, beta),
  ``bn_stats`` (moving mean, variance) -- and a convention says which parts ``params`` sums:

  - ``paper``: weights + biases, batch norm folded into the convolutions
    (MobileNets 4.2 M, MobileNetV2 3.4 M, MobileNetV3 5.4 M / 2.5 M);
  - ``torchvision``: + BN gamma and beta (``sum(p.numel() for p in model.parameters())``,
    also Keras's trainable parameters);
  - ``keras``: + BN moving statistics (Keras ``model.count_params()``).
* Attention's two matrix products (QK^T and attention x V of Mobile MQA) multiply activations by
  activations. ``attn_macs`` always reports them apart; whether ``macs`` includes them is a convention
  (``ATTENTION``): ``included`` (the default: every multiply-accumulate the network executes, as the
  latency model times them and fvcore counts matmuls) or ``excluded`` (convolutions and fully
  connected layers only, as timm's and torchvision's forward hooks on Conv2d and Linear count).
"""

from __future__ import annotations

from .errors import MobilecostError, quoted

PARAM_PARTS = ("weights", "biases", "bn_affine", "bn_stats")

CONVENTIONS: dict[str, tuple[str, ...]] = {
    "paper": ("weights", "biases"),
    "torchvision": ("weights", "biases", "bn_affine"),
    "keras": ("weights", "biases", "bn_affine", "bn_stats"),
}

CONVENTION_TEXT = {
    "paper": "params = weights + biases (BN folded)",
    "torchvision": "params = weights + biases + BN gamma/beta",
    "keras": "params = weights + biases + BN gamma/beta + BN mean/var",
}

FLOPS_PER_MAC = 2

ATTENTION = {
    "included": "MACs include attention's QK^T and attention x V (attn_macs)",
    "excluded": "MACs of convolutions and fc layers only; attention's QK^T and attention x V apart (attn_macs)",
}


def check_attention(name: str) -> str:
    if name not in ATTENTION:
        raise MobilecostError(f"unknown attention convention {quoted(name)}; use one of {', '.join(ATTENTION)}",
                              field="--attention-macs")
    return name


def check_convention(name: str) -> str:
    if name not in CONVENTIONS:
        raise MobilecostError(f"unknown convention {quoted(name)}; use one of {', '.join(CONVENTIONS)}", field="--convention")
    return name


def params_of(parts, convention: str):
    """Sum the parameter parts a convention counts; works on dicts, Series and DataFrames."""
    total = 0
    for part in CONVENTIONS[check_convention(convention)]:
        total = total + parts[part]
    return total


def flops_of(macs):
    return macs * FLOPS_PER_MAC


def header_line(convention: str, mode: str, semantics: str, attention: str | None = None) -> str:
    """The conventions a report follows; `attention` (a network with attention) adds how MACs treat it."""
    extra = f"; {ATTENTION[attention]}" if attention else ""
    return (f"MACs = multiply-accumulates (FLOPs = 2 x MACs); {CONVENTION_TEXT[convention]}{extra}; "
            f"mode {mode}; semantics {semantics}")


# Bytes per activation or weight element.
DTYPE_BYTES = {"fp32": 4, "fp16": 2, "int8": 1}


def dtype_bytes(dtype: str) -> int:
    try:
        return DTYPE_BYTES[dtype]
    except KeyError:
        raise MobilecostError(f"unknown dtype {quoted(dtype)}; use one of {', '.join(DTYPE_BYTES)}",
                              field="--dtype") from None
