"""Reconciliation: mobilecost's count next to every published figure, and the walk between them.

Each *reading* is a counting convention someone may have used -- BN folded or stored (2 or 4
numbers per channel), 1000 or 1001 classes, the head scaled with alpha or not, the paper's algebra
without rounding, another framework's width rules, SE counted or not, per-element work counted as
mult-adds, the stem convolution left out. Every step of a reading is measured by the engine on a
transformed configuration (a copy of the table with ``classes: 1001``, ``ideal`` mode, another
semantics, the BN parts, the per-layer counts); nothing is typed in.

A published figure is *explained* when a reading lands on it at its printed precision; otherwise
the walk stops at the plain count and states the unexplained residual with its size, listing the
readings tried.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import MobilecostError
from ..numeric.points import parse_shape
from ..numeric.one_point import PointReport, evaluate_one
from ..numeric.snapshot import TableSnapshot, Variation, table_snapshot
from ..spec.roles import SQUEEZE_EXCITE
from .published import Published, figures_for


@dataclass(frozen=True)
class Step:
    label: str  # the convention behind the step
    delta: float


@dataclass(frozen=True)
class Reading:
    name: str
    steps: tuple[Step, ...]
    value: float  # the count under this reading

    @property
    def plain(self) -> bool:
        return not self.steps


@dataclass(frozen=True)
class Walk:
    metric: str  # macs | params
    figure: Published
    printed: float  # the published figure in units (not millions)
    decimals: int  # printed precision, in decimals of millions
    base: float
    reading: Reading  # the reading that lands, or the plain count
    matched: bool
    residual: float  # printed - reading value (0 when matched within precision)
    tried: tuple[Reading, ...] = ()
    also_matched_by: tuple[str, ...] = ()  # other sources for this configuration that land
    printing: str = ""  # how the matching value prints as the figure: rounded or truncated


@dataclass(frozen=True)
class Explanation:
    variant: str
    title: str
    alpha: float
    resolution: int
    macs: int
    params: int
    walks: tuple[Walk, ...]
    elementwise: dict = field(default_factory=dict)  # per-element work not counted as MACs


def decimals_of(value: float) -> int:
    """Printed precision of a figure in millions: 4.24 -> 2, 569.0 -> 0, 4.253864 -> 6."""
    text = repr(float(value))
    if "e" in text:
        return 6
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0")
    return len(frac)


def lands(value: float, printed_millions: float, decimals: int, how: str = "rounded") -> bool:
    """True when `value` prints as the published figure at its precision, rounded or truncated."""
    return prints_as(value / 1e6, printed_millions, decimals, how)


def prints_as(figure: float, printed: float, decimals: int, how: str = "rounded") -> bool:
    """True when `figure` printed with `decimals` decimals, rounded or truncated, reads `printed`."""
    unit = 10.0 ** (-decimals)
    if how == "truncated":
        return 0 <= figure - printed < unit - 1e-12
    return abs(figure - printed) <= unit / 2 + 1e-9


def _one_more_class(spec):
    from .transforms import with_classes

    return with_classes(spec, spec.classes + 1)


def _head_scaled_below_one(spec):
    return spec.model_copy(update={"width": spec.width.model_copy(update={"above_one": ()})})


def _coco_classes(background: bool) -> Variation:
    """A COCO detector scoring the 80 object classes (with a background score or without) instead of
    the 90 COCO category ids its table predicts."""
    classes = 81 if background else 80

    def edit(spec):
        from .transforms import with_classes

        return with_classes(spec, classes)

    return Variation(f"classes = {classes}", edit)


ONE_MORE_CLASS = Variation("classes + 1", _one_more_class)
HEAD_SCALED_BELOW_ONE = Variation("width.above_one = ()", _head_scaled_below_one)
# COCO has 80 object classes under 90 category ids; arXiv:1801.04381 Table 5 sizes SSDLite "making
# predictions for 80 classes", while the TF Object Detection API predicts the 90 ids (+ background).
COCO_DETECTOR_CLASSES = (90, 91)


def _totals(variant, alpha, resolution, semantics=None, mode="exact", variation=None) -> dict:
    table = table_snapshot(variant, mode, semantics, variation)
    return evaluate_one(table, alpha, resolution=resolution).attrs["totals"]


def _readings(variant, table: TableSnapshot, base: PointReport) -> dict[str, list[Reading]]:
    """Every reading of MACs and of parameters, each step measured on a transformed configuration
    (each configuration evaluated once, for both metrics)."""
    t = base.attrs["totals"]
    alpha, resolution = base.attrs["alpha"], base.attrs["resolution"]
    classes = table.classes + 1
    more = _totals(variant, alpha, resolution, variation=ONE_MORE_CLASS)
    ideal = _totals(variant, alpha, resolution, mode="ideal")
    others = [(f"{name} width rules", f"{name}: {description}", _totals(variant, alpha, resolution, semantics=name))
              for name, description in table.alternatives]
    if table.scaled_absolutely and alpha < 1:
        others.append(("head scaled with alpha", f"head scaling: {', '.join(table.scaled_absolutely)} scaled by "
                                                 "alpha below 1 too",
                       _totals(variant, alpha, resolution, variation=HEAD_SCALED_BELOW_ONE)))
    coco = [(background, _totals(variant, alpha, resolution, variation=_coco_classes(background)))
            for background in (True, False)] if table.classes in COCO_DETECTOR_CLASSES else []
    roles = {layer.name: layer.role for layer in table.layers}
    columns = base.columns
    se = [i for i, name in enumerate(columns["name"]) if roles[name] in SQUEEZE_EXCITE]

    def of(metric: str) -> list[Reading]:
        base = float(t[metric])
        out = [Reading("mobilecost count as is", (), base)]

        def add(name, *steps):
            out.append(Reading(name, tuple(steps), base + sum(s.delta for s in steps)))

        cls = Step(f"{classes} classes (TF-slim's extra background class): classifier grows by one output",
                   float(more[metric] - t[metric]))
        if metric == "params":
            affine = Step("BN counted, not folded: gamma and beta stored (2 numbers per channel)", float(t["bn_affine"]))
            stats = Step("BN moving mean and variance stored too (4 numbers per channel in all)", float(t["bn_stats"]))
            add("torchvision parameters(): BN gamma/beta", affine)
            add("Keras count_params(): BN gamma/beta and moving statistics", affine, stats)
            add("TF-slim checkpoint: 1001 classes, BN folded", cls)
            add("TF-slim checkpoint: 1001 classes, BN gamma/beta", cls, affine)
            add("TF-slim checkpoint: 1001 classes, BN gamma/beta and statistics", cls, affine, stats)
        else:
            add("1001 classes", cls)
            add("per-element work as mult-adds: BN not folded (one per output element)",
                Step("BN scale-and-shift counted as a mult-add per element", float(t["bn_ops"])))
            add("per-element work as mult-adds: activations",
                Step("one mult-add per activated element", float(t["act_ops"])))
            add("per-element work as mult-adds: pooling, SE scaling, residual adds",
                Step("pooling adds, SE multiplies and shortcut adds counted", float(t["ew_ops"])))
            if t["attn_macs"]:
                add("attention products not counted (conv and fc MACs only, as timm's forward hooks)",
                    Step("attention's QK^T and attention x V left out", -float(t["attn_macs"])))
            name, k = columns["name"][0], columns["kernel"][0]
            shape = k if isinstance(k, str) else f"{k}x{k}"  # a non-square kernel's column reads "5x3"
            add("stem convolution not counted",
                Step(f"first layer {name} ({shape} conv on the image) left out", -float(columns["macs"][0])))
        for background, other in coco:
            add(f"COCO's 80 object classes{' and background' if background else ''} scored, not the 90 category ids",
                Step(f"{80 + background} scores per anchor instead of {table.classes} (arXiv:1801.04381 Table 5 sizes "
                     "SSDLite for 80 classes)", float(other[metric]) - base))
        add("paper algebra: alpha*M channels, no rounding (ideal mode)",
            Step("rounding policy: channels alpha*M exactly instead of the reference rounding",
                 float(ideal[metric]) - base))
        for name, label, other in others:
            add(name, Step(label, float(other[metric]) - base))
        if se:
            add("SE not counted", Step("squeeze-and-excite layers left out",
                                       -float(sum(columns[metric][i] for i in se))))
        return out

    return {metric: of(metric) for metric in ("macs", "params")}


def _walk(metric, figure: Published, readings: list[Reading]) -> Walk:
    printed_m = figure.macs_millions if metric == "macs" else figure.params_millions
    given = figure.macs_decimals if metric == "macs" else figure.params_decimals
    decimals = decimals_of(printed_m) if given is None else given
    printed = printed_m * 1e6
    base = readings[0]
    # Rounded first, then truncated (papers print both ways: 568.7 M as 569 M, 300.8 M as 300 M);
    # the plain count before any other reading.
    for reading, how in [(base, "rounded"), (base, "truncated"),
                         *[(r, "rounded") for r in readings[1:]], *[(r, "truncated") for r in readings[1:]]]:
        if lands(reading.value, printed_m, decimals, how):
            return Walk(metric, figure, printed, decimals, base.value, reading, True, 0.0, printing=how)
    return Walk(metric, figure, printed, decimals, base.value, base, False, printed - base.value,
                tried=tuple(readings[1:]))


def explain(variant, alpha=1.0, resolution=None) -> Explanation:
    shape = parse_shape(resolution)
    if shape is not None and shape[0] != shape[1]:
        raise MobilecostError(f"explain reads published figures, which are at square inputs; give one side, "
                              f"not {shape[0]}x{shape[1]} (report counts rectangular inputs)", field="--resolution")
    table = table_snapshot(variant)
    base = evaluate_one(table, alpha, resolution=resolution)
    t, alpha, resolution = base.attrs["totals"], base.attrs["alpha"], base.attrs["resolution"]
    figures = figures_for(table.name, alpha, resolution)
    readings = _readings(variant, table, base)
    walks = []
    for figure in figures:
        for metric, printed in (("macs", figure.macs_millions), ("params", figure.params_millions)):
            if printed:
                walks.append(_walk(metric, figure, readings[metric]))
    walks = [_with_others(w, walks) for w in walks]
    elementwise = {"BN scale-and-shift (folded at inference)": int(t["bn_ops"]),
                   "activations": int(t["act_ops"]),
                   "pooling, SE multiplies, shortcut adds, softmax": int(t["ew_ops"])}
    if t["attn_macs"]:
        elementwise["of the MACs above: attention's QK^T and attention x V"] = int(t["attn_macs"])
    return Explanation(table.name, table.title, alpha, resolution, int(t["macs"]), int(t["params"]),
                       tuple(walks), elementwise)


def _with_others(walk: Walk, walks: list[Walk]) -> Walk:
    if walk.matched:
        return walk
    others = tuple(sorted({f"{w.figure.label}: {w.figure.source}" for w in walks
                           if w.metric == walk.metric and w.matched and w.reading.plain}))
    return Walk(**{**walk.__dict__, "also_matched_by": others})

