"""ImageNet top-1 of each released float checkpoint, from one stated source per family.

A family's source is its paper when the paper tabulates every released checkpoint, otherwise the
official README that lists them all, read at a commit so that a reader can open the same text:

* MobileNetV1: the MobileNets paper (arXiv:1704.04861) plots 16 models in Figs. 4-5 but tabulates
  8 (Tables 6, 7, 9); the TF-slim README released with it lists all 16 (checkpoints 2017_06_14),
  within 0.3 points of the paper's 8.
* MobileNetV2: the paper tabulates 1.0-224 and 1.4-224 only (Table 4); the TF-slim MobileNet README
  lists the 22 released checkpoints.
* MobileNetV3-Large / -Small: the paper's Table 3 lists the four released float checkpoints.

The figures themselves are rows of ``data/published_models.csv``; here each family names the rows
it takes. The cost of each checkpoint is not taken from the source: it is counted by the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

from .published import published_rows


@dataclass(frozen=True)
class AccuracySource:
    family: str  # mobilecost's variant name
    citation: str  # what a reader opens, with the table and the address
    row_marks: tuple[str, ...]  # every one of these appears in the source text of the rows taken


SOURCES = (
    AccuracySource(
        "mobilenet_v1",
        "TF-slim mobilenet_v1.md, checkpoints 2017_06_14 (released with arXiv:1704.04861, whose Tables 6, 7 and 9 "
        "give 8 of the 16 within 0.3 points): github.com/tensorflow/models/blob/"
        "a4e31b34db506e1ca0dcc5df00b71a56048f6f89/slim/nets/mobilenet_v1.md",
        ("mobilenet_v1.md", "2017_06_14"),
    ),
    AccuracySource(
        "mobilenet_v2",
        "TF-slim mobilenet/README.md, MobileNetV2 checkpoints table: github.com/tensorflow/models/blob/"
        "60c28f91c1a69098fa8d69e4430705981fc4e132/research/slim/nets/mobilenet/README.md",
        ("mobilenet/README.md", "V2 checkpoints"),
    ),
    AccuracySource(
        "mobilenet_v3_large",
        "Searching for MobileNetV3, arXiv:1905.02244 Table 3 (arxiv.org/abs/1905.02244)",
        ("1905.02244 v1", "Table 3"),
    ),
    AccuracySource(
        "mobilenet_v3_small",
        "Searching for MobileNetV3, arXiv:1905.02244 Table 3 (arxiv.org/abs/1905.02244)",
        ("1905.02244 v1", "Table 3"),
    ),
)
SOURCE_OF = {s.family: s for s in SOURCES}


@dataclass(frozen=True)
class Checkpoint:
    variant: str
    alpha: float
    resolution: int
    top1: float
    source: str  # the family's citation


def checkpoints(families=None) -> list[Checkpoint]:
    """One entry per released float checkpoint (variant, alpha, resolution) of the given families."""
    out = []
    for source in SOURCES:
        if families is not None and source.family not in families:
            continue
        seen = set()
        for p in published_rows():
            if (p.variant == source.family and p.top1 is not None and "quant" not in p.label.lower()
                    and all(mark in p.source for mark in source.row_marks) and (p.alpha, p.resolution) not in seen):
                seen.add((p.alpha, p.resolution))
                out.append(Checkpoint(p.variant, p.alpha, p.resolution, p.top1, source.citation))
    return out


# The figure each paper quotes for its 1.0-224 network (mult-adds and parameters, in millions).
HEADLINE_SOURCES = {
    "mobilenet_v1": ("1704.04861", "MobileNets arXiv:1704.04861 Table 6"),
    "mobilenet_v2": ("1801.04381", "MobileNetV2 arXiv:1801.04381 Table 4"),
    "mobilenet_v3_large": ("1905.02244 later revision", "arXiv:1905.02244 Table 3 (current revision)"),
    "mobilenet_v3_small": ("1905.02244 later revision", "arXiv:1905.02244 Table 3 (current revision)"),
}


def headline(family: str, metric: str):
    """(value in millions, citation) of the family's paper figure for 1.0-224, or None.
    `metric` is "macs" or "params"."""
    if family not in HEADLINE_SOURCES or metric not in ("macs", "params"):
        return None
    mark, citation = HEADLINE_SOURCES[family]
    for p in published_rows():
        if p.variant == family and p.alpha == 1.0 and p.resolution == 224 and mark in p.source:
            value = p.macs_millions if metric == "macs" else p.params_millions
            if value:
                return value, citation
    return None
