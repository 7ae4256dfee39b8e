"""Figures: the alpha-rho trade-off plane and accuracy against cost (papers' Figs. 4-5 redrawn).

Every function returns a ``matplotlib.figure.Figure`` built without pyplot (no global backend is
touched; rendering is Agg); `save_figure` writes PNG, SVG or PDF atomically. matplotlib is imported
only here, so commands that do not plot stay fast. Per-layer bars and the roofline live in
``plots_layers``. Figures carry the counting convention and their sources in a footnote.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..conventions import CONVENTION_TEXT
from ..errors import MobilecostError, quoted
from ..analysis.published import published_rows

FAMILY_STYLE = {  # mobilecost name -> (label, colour, marker)
    "mobilenet_v1": ("MobileNetV1", "#1f77b4", "o"),
    "mobilenet_v2": ("MobileNetV2", "#2ca02c", "s"),
    "mobilenet_v3_large": ("MobileNetV3-Large", "#d62728", "^"),
    "mobilenet_v3_small": ("MobileNetV3-Small", "#9467bd", "v"),
}
METRICS = {  # metric -> (axis text, scale to display units)
    "macs": ("MACs (millions of multiply-accumulates)", 1e-6),
    "params": ("parameters (millions)", 1e-6),
    "act_peak_bytes": ("peak activation memory (MB)", 1e-6),
    "latency_ms": ("simulated latency (ms)", 1.0),
}
FIGURE_MIN_WIDTH = 11.0  # inches: 1,650 pixels at the default 150 dpi
DEFAULT_DPI = 150
HEADLINE_COLOUR = "#ff7f0e"
CHECKPOINT_COLOUR = "#ff7f0e"
OUTSIDE_COLOUR = "#dddddd"  # hatching where a latency band comes from calibration rows of other sizes
OTHER_COLOURS = ("#8c564b", "#e377c2", "#17becf", "#bcbd22")
PAPERS = ("MobileNets arXiv:1704.04861; MobileNetV2 arXiv:1801.04381; Searching for MobileNetV3 arXiv:1905.02244; "
          "TF-slim READMEs; Keras Applications; torchvision")
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


def new_figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained", dpi=DEFAULT_DPI)
    FigureCanvasAgg(fig)  # a renderer to measure text with (labels.py)
    return fig


def footnote(fig, text: str) -> None:
    fig.get_layout_engine().set(h_pad=0.12)
    fig.supxlabel(text, fontsize=7, color="#444444", wrap=True, ha="left", x=0.01)


def save_figure(fig, path, dpi: float = DEFAULT_DPI) -> None:
    """PNG, SVG or PDF by the file's suffix, written atomically; `dpi` sets the PNG's pixels."""
    from .files import write_atomic

    suffix = Path(str(path)).suffix.lower()
    if suffix not in FORMATS:
        raise MobilecostError(f"unknown figure format {suffix or '(none)'!r}; use .png, .svg or .pdf", field="-o")
    if not (np.isfinite(dpi) and 20 <= dpi <= 1200):
        raise MobilecostError(f"dots per inch must be between 20 and 1200, got {dpi:g}", field="--dpi")
    buffer = io.BytesIO()
    fig.savefig(buffer, format=FORMATS[suffix], dpi=dpi)
    try:
        write_atomic(path, buffer.getvalue())
    except OSError as exc:
        raise MobilecostError(f"cannot write: {exc.strerror or exc}", where=str(path), field="-o") from None


def _check_metric(metric: str, device) -> None:
    if metric not in METRICS:
        raise MobilecostError(f"unknown metric {quoted(metric)}; use one of {', '.join(METRICS)}", field="--metric")
    if metric == "latency_ms" and device is None:
        raise MobilecostError("iso-latency contours need --device", field="--metric")


LADDER = (1, 2, 5)


def contour_levels(values, headlines=()) -> np.ndarray:
    """Levels on the 1-2-5 ladder (..., 10, 20, 50, 100, ...) inside the range of `values`, plus the
    published headline figures that fall inside it."""
    finite = np.asarray(values, float)
    finite = finite[np.isfinite(finite) & (finite > 0)]
    lo, hi = float(finite.min()), float(finite.max())
    decades = np.arange(np.floor(np.log10(lo)), np.ceil(np.log10(hi)) + 1)
    ladder = np.array([m * 10.0 ** d for d in decades for m in LADDER])
    levels = set(np.round(ladder[(ladder > lo) & (ladder < hi)], 12)) | {h for h in headlines if lo < h < hi}
    return np.array(sorted(levels))


def _checkpoints_of(variant: str):
    from ..analysis.accuracy import checkpoints

    return checkpoints([variant])


def plot_tradeoff(variants, metric="macs", device=None, semantics=None, convention="paper", mode="exact",
                  alphas=None, resolutions=None, on_step=None):
    """The alpha-rho plane of each variant: shaded metric, iso-metric contours, released checkpoints.

    In exact mode the contours follow the reference rounding (channels in steps of 8 or truncated,
    sides in whole pixels), and the papers' smooth algebra is drawn dashed beside them. Side-by-side
    panels share one colour scale. Parameters do not depend on the resolution: ``metric="params"``
    draws them as curves over alpha (`plot_params`). `on_step(text)` is called once per variant.
    """
    from ..api import sweep
    from ..analysis.accuracy import headline
    from matplotlib.colors import LogNorm

    variants = [variants] if isinstance(variants, str) else list(variants)
    _check_metric(metric, device)
    if metric == "params":
        return plot_params(variants, semantics, convention, mode, alphas, on_step)
    alphas = np.round(np.linspace(0.2, 1.45, 126), 6) if alphas is None else np.asarray(alphas, float)
    resolutions = np.arange(88, 329, 2) if resolutions is None else np.asarray(resolutions)
    label, scale = METRICS[metric]
    span = _calibration_span(device) if metric == "latency_ms" else None
    smooth_overlay = mode == "exact" and metric in ("macs", "act_peak_bytes")
    panels = []
    for variant in variants:
        frame = sweep(variant, alphas, resolutions=resolutions, semantics=semantics, convention=convention,
                      device=device, mode=mode)
        name = frame["variant"].iloc[0]
        grid = frame[metric].to_numpy(float).reshape(alphas.size, resolutions.size).T * scale
        ideal_grid = None
        if smooth_overlay:
            ideal = sweep(variant, alphas, resolutions=resolutions, semantics=semantics,
                          convention=convention, mode="ideal")
            ideal_grid = ideal[metric].to_numpy(float).reshape(alphas.size, resolutions.size).T * scale
        band = outside = None
        if metric == "latency_ms":  # the model's error band: the grids of its low and high ends
            band = [frame[edge].to_numpy(float).reshape(alphas.size, resolutions.size).T * scale
                    for edge in ("latency_ms_low", "latency_ms_high")]
            if span is not None:  # where the band comes from rows of other sizes
                macs = frame["macs"].to_numpy(float).reshape(alphas.size, resolutions.size).T
                outside = ((macs < span[0]) | (macs > span[1])).astype(float)
        panels.append((variant, name, grid, ideal_grid, headline(name, metric), band, outside))
        if on_step:
            on_step(name)
    positive = np.concatenate([p[2][np.isfinite(p[2]) & (p[2] > 0)] for p in panels])
    norm = LogNorm(vmin=positive.min(), vmax=positive.max())  # one colour scale for every panel
    cols = min(len(variants), 2)
    rows = -(-len(variants) // cols)
    fig = new_figure(FIGURE_MIN_WIDTH if cols == 1 else 14.0, 7.0 if rows == 1 else 5.6 * rows + 1.4)
    grid_axes = fig.subplots(rows, cols, squeeze=False)
    for extra in grid_axes.ravel()[len(variants):]:
        extra.remove()
    axes = grid_axes.ravel()[:len(variants)]
    drawn = []
    for ax, (variant, name, grid, ideal_grid, head, band, outside) in zip(axes, panels):
        mesh = ax.pcolormesh(alphas, resolutions, grid, shading="nearest", cmap="viridis", norm=norm,
                             rasterized=True)
        levels = contour_levels(grid, [head[0]] if head else [])
        plain = [v for v in levels if not (head and v == head[0])]
        lines = ax.contour(alphas, resolutions, grid, levels=plain, colors="white", linewidths=1.0) if plain else None
        head_lines = None
        if head and head[0] in levels:
            head_lines = ax.contour(alphas, resolutions, grid, levels=[head[0]], colors=HEADLINE_COLOUR,
                                    linewidths=1.8)
        if ideal_grid is not None:
            ax.contour(alphas, resolutions, ideal_grid, levels=levels, colors="white", linewidths=0.8,
                       linestyles="dashed", alpha=0.8)
        for edge_grid in band or ():  # where the band's low and high ends reach each level
            ax.contour(alphas, resolutions, edge_grid, levels=levels, colors="white", linewidths=0.6,
                       linestyles="dotted", alpha=0.8)
        if outside is not None and outside.any():
            import matplotlib

            with matplotlib.rc_context({"hatch.linewidth": 0.5}):  # light enough to read the lines through
                hatched = ax.contourf(alphas, resolutions, outside, levels=[0.5, 1.5], colors="none", hatches=["/"])
            hatched.set_edgecolor(OUTSIDE_COLOUR)
            hatched.set_linewidth(0)
        points = [c for c in _checkpoints_of(name)
                  if alphas.min() <= c.alpha <= alphas.max() and resolutions.min() <= c.resolution <= resolutions.max()]
        for c in points:
            ax.plot(c.alpha, c.resolution, marker="o", ms=5.5, mfc=CHECKPOINT_COLOUR, mec="black", mew=0.6, ls="none")
        title = FAMILY_STYLE.get(name, (_title(variant, semantics),))[0]
        ax.set_title(f"{title}: iso-{ISO_NAMES[metric]} lines ({mode} mode)", fontsize=10)
        ax.set_xlabel("width multiplier α")
        ax.set_ylabel("input resolution (pixels) = round(224 ρ)")
        sec = ax.secondary_yaxis("right", functions=(lambda r: r / 224, lambda q: q * 224))
        sec.set_ylabel("resolution multiplier ρ")
        drawn.append((ax, lines, head_lines, head, points))
    bar = fig.colorbar(mesh, ax=list(axes), label=label, pad=0.02, fraction=0.04)
    plain_ticks(bar.ax.yaxis)
    handles = [_line_handle("white", "-", "exact count (reference rounding); value on the line" if mode == "exact"
                            else "papers' algebra (ideal mode); value on the line", edge=True)]
    if smooth_overlay:
        handles.append(_line_handle("white", "--", "papers' algebra (α·M channels, ρ·D sides), same levels",
                                    edge=True))
    if metric == "latency_ms":
        handles.append(_line_handle("white", ":", "error band: where its low and high ends reach each level",
                                    edge=True))
    if any(p[6] is not None and p[6].any() for p in panels):
        handles.append(_hatch_handle(OUTSIDE_COLOUR, f"outside the {span[0] / 1e6:.1f}-{span[1] / 1e6:.1f} M MACs of "
                                                     "the calibration rows: the band may understate the error"))
    heads = [d[3] for d in drawn if d[3]]
    if heads:
        handles.append(_line_handle(HEADLINE_COLOUR, "-", "the paper's headline figure for 1.0-224"))
    if any(d[4] for d in drawn):
        handles.append(_marker_handle(CHECKPOINT_COLOUR, "o", "released checkpoint: ImageNet top-1 %"))
    fig.legend(handles=handles, loc="outside upper center", ncol=2, fontsize=8.5, facecolor="#cccccc")
    note = (f"Counts from mobilecost {mode} mode; {CONVENTION_TEXT[convention]}; MAC = multiply-accumulate "
            f"(FLOPs = 2 x MACs); one colour scale for all panels.")
    if metric == "act_peak_bytes":
        note += " Peak memory: the largest live set of activations, sequential schedule, fp32."
    if device is not None:
        note += f" Latency: {device_label(device)}."
        if metric == "latency_ms":
            note += " Dotted: where the low and the high end of that band reach each level."
    cited = dict.fromkeys([h[1] for h in heads] + [c.source for d in drawn for c in d[4][:1]])
    if cited:
        note += " Sources: " + "; ".join(cited) + "."
    footnote(fig, note)
    _label_tradeoff(fig, drawn)
    return fig


def _label_tradeoff(fig, drawn) -> None:
    """Checkpoint labels beside their markers, then one label per contour line, all without collisions."""
    from .labels import marker_boxes, place_line_labels, place_point_labels, renderer_of

    renderer = renderer_of(fig)
    outline = {"path_effects": _outline(), "color": "white"}
    for ax, lines, head_lines, head, points in drawn:
        taken = marker_boxes(ax)
        place_point_labels(ax, renderer, [(c.alpha, c.resolution, f"{c.top1:.1f}%") for c in points], taken,
                           fontsize=7, **outline)
        contour = []
        if head_lines is not None:
            contour.append((f"{head[0]:g} (paper)", head_lines.get_paths()[0]))
        if lines is not None:
            contour += [(f"{v:g}", path) for v, path in zip(lines.levels, lines.get_paths())]
        place_line_labels(ax, renderer, contour, taken, fontsize=7.5, **outline)


def plot_params(variants, semantics=None, convention="paper", mode="exact", alphas=None, on_step=None):
    """Parameters against alpha, one curve per variant: parameters do not depend on the resolution.
    Exact counts step with the channel rounding; the papers' algebra is drawn dashed; released
    checkpoints and each paper's headline figure are marked."""
    from ..api import sweep
    from ..analysis.accuracy import headline

    alphas = np.round(np.linspace(0.2, 1.45, 251), 6) if alphas is None else np.asarray(alphas, float)
    fig = new_figure(FIGURE_MIN_WIDTH, 6.4)
    ax = fig.subplots()
    cited = []
    for i, variant in enumerate(variants):
        frame = sweep(variant, alphas, resolutions=None, semantics=semantics, convention=convention, mode=mode)
        name = frame["variant"].iloc[0]
        label, colour, marker = FAMILY_STYLE.get(name, (_title(variant, semantics), OTHER_COLOURS[i % 4], "D"))
        ax.plot(alphas, frame["params"].to_numpy(float) * 1e-6, color=colour, lw=1.6,
                label=f"{label} ({mode} mode)")
        if mode == "exact":
            ideal = sweep(variant, alphas, resolutions=None, semantics=semantics, convention=convention, mode="ideal")
            ax.plot(alphas, ideal["params"].to_numpy(float) * 1e-6, color=colour, lw=1.0, ls="--")
        points = [c for c in _checkpoints_of(name) if alphas.min() <= c.alpha <= alphas.max()]
        released = sorted({c.alpha for c in points})
        if released:
            counted = sweep(variant, released, resolutions=None, semantics=semantics, convention=convention)
            ax.plot(released, counted["params"].to_numpy(float) * 1e-6, ls="none", marker=marker, ms=6,
                    mfc=colour, mec="black", mew=0.6)
            cited.append(points[0].source)
        head = headline(name, "params") if convention == "paper" else None
        if head:
            ax.plot([1.0], [head[0]], ls="none", marker="*", ms=11, mfc=HEADLINE_COLOUR, mec="black", mew=0.6)
            cited.append(head[1])
        if on_step:
            on_step(name)
    ax.set_xlabel("width multiplier α")
    ax.set_ylabel(METRICS["params"][0])
    ax.set_title("Parameters against the width multiplier (the same at every input resolution)", fontsize=10)
    ax.grid(True, alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    extra = [_line_handle("#555555", "--", "papers' algebra (α·M channels, no rounding)")] if mode == "exact" else []
    extra += [_marker_handle("#aaaaaa", "o", "released checkpoint (its α), exact count"),
              _marker_handle(HEADLINE_COLOUR, "*", "the paper's headline figure for 1.0 (BN folded)")]
    ax.legend(handles=handles + extra, fontsize=8, loc="upper left")
    note = f"Counts from mobilecost {mode} mode; {CONVENTION_TEXT[convention]}."
    if cited:
        note += " Sources: " + "; ".join(dict.fromkeys(cited)) + "."
    footnote(fig, note)
    return fig


ISO_NAMES = {"macs": "MACs", "params": "parameter", "act_peak_bytes": "peak-memory", "latency_ms": "latency"}


def _outline():
    import matplotlib.patheffects as pe

    return [pe.Stroke(linewidth=1.8, foreground="black"), pe.Normal()]


def _title(variant, semantics) -> str:
    from ..numeric.checked import checked_spec

    return checked_spec(variant, semantics).title


def plain_ticks(axis) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if _mantissa(v) in (2, 5) else ""))


def _mantissa(v: float) -> int:
    """The leading digit of a tick value: 2 for 0.2, 20 and 2000."""
    return int(round(v / 10.0 ** np.floor(np.log10(v)))) if v > 0 else 0


def device_label(device) -> str:
    from ..latency.devices import load_device

    return load_device(device).label()


def _calibration_span(device):
    """The smallest and largest MACs of the device profile's calibration rows, or None."""
    if device is None:
        return None
    from ..latency.devices import load_device

    return load_device(device).calibrated_macs


def _hatch_handle(colour: str, label: str):
    from matplotlib.patches import Patch

    return Patch(facecolor="#777777", edgecolor=colour, hatch="/", label=label)


def _line_handle(colour, style, label, edge=False):
    import matplotlib.patheffects as pe
    from matplotlib.lines import Line2D

    line = Line2D([], [], color=colour, ls=style, lw=1.4, label=label)
    if edge:
        line.set_path_effects([pe.Stroke(linewidth=2.6, foreground="#333333"), pe.Normal()])
    return line


def _marker_handle(colour, marker, label):
    from matplotlib.lines import Line2D

    return Line2D([], [], color=colour, marker=marker, mec="black", ls="none", label=label)


def accuracy_points(families=None):
    """Every released float checkpoint of the given families (default all four) with its top-1,
    from one stated source per family (`analysis.accuracy`)."""
    from ..analysis.accuracy import checkpoints

    return checkpoints(families or list(FAMILY_STYLE))


def pareto_front(x, y):
    """Indices of the points no other point beats (lower or equal x with higher y), by increasing x."""
    order = np.lexsort((-np.asarray(y), np.asarray(x)))
    front, best = [], -np.inf
    for i in order:
        if y[i] > best:
            front.append(i)
            best = y[i]
    return front


RESOLUTION_COLOURS = {224: "#1f77b4", 192: "#ff7f0e", 160: "#2ca02c", 128: "#d62728", 96: "#9467bd"}


def checkpoint_costs(points, semantics=None, convention="paper"):
    """mobilecost's exact MACs and parameters (millions) of each checkpoint, in order."""
    from ..api import sweep

    macs, params = np.empty(len(points)), np.empty(len(points))
    for i, p in enumerate(points):
        row = sweep(p.variant, [p.alpha], resolutions=[p.resolution], semantics=semantics, convention=convention)
        macs[i], params[i] = row["macs"].iloc[0] * 1e-6, row["params"].iloc[0] * 1e-6
    return macs, params


def plot_accuracy(families=None, device=None, semantics=None, on_step=None, convention="paper"):
    """ImageNet top-1 of each released checkpoint against its exact MACs and parameters (and simulated
    latency on a device), with each family's Pareto front; front points are labelled alpha-resolution.
    One family alone is coloured by input resolution, as in the MobileNets paper's Figs. 4-5.
    `on_step(text)` is called once per checkpoint whose latency is simulated (progress)."""
    points = accuracy_points(families)
    if not points:
        raise MobilecostError("no released checkpoint with a published accuracy for these variants", field="VARIANT")
    macs, params = checkpoint_costs(points, semantics, convention)
    xs = [("MACs (millions of multiply-accumulates, counted by mobilecost; log scale)", macs, "mult-adds"),
          (f"parameters (millions; {CONVENTION_TEXT[convention]}; log scale)", params, "parameters")]
    if device is not None:
        xs.append((f"simulated latency (ms) on {device} (log scale)",
                   _checkpoint_latency(points, device, semantics, on_step), "simulated latency"))
    fig = new_figure(max(FIGURE_MIN_WIDTH, 5.6 * len(xs)), 6.2)
    axes = fig.subplots(1, len(xs), squeeze=False)[0]
    top1 = np.array([p.top1 for p in points])
    present = [f for f in FAMILY_STYLE if any(p.variant == f for p in points)]
    by_resolution = len(present) == 1
    fronts = []
    for ax, (xlabel, x, what) in zip(axes, xs):
        front_idx = []
        for family in present:
            label, colour, marker = FAMILY_STYLE[family]
            idx = np.array([i for i, p in enumerate(points) if p.variant == family])
            if by_resolution:
                for res in sorted({points[i].resolution for i in idx}, reverse=True):
                    sel = idx[[points[i].resolution == res for i in idx]]
                    ax.scatter(x[sel], top1[sel], s=34, color=RESOLUTION_COLOURS.get(res, "#7f7f7f"), marker=marker,
                               edgecolor="black", linewidth=0.4, label=f"{res} x {res} input", zorder=3)
            else:
                n = len(idx)
                ax.scatter(x[idx], top1[idx], s=30, color=colour, marker=marker, edgecolor="black", linewidth=0.4,
                           label=f"{label} ({n} checkpoint{'' if n == 1 else 's'})", zorder=3)
            front = idx[pareto_front(x[idx], top1[idx])]
            ax.step(x[front], top1[front], where="post", color="#555555" if by_resolution else colour, lw=1.1,
                    alpha=0.8, zorder=2)
            front_idx += list(front)
        fronts.append(front_idx)
        ax.set_xlabel(xlabel)
        ax.set_xscale("log")
        plain_ticks(ax.xaxis)
        ax.set_ylabel("ImageNet top-1 accuracy (%)")
        ax.grid(True, which="both", alpha=0.3)
        ax.margins(x=0.08, y=0.06)
        ax.legend(fontsize=8, loc="lower right", title="colour: input resolution" if by_resolution else None,
                  title_fontsize=8)
        name = FAMILY_STYLE[present[0]][0] if by_resolution else "MobileNets"
        ax.set_title(f"{name}: ImageNet top-1 against {what}", fontsize=10)
    if by_resolution and present == ["mobilenet_v1"]:
        axes[0].set_title("MobileNetV1: top-1 against mult-adds (MobileNets Fig. 4, redrawn)", fontsize=10)
        axes[1].set_title("MobileNetV1: top-1 against parameters (MobileNets Fig. 5, redrawn)", fontsize=10)
    sources = "; ".join(f"{FAMILY_STYLE[f][0]}: {next(p.source for p in points if p.variant == f)}" for f in present)
    note = ("Each point one released float checkpoint (variant, α, input side) at mobilecost's exact counts "
            "(reference rounding); top-1: single crop, from one source per family. Lines: each family's Pareto "
            f"front (no cheaper checkpoint is more accurate); labels: α-resolution of "
            f"{'every point (left) and of the ' if by_resolution else ''}front points. Top-1 sources: {sources}.")
    if device is not None:
        note += f" Latency: mobilecost exact counts on {device_label(device)}."
    footnote(fig, note)
    _label_fronts(fig, axes, xs, top1, points, fronts, by_resolution)
    return fig


def alpha_text(alpha: float) -> str:
    """The papers' spelling of a width multiplier: 1.0, 0.75, 0.5."""
    text = f"{alpha:g}"
    return text if "." in text else f"{text}.0"


def _label_fronts(fig, axes, xs, top1, points, fronts, every_point_first: bool) -> None:
    """alpha-resolution beside the front points (every point of the first panel when asked), above and
    left of them first: a front rises to the right, so that side is free."""
    from .labels import marker_boxes, place_point_labels, renderer_of

    renderer = renderer_of(fig)
    for k, (ax, (_, x, _), front) in enumerate(zip(axes, xs, fronts)):
        taken = marker_boxes(ax) + [ax.get_legend().get_window_extent(renderer)]
        chosen = range(len(points)) if (every_point_first and k == 0) else front
        for family in FAMILY_STYLE:
            items = [(x[i], top1[i], f"{alpha_text(points[i].alpha)}-{points[i].resolution}")
                     for i in chosen if points[i].variant == family]
            colour = "#222222" if every_point_first else LABEL_COLOURS[family]
            place_point_labels(ax, renderer, items, taken, fontsize=7, color=colour, directions=UP_LEFT_FIRST)


UP_LEFT_FIRST = ((-1, 1), (0, 1), (-1, 0), (1, 1), (1, -1), (-1, -1), (1, 0), (0, -1))
LABEL_COLOURS = {"mobilenet_v1": "#1764ab", "mobilenet_v2": "#1f8a1f", "mobilenet_v3_large": "#c21d1d",
                 "mobilenet_v3_small": "#8350b8"}  # the families' colours, a little darker for text


def _checkpoint_latency(points, device, semantics, on_step=None):
    from ..api import sweep

    out = np.empty(len(points))
    for i, p in enumerate(points):
        row = sweep(p.variant, [p.alpha], resolutions=[p.resolution], semantics=semantics, device=device)
        out[i] = row["latency_ms"].iloc[0]
        if on_step:
            on_step(f"{p.variant} {p.alpha:g}-{p.resolution}")
    return out
