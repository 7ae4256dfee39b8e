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
PAPERS = ("MobileNets arXiv:1704.04861; MobileNetV2 arXiv:1801.04381; Searching for MobileNetV3 arXiv:1905.02244; "
          "TF-slim READMEs; Keras Applications; torchvision")
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


def new_figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained", dpi=110)


def footnote(fig, text: str) -> None:
    fig.get_layout_engine().set(h_pad=0.12)
    fig.supxlabel(text, fontsize=7, color="#444444", wrap=True, ha="left", x=0.01)


def save_figure(fig, path) -> None:
    """PNG, SVG or PDF by the file's suffix, written atomically."""
    from .files import write_atomic

    suffix = Path(str(path)).suffix.lower()
    if suffix not in FORMATS:
        raise MobilecostError(f"unknown figure format {suffix or '(none)'!r}; use .png, .svg or .pdf", field="-o")
    buffer = io.BytesIO()
    fig.savefig(buffer, format=FORMATS[suffix], dpi=150)
    try:
        write_atomic(path, buffer.getvalue())
    except OSError as exc:
        raise MobilecostError(f"cannot write: {exc.strerror or exc}", where=str(path), field="-o") from None


def _check_metric(metric: str, device) -> None:
    if metric not in METRICS:
        raise MobilecostError(f"unknown metric {quoted(metric)}; use one of {', '.join(METRICS)}", field="--metric")
    if metric == "latency_ms" and device is None:
        raise MobilecostError("iso-latency contours need --device", field="--metric")


def _levels(values: np.ndarray, count: int = 9) -> np.ndarray:
    """Round-number contour levels spread over the range (1-2-5 steps, log spaced)."""
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    nice = np.array([1, 1.5, 2, 3, 4, 5, 6, 8])
    decades = np.arange(np.floor(np.log10(max(lo, 1e-12))) - 1, np.ceil(np.log10(hi)) + 1)
    candidates = np.unique((nice[None, :] * 10.0 ** decades[:, None]).ravel())
    inside = candidates[(candidates > lo) & (candidates < hi)]
    if inside.size > count:
        inside = inside[np.round(np.linspace(0, inside.size - 1, count)).astype(int)]
    return np.unique(inside)


def _published_points(variant: str):
    seen, points = set(), []
    for p in published_rows():
        if p.variant == variant and "quant" not in p.label.lower() and (p.alpha, p.resolution) not in seen:
            seen.add((p.alpha, p.resolution))
            points.append(p)
    return points


def plot_tradeoff(variants, metric="macs", device=None, semantics=None, convention="paper", mode="exact",
                  alphas=None, resolutions=None, on_step=None):
    """The alpha-rho plane of each variant: shaded metric, iso-metric contours, published checkpoints.

    In exact mode the contours follow the reference rounding (channels in steps of 8 or truncated,
    sides in whole pixels), and the papers' smooth algebra is drawn dashed beside them.
    `on_step(text)` is called once per variant drawn (progress).
    """
    from ..api import sweep

    variants = [variants] if isinstance(variants, str) else list(variants)
    _check_metric(metric, device)
    alphas = np.round(np.linspace(0.2, 1.45, 126), 6) if alphas is None else np.asarray(alphas, float)
    resolutions = np.arange(88, 329, 2) if resolutions is None else np.asarray(resolutions)
    label, scale = METRICS[metric]
    smooth_overlay = mode == "exact" and metric in ("macs", "params", "act_peak_bytes")
    fig = new_figure(5.6 * len(variants) + 0.6, 5.2)
    axes = fig.subplots(1, len(variants), squeeze=False)[0]
    for ax, variant in zip(axes, variants):
        frame = sweep(variant, alphas, resolutions=resolutions, semantics=semantics, convention=convention,
                      device=device, mode=mode)
        name = frame["variant"].iloc[0]
        grid = frame[metric].to_numpy(float).reshape(alphas.size, resolutions.size).T * scale
        mesh = ax.pcolormesh(alphas, resolutions, grid, shading="nearest", cmap="viridis", norm="log", rasterized=True)
        levels = _levels(grid)
        lines = ax.contour(alphas, resolutions, grid, levels=levels, colors="white", linewidths=1.0)
        ax.clabel(lines, fmt=lambda v: f"{v:g}", fontsize=7)
        if smooth_overlay:
            ideal = sweep(variant, alphas, resolutions=resolutions, semantics=semantics,
                          convention=convention, mode="ideal")
            ideal_grid = ideal[metric].to_numpy(float).reshape(alphas.size, resolutions.size).T * scale
            ax.contour(alphas, resolutions, ideal_grid, levels=levels, colors="white", linewidths=0.7,
                       linestyles="dashed", alpha=0.75)
        if metric == "latency_ms":  # the model's error band: where the low and high ends reach each level
            for edge in ("latency_ms_low", "latency_ms_high"):
                edge_grid = frame[edge].to_numpy(float).reshape(alphas.size, resolutions.size).T * scale
                ax.contour(alphas, resolutions, edge_grid, levels=levels, colors="white", linewidths=0.6,
                           linestyles="dotted", alpha=0.8)
        for p in _published_points(name):
            if alphas.min() <= p.alpha <= alphas.max() and resolutions.min() <= p.resolution <= resolutions.max():
                ax.plot(p.alpha, p.resolution, marker="o", ms=5, mfc="#ff7f0e", mec="black", mew=0.6, ls="none")
                if p.top1:
                    ax.annotate(f"{p.top1:g}%", (p.alpha, p.resolution), xytext=(3, 3), textcoords="offset points",
                                fontsize=6.5, color="white", path_effects=_outline())
        title = FAMILY_STYLE.get(name, (_title(variant, semantics),))[0]
        ax.set_title(f"{title}: iso-{ISO_NAMES[metric]} lines ({mode} mode)", fontsize=10)
        ax.set_xlabel("width multiplier α")
        ax.set_ylabel("input resolution (pixels) = round(224 ρ)")
        sec = ax.secondary_yaxis("right", functions=(lambda r: r / 224, lambda q: q * 224))
        sec.set_ylabel("resolution multiplier ρ")
        bar = fig.colorbar(mesh, ax=ax, label=label, pad=0.1)
        plain_ticks(bar.ax.yaxis)
        if on_step:
            on_step(name)
    handles = [
        _line_handle("white", "-", "exact (reference rounding)" if mode == "exact" else "papers' algebra (ideal mode)",
                     edge=True),
        _line_handle("white", "--", "papers' algebra (no rounding)", edge=True),
        _marker_handle("#ff7f0e", "o", "published checkpoint, top-1 %"),
    ]
    if metric == "latency_ms":
        handles[1] = _line_handle("white", ":", "error band: low and high end reach the level", edge=True)
    shown = handles if smooth_overlay or metric == "latency_ms" else handles[::2]
    fig.legend(handles=shown, loc="outside upper center", ncol=3 if len(variants) > 1 else 2, fontsize=7.5,
               facecolor="#cccccc")
    note = (f"Counts from mobilecost {mode} mode; {CONVENTION_TEXT[convention]}; MAC = multiply-accumulate "
            f"(FLOPs = 2 x MACs).")
    if metric == "act_peak_bytes":
        note += " Peak memory: the largest live set of activations, sequential schedule, fp32."
    if device is not None:
        note += f" Latency: {device_label(device)}."
        if metric == "latency_ms":
            note += " Dotted: where the low and the high end of that band reach each level."
    footnote(fig, note + f" Checkpoints: {PAPERS}.")
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
    axis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:.1g}"[0] in "25" else ""))


def device_label(device) -> str:
    from ..latency.devices import load_device

    return load_device(device).label()


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
    """Every published float checkpoint of the four base networks with a top-1 and a MACs figure."""
    families = set(families or FAMILY_STYLE)
    return [p for p in published_rows()
            if p.variant in families and p.top1 is not None and p.macs_millions
            and "quant" not in p.label.lower()]


def pareto_front(x, y):
    """Indices of the points no other point beats (lower or equal x with higher y), by increasing x."""
    order = np.lexsort((-np.asarray(y), np.asarray(x)))
    front, best = [], -np.inf
    for i in order:
        if y[i] > best:
            front.append(i)
            best = y[i]
    return front


def plot_accuracy(families=None, device=None, semantics=None, on_step=None):
    """ImageNet top-1 against MACs (and against simulated latency on a device), with Pareto fronts.
    `on_step(text)` is called once per checkpoint whose latency is simulated (progress)."""
    points = accuracy_points(families)
    if not points:
        raise MobilecostError("no published checkpoint with an accuracy for these variants", field="VARIANT")
    panels = 2 if device is not None else 1
    fig = new_figure(6.4 * panels, 5.0)
    axes = fig.subplots(1, panels, squeeze=False)[0]
    latency = _checkpoint_latency(points, device, semantics, on_step) if device is not None else None
    for family, (label, colour, marker) in FAMILY_STYLE.items():
        idx = [i for i, p in enumerate(points) if p.variant == family]
        if not idx:
            continue
        top1 = np.array([points[i].top1 for i in idx])
        xs = [np.array([points[i].macs_millions for i in idx])]
        if latency is not None:
            xs.append(latency[idx])
        for ax, x in zip(axes, xs):
            ax.scatter(x, top1, s=22, color=colour, marker=marker, edgecolor="black", linewidth=0.4,
                       label=f"{label} ({len(idx)} published figures)", zorder=3)
            front = pareto_front(x, top1)
            ax.step(x[front], top1[front], where="post", color=colour, lw=1.2, alpha=0.8, zorder=2)
    axes[0].set_xlabel("MACs (millions of multiply-accumulates, as published; log scale)")
    if latency is not None:
        axes[1].set_xlabel(f"simulated latency (ms) on {device} (log scale)")
    for ax in axes:
        ax.set_xscale("log")
        plain_ticks(ax.xaxis)
        ax.set_ylabel("ImageNet top-1 accuracy (%)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    axes[0].set_title("Accuracy against multiply-accumulates (cf. MobileNets Fig. 4-5)", fontsize=10)
    if latency is not None:
        axes[1].set_title("Accuracy against simulated latency", fontsize=10)
    note = ("Each point a published float checkpoint (paper tables, TF-slim READMEs, Keras, torchvision); "
            "lines: each family's Pareto front (no cheaper checkpoint is more accurate). Sources: " + PAPERS + ".")
    if latency is not None:
        note += f" Latency: mobilecost exact counts on {device_label(device)}."
    footnote(fig, note)
    return fig


def _checkpoint_latency(points, device, semantics, on_step=None):
    from ..api import sweep

    out = np.empty(len(points))
    for i, p in enumerate(points):
        row = sweep(p.variant, [p.alpha], resolutions=[p.resolution], semantics=semantics, device=device)
        out[i] = row["latency_ms"].iloc[0]
        if on_step:
            on_step(f"{p.variant} {p.alpha:g}-{p.resolution}")
    return out
