"""Figures of one configuration: per-block stacked bars, and each layer on a device's roofline."""

from __future__ import annotations

import numpy as np

from ..conventions import CONVENTION_TEXT
from ..errors import MobilecostError
from .plots import device_label, plain_ticks, footnote, new_figure
from ..spec.roles import SQUEEZE_EXCITE, Role

ROLES = (  # (role, colour): how a block's cost is split in the stacked bars
    ("full conv", "#8c564b"),
    ("expand 1x1", "#1f77b4"),
    ("depthwise", "#ff7f0e"),
    ("squeeze-excite", "#9467bd"),
    ("project / pointwise 1x1", "#2ca02c"),
    ("fully connected", "#d62728"),
    ("attention QK^T, attention x V", "#e377c2"),
    ("element-wise (pool, add, scale, softmax)", "#7f7f7f"),
)


def layer_role(role: str, op: str) -> str:
    """The stacked bars' group of a layer with this block role (`Layer.role`) and op."""
    if role in SQUEEZE_EXCITE:
        return "squeeze-excite"
    if op == "depthwise":
        return "depthwise"
    if op == "pointwise":
        return "expand 1x1" if role == Role.expand else "project / pointwise 1x1"
    if op == "conv":
        return "full conv"
    if op == "fc":
        return "fully connected"
    if op in ("attention_scores", "attention_values"):
        return "attention QK^T, attention x V"
    return "element-wise (pool, add, scale, softmax)"


def _panels(frame, device, dtype_bytes: int):
    panels = [
        ("macs", "MACs (millions)", 1e-6),
        ("params", "parameters (thousands)", 1e-3),
        ("act_bytes", f"output activations (kB, {dtype_bytes}-byte elements)", 1e-3),
    ]
    if device is not None:
        panels.append(("time_ms", "simulated time (ms)", 1.0))
    return panels


def plot_layers(variant, alpha=1.0, resolution=None, rho=None, device=None, semantics=None, convention="paper",
                dtype_bytes: int = 4):
    """Per-block stacked bars (one stack per block, split by layer role) of MACs, params, activations
    (and simulated time when a device is given) for one configuration."""
    from ..api import evaluate, layer_roles

    frame = evaluate(variant, alpha, rho, resolution, "exact", semantics, convention)
    if device is not None:
        from ..latency.devices import load_device

        dtype_bytes = load_device(device).dtype_bytes  # the device's own precision
    frame["act_bytes"] = frame["act_out"] * dtype_bytes
    attrs = dict(frame.attrs)
    if device is not None:
        from ..api import estimate_latency

        times = estimate_latency(variant, device, alpha, rho, resolution, "exact", semantics)
        frame = frame.merge(times[["name", "time_ms"]], on="name", how="left")
    roles = layer_roles(variant, semantics)
    frame["role"] = [layer_role(roles[n], o) for n, o in zip(frame["name"], frame["op"])]
    blocks = list(dict.fromkeys(frame["block"].where(frame["block"] != "", frame["name"])))
    frame["group"] = frame["block"].where(frame["block"] != "", frame["name"])
    panels = _panels(frame, device, dtype_bytes)
    fig = new_figure(max(8.0, 0.32 * len(blocks) + 3), 2.1 * len(panels) + 1.4)
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    x = np.arange(len(blocks))
    table = frame.pivot_table(index="group", columns="role", values=[p[0] for p in panels], aggfunc="sum",
                              fill_value=0).reindex(blocks)
    for ax, (field, label, scale) in zip(axes, panels):
        bottom = np.zeros(len(blocks))
        for role, colour in ROLES:
            if (field, role) not in table.columns:
                continue
            values = table[(field, role)].to_numpy(float) * scale
            if not values.any():
                continue
            ax.bar(x, values, bottom=bottom, color=colour, width=0.8, label=role)
            bottom += values
        ax.set_ylabel(label, fontsize=8)
        ax.grid(True, axis="y", alpha=0.3)
        total = frame[field].sum() * scale
        ax.set_title(f"{label}: total {total:,.1f}", fontsize=8.5, loc="left")
        ax.set_ylim(0, max(bottom.max(), 1e-12) * 1.08)  # zero-height segments would pin the top
    axes[-1].set_xticks(x, blocks, rotation=70, fontsize=7)
    axes[-1].set_xlabel("block (in network order)")
    handles, labels = [], []
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="outside right upper", ncol=1, fontsize=7.5, title="layer role",
               title_fontsize=8)
    fig.suptitle(f"{attrs.get('title', variant)} α={attrs['alpha']:g}, {attrs['resolution']}x{attrs.get('width', attrs['resolution'])}: "
                 f"cost per block", fontsize=10, x=0.02, ha="left")
    note = (f"mobilecost exact mode, semantics {attrs['semantics']}; MAC = multiply-accumulate; "
            f"{CONVENTION_TEXT[convention]}; activations = each layer's output tensor. Table source: "
            f"{_table_source(variant, semantics)}.")
    if device is not None:
        note += f" Time: {device_label(device)}."
    footnote(fig, note)
    return fig


def _table_source(variant, semantics) -> str:
    from ..numeric.checked import checked_spec

    return checked_spec(variant, semantics).source


def plot_roofline(variant, device, alpha=1.0, resolution=None, rho=None, semantics=None):
    """Each layer as a point on the device's roofline: arithmetic intensity against attained MAC rate."""
    from ..latency.devices import load_device
    from ..api import estimate_latency, layer_roles

    if device is None:
        raise MobilecostError("a roofline needs a device profile", field="--device")
    profile = load_device(device)
    frame = estimate_latency(variant, profile, alpha, rho, resolution, "exact", semantics)
    frame = frame[(frame["macs"] > 0) & (frame["time_ms"] > 0)].copy()
    frame["intensity"] = frame["macs"] / frame["bytes_moved"]
    frame["gmacs"] = frame["macs"] / (frame["time_ms"] * 1e6)
    roles = layer_roles(variant, semantics)
    frame["role"] = [layer_role(roles[n], o) for n, o in zip(frame["name"], frame["op"])]
    fig = new_figure(10.8, 5.6)
    ax = fig.subplots()
    lo, hi = frame["intensity"].min() / 3, frame["intensity"].max() * 3
    xs = np.geomspace(lo, hi, 200)
    peak = profile.peak.gmacs
    for bw, style, name in ((profile.memory.dram_gb_s, "-", "DRAM"), (profile.memory.cache_gb_s, "--", "cache")):
        ax.plot(xs, np.minimum(peak, bw * xs), color="black", ls=style, lw=1.2,
                label=f"roofline: {peak:.3g} GMAC/s peak, {name} {bw:g} GB/s")
    eff = profile.efficiency
    fitted = "calibrated" if profile.status == "calibrated" else "prior"
    ax.plot(xs, np.minimum(peak, profile.memory.dram_gb_s * eff.memory * xs), color="grey", ls="-.", lw=1,
            label=f"DRAM {profile.memory.dram_gb_s:g} GB/s x {eff.memory:.2g} ({fitted} memory efficiency)")
    for role, factor, colour in (("conv", eff.conv, "#1f77b4"), ("depthwise", eff.depthwise, "#ff7f0e"),
                                 ("pointwise", eff.pointwise, "#2ca02c")):
        ax.axhline(peak * factor, color=colour, ls=":", lw=1, label=f"{role} ceiling: {factor:.2g} x peak ({fitted} efficiency)")
    colours = dict(ROLES)
    share = frame["time_ms"] / frame["time_ms"].sum()  # point area: the layer's share of the simulated time
    for role in dict.fromkeys(frame["role"]):
        part = frame[frame["role"] == role]
        ax.scatter(part["intensity"], part["gmacs"], s=8 + 600 * share[part.index], color=colours[role],
                   edgecolor="black", linewidth=0.4, alpha=0.85,
                   label=f"{role} ({len(part)} layer{'' if len(part) == 1 else 's'})", zorder=3)
    for k, index in enumerate(share.sort_values(ascending=False).index[:4]):  # the layers that dominate the time
        row = frame.loc[index]
        ax.annotate(f"{row['name']} {share[index] * 100:.0f} %", (row["intensity"], row["gmacs"]), xytext=(6, 10 + 9 * k),
                    arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "grey"},
                    textcoords="offset points", fontsize=6.5, zorder=4)
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_ticks(ax.xaxis)
    plain_ticks(ax.yaxis)
    ax.set_xlabel("arithmetic intensity (MACs per byte moved: activations in + out, weights)")
    ax.set_ylabel("attained rate (GMAC/s) = MACs / simulated time")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=6.5, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    attrs = frame.attrs
    ax.set_title(f"{attrs.get('title', variant)} α={attrs['alpha']:g}, {attrs['resolution']}x{attrs.get('width', attrs['resolution'])} "
                 f"on {profile.name}", fontsize=10)
    footnote(fig, f"Bytes at {profile.precision}; each point one layer with multiply-accumulates (element-wise steps "
                  f"omitted), its area the layer's share of the simulated time, the four largest labelled. Black: the "
                  f"spec-sheet roofline; dotted and dash-dotted: the {fitted} ceilings the model uses. A point on a "
                  f"ceiling restates the fit; its height is what the model attains. "
                  + ("" if profile.layout is None or profile.layout.channel_block is None else
                     f"A depthwise layer whose channels are not whole blocks of {profile.layout.channel_block} sits "
                     f"below its ceiling: the runtime runs it in a slower kernel (more compute, a cost per channel). ")
                  + ("" if profile.layout is None or profile.layout.pointwise_block is None else
                     f"1x1 convolutions sit below their ceiling by the work the runtime adds: channels padded to "
                     f"blocks of {profile.layout.pointwise_block} and a cost per output element. ")
                  + f"Peak: {profile.peak.arithmetic()} "
                  f"({profile.peak.source}). {profile.label()}.")
    return fig
