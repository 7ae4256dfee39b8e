"""Published figures (papers, TF-slim READMEs, Keras docs, torchvision metadata), with sources.

The rows ship with the package (``data/published_models.csv``); each keeps its source text.
MobileNetV4's classification table ships as ``data/published_mobilenet_v4.csv`` (parameters in M and
MACs in G, as the paper prints them, with latencies on seven devices). The papers' detection and
segmentation tables ship as ``data/published_heads.csv``: each row names the head table that counts it
(none: shown as published only) and how that table is read for it (reduced tail, output stride,
classes, input).
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


def data_rows(name: str) -> list[dict]:
    """The rows of one of the package's data files (``data/NAME``), as dicts by column."""
    path = Path(__file__).resolve().parent.parent / "data" / name
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=1)
def published_rows() -> tuple[Published, ...]:
    rows = []
    for r in data_rows("published_models.csv"):
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
    rows = []
    for r in data_rows("published_mobilenet_v4.csv"):
        rows.append(Published(
            label=r["model"], variant=V4_NAMES.get(r["model"]), alpha=1.0, resolution=int(r["resolution"]),
            macs_millions=float(r["macs_G"]) * 1000, params_millions=_num(r["params_M"]), top1=_num(r["top1"]),
            top5=None, source=r["source"], macs_printed=r["macs_G"], params_printed=r["params_M"],
            macs_decimals=_decimals(r["macs_G"]) - 3, params_decimals=_decimals(r["params_M"]),
        ))
    return tuple(rows)


@dataclass(frozen=True)
class HeadFigure:
    """One row of a paper's detection or segmentation table, and how a head table is read to count it."""

    paper: str  # mobilenet_v2 | mobilenet_v3
    table: str  # "Table 6"
    row: str
    variant: str | None  # the head table that counts it; None: published only
    height: int
    width: int
    reduced_tail: int | None | str  # "" as the table is written, None: the full tail, or a divider
    output_stride: int | None | str  # "" as written, None: the backbone's own strides
    classes: int | None  # None: the table's own
    figure: Published  # parameters and MACs in M (the MACs printed in B), with their printed precision
    also_printed: str  # the row's other columns (mAP, mIOU, latency), as printed
    note: str

    @property
    def as_written(self) -> bool:
        """Counted on the table as it is written (the table's own input, tail, stride and classes)."""
        return self.reduced_tail == "" and self.output_stride == "" and self.classes is None


def _backbone_reading(text: str):
    return "" if text == "" else None if text == "-" else int(text)


@lru_cache(maxsize=1)
def published_head_rows() -> tuple[HeadFigure, ...]:
    """The MobileNetV2 paper's Tables 6-7 and the MobileNetV3 paper's Tables 6-8 (data/published_heads.csv)."""
    rows = []
    for r in data_rows("published_heads.csv"):
        height, _, width = r["resolution"].partition("x")
        macs = _num(r["macs_B"])
        figure = Published(
            label=f"{r['row']} ({r['paper']} {r['table']})", variant=r["variant"] or None, alpha=1.0,
            resolution=int(height), macs_millions=None if macs is None else macs * 1000,
            params_millions=_num(r["params_M"]), top1=None, top5=None, source=r["source"],
            macs_decimals=None if macs is None else _decimals(r["macs_B"]) - 3,
            params_decimals=_decimals(r["params_M"]) if r["params_M"] else None,
            macs_printed=r["macs_B"], params_printed=r["params_M"])
        rows.append(HeadFigure(r["paper"], r["table"], r["row"], r["variant"] or None, int(height),
                               int(width or height), _backbone_reading(r["reduced_tail"]),
                               _backbone_reading(r["output_stride"]), int(r["classes"]) if r["classes"] else None,
                               figure, r["also_printed"], r["note"]))
    return tuple(rows)


def figures_for(variant: str, alpha: float, resolution: int) -> list[Published]:
    """Published float-model figures for exactly this configuration (a head table's: as it is written)."""
    heads = tuple(h.figure for h in published_head_rows()
                  if h.as_written and h.height == h.width)
    return [p for p in published_rows() + published_v4_rows() + heads
            if p.variant == variant and abs(p.alpha - alpha) < 1e-9 and p.resolution == resolution
            and "quant" not in p.label.lower() and (p.macs_millions or p.params_millions)]
