"""Published figures (papers, TF-slim READMEs, Keras docs, torchvision metadata), with sources.

The rows ship with the package (``data/published_models.csv``); each keeps its source text.
MobileNetV4's classification table ships as ``data/published_mobilenet_v4.csv`` (parameters in M and
MACs in G, as the paper prints them, with latencies on seven devices).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

FAMILY_NAMES = {
    "MobileNetV1": "mobilenet_v1",
    "MobileNetV2": "mobilenet_v2",
    "MobileNetV3-Large": "mobilenet_v3_large",
    "MobileNetV3-Small": "mobilenet_v3_small",
    "MnasNet-A1": "mnasnet_a1",
}


@dataclass(frozen=True)
class Published:
    label: str  # the row's variant text, e.g. "MobileNetV1 (Keras)"
    variant: str | None  # mobilecost's name when the row is one of the four base networks
    alpha: float
    resolution: int
    macs_millions: float | None
    params_millions: float | None
    top1: float | None
    top5: float | None
    source: str
    # Printed precision in millions when it is not the figure's own digits (a MAC figure printed
    # as 0.2 G is known to the nearest 100 M: -2); None: read off the figure.
    macs_decimals: int | None = None
    params_decimals: int | None = None
    macs_printed: str = ""  # the figures as the source prints them ("4.0", not 4)
    params_printed: str = ""


def _num(text: str):
    return float(text) if text not in ("", None) else None


@lru_cache(maxsize=1)
def published_rows() -> tuple[Published, ...]:
    path = Path(__file__).resolve().parent.parent / "data" / "published_models.csv"
    rows = []
    with path.open(newline="", encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            base = r["variant"].split(" (")[0]
            if any(word in r["variant"] for word in ("full conv", "Shallow", "typo")):
                base = ""  # a different network, or a misprint: never matched to a configuration
            rows.append(Published(
                label=r["variant"], variant=FAMILY_NAMES.get(base), alpha=float(r["alpha"]),
                resolution=int(r["resolution"]), macs_millions=_num(r["macs_millions"]),
                params_millions=_num(r["params_millions"]), top1=_num(r["top1"]), top5=_num(r["top5"]),
                source=r["source"], macs_printed=r["macs_millions"], params_printed=r["params_millions"],
            ))
    return tuple(rows)


# The MobileNetV4 paper's model names -> mobilecost's tables.
V4_NAMES = {
    "MNv4-Conv-S": "mobilenet_v4_conv_small",
    "MNv4-Conv-M": "mobilenet_v4_conv_medium",
    "MNv4-Conv-L": "mobilenet_v4_conv_large",
    "MNv4-Hybrid-M": "mobilenet_v4_hybrid_medium",
    "MNv4-Hybrid-L": "mobilenet_v4_hybrid_large",
}


def _decimals(text: str) -> int:
    return len(text.strip().partition(".")[2])


@lru_cache(maxsize=1)
def published_v4_rows() -> tuple[Published, ...]:
    """MobileNetV4 (arXiv:2404.10518) ImageNet-1K table: each model at its own resolution."""
    path = Path(__file__).resolve().parent.parent / "data" / "published_mobilenet_v4.csv"
    rows = []
    with path.open(newline="", encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            rows.append(Published(
                label=r["model"], variant=V4_NAMES.get(r["model"]), alpha=1.0, resolution=int(r["resolution"]),
                macs_millions=float(r["macs_G"]) * 1000, params_millions=_num(r["params_M"]), top1=_num(r["top1"]),
                top5=None, source=r["source"], macs_printed=r["macs_G"], params_printed=r["params_M"],
                macs_decimals=_decimals(r["macs_G"]) - 3, params_decimals=_decimals(r["params_M"]),
            ))
    return tuple(rows)


def figures_for(variant: str, alpha: float, resolution: int) -> list[Published]:
    """Published float-model figures for exactly this configuration."""
    return [p for p in published_rows() + published_v4_rows()
            if p.variant == variant and abs(p.alpha - alpha) < 1e-9 and p.resolution == resolution
            and "quant" not in p.label.lower() and (p.macs_millions or p.params_millions)]
