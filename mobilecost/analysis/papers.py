"""The papers' cost tables, reproduced by running the engine on (transformed) tables.

Published figures come from ``data/paper_tables.csv`` and ``data/published_models.csv`` (each row
with its source); mobilecost's figures are always computed: the one-layer network of MobileNets
Table 3 is a two-row v1 table built here, the Conv and Shallow MobileNets of Tables 4-5 are
``transforms`` of the V1 table, and the MobileNetV2 memory table is read off the per-layer shapes.
Each function returns a DataFrame with ``published``, ``mobilecost`` and ``difference`` columns.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd
import sympy as sp

from ..errors import MobilecostError, quoted
from .explain import COCO_DETECTOR_CLASSES, decimals_of, prints_as
from ..api import evaluate, layer_roles
from ..numeric.checked import as_spec
from ..spec.files import list_variants
from ..spec.loader import load_variant, with_backbone
from .published import data_rows, published_head_rows, published_rows, published_v4_rows
from ..spec.models import InputSpec, V1Row, VariantSpec, WidthSpec
from ..spec.roles import Role
from .transforms import drop_rows, full_convolutions, separable_rows_at

PAPERS = ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3", "mobilenet_v4")


@lru_cache(maxsize=1)
def paper_figures() -> tuple[dict, ...]:
    return tuple({**r, "value": float(r["value"]), "printed": r["value"]} for r in data_rows("paper_tables.csv"))


def _figure(table: str, row: str, metric: str) -> dict:
    for r in paper_figures():
        if r["table"] == table and r["row"] == row and r["metric"] == metric:
            return r
    raise MobilecostError(f"no published figure {table} / {row} / {metric}", field="data/paper_tables.csv")


def _row(table, row, metric, published, ours, source, note="", significant=None, decimals=None, printed=None) -> dict:
    """One line of a paper's table; `printed`: the published figure as the source prints it (default: as read)."""
    if published is not None and not _prints_as(ours, published, significant, decimals):
        precision = f"{significant} significant figures" if significant else "the printed precision"
        note = (f"{note}; " if note else "") + f"residual {ours - published:+.3f} beyond {precision}"
    return {"table": table, "row": row, "metric": metric, "published": published, "mobilecost": ours,
            "difference": None if published is None else ours - published, "source": source, "note": note,
            "printed": printed if printed is not None else ("" if published is None else f"{published:g}")}


def _prints_as(ours: float, published: float, significant=None, decimals=None) -> bool:
    """Does `ours` print as `published` at its printed precision (rounded or truncated)?"""
    if significant:
        return float(f"{ours:.{significant}g}") == published
    decimals = decimals_of(published) if decimals is None else decimals
    return prints_as(ours, published, decimals, "rounded") or prints_as(ours, published, decimals, "truncated")


def separable_ratio() -> tuple[sp.Expr, sp.Expr]:
    """MobileNets Eq. (5): depthwise separable / full convolution cost, simplified to 1/N + 1/D_K^2."""
    dk, m, n, df = sp.symbols("D_K M N D_F", positive=True)
    full = dk * dk * m * n * df * df
    separable = dk * dk * m * df * df + m * n * df * df
    ratio = separable / full
    return ratio, sp.expand(sp.simplify(ratio))


def _one_layer_table() -> VariantSpec:
    """MobileNets Table 3's subject: one 3x3 depthwise separable layer on a 14x14x512 map.

    A 1x1 ``feed`` row makes the 512 input channels (so alpha thins them too, as in the paper);
    the figures sum every row but ``feed``.
    """
    rows = (V1Row(type="conv", s=1, filter="1x1x1x512", input="14x14x1", name="feed"),
            V1Row(type="conv dw", s=1, filter="3x3x512", input="14x14x512"),
            V1Row(type="conv", s=1, filter="1x1x512x512", input="14x14x512"))
    return VariantSpec(name="table3_layer", title="one 14x14x512 layer", source="arXiv:1704.04861 Table 3",
                       format="v1", input=InputSpec(size=14, channels=1),
                       width=WidthSpec(rounding="truncate", min_channels=8), layers=rows)


def _layer_sum(frame: pd.DataFrame, column: str) -> float:
    return float(frame.loc[frame["name"] != "feed", column].sum()) / 1e6


def _millions(frame: pd.DataFrame, metric: str, weights_only=False) -> float:
    t = frame.attrs["totals"]
    return (t["weights"] if weights_only else t[metric]) / 1e6


def v1_tables(variant="mobilenet_v1") -> pd.DataFrame:
    spec = as_spec(variant)
    rows = []
    base = evaluate(spec)
    # Table 2: share by layer type. MACs shares from MACs; parameter shares from weights only.
    tab = "mobilenet_v1 Table 2"
    groups = base.groupby("type", sort=False)[["macs", "weights"]].sum()
    groups = groups[(groups["macs"] > 0) | (groups["weights"] > 0)]
    shares = groups / groups.sum() * 100
    printed_sum = 0.0
    for kind in shares.index:
        for metric, col in (("macs_pct", "macs"), ("params_pct", "weights")):
            fig = _figure(tab, kind, metric)
            note = "shares of weights only (biases and BN left out) match the paper" if col == "weights" else ""
            if metric == "macs_pct":
                printed_sum += fig["value"]
            if metric == "macs_pct" and abs(fig["value"] - shares.loc[kind, col]) > 0.005:
                note = (f"printed {fig['value']:.2f} is the measured {shares.loc[kind, col]:.2f} with two digits "
                        "swapped (erratum): see the column sum below")
            rows.append(_row(tab, kind, metric, fig["value"], float(shares.loc[kind, col]), fig["source"], note,
                             printed=fig["printed"]))
    rows.append(_row(tab, "sum of the printed MAC shares", "macs_pct", printed_sum, 100.0, "",
                     "a share table sums to 100 %; the printed column does not", printed=f"{printed_sum:.2f}"))
    # Table 3: one layer, full conv vs separable, then alpha, then rho.
    tab = "mobilenet_v1 Table 3"
    layer = _one_layer_table()
    cases = [("Convolution", evaluate(full_convolutions(layer))), ("Depthwise Separable Conv", evaluate(layer)),
             ("alpha = 0.75", evaluate(layer, alpha=0.75)), ("rho = 0.714", evaluate(layer, alpha=0.75, rho=0.714))]
    for name, frame in cases:
        for metric in ("macs_millions", "params_millions"):
            fig = _figure(tab, name, metric)
            ours = _layer_sum(frame, "macs" if metric == "macs_millions" else "weights")
            note = f"input {frame.attrs['resolution']}x{frame.attrs['resolution']}" if name.startswith("rho") else ""
            rows.append(_row(tab, name, metric, fig["value"], ours, fig["source"], note, printed=fig["printed"]))
    # Tables 4 and 5: transformed networks; Tables 6 and 7: alpha and rho.
    pub = {p.label: p for p in published_rows() if "1704.04861" in p.source}
    conv = evaluate(full_convolutions(spec))
    shallow_rows = separable_rows_at(spec, 14, 512)
    shallow = evaluate(drop_rows(spec, shallow_rows))
    for tab, label, frame, how in [
        ("mobilenet_v1 Table 4", "MobileNetV1 (Conv MobileNet, full conv)", conv,
         "every separable pair replaced by a full 3x3 convolution"),
        ("mobilenet_v1 Table 5", "MobileNetV1 (Shallow, 5x 14x14x512 layers removed)", shallow,
         f"{len(shallow_rows) // 2} separable 14x14x512 blocks dropped"),
    ]:
        p = pub[label]
        rows.append(_row(tab, label, "macs_millions", p.macs_millions, _millions(frame, "macs"), p.source, how,
                         printed=p.macs_printed))
        rows.append(_row(tab, label, "params_millions", p.params_millions, _millions(frame, "params"), p.source, how,
                         printed=p.params_printed))
    for p in published_rows():
        if "1704.04861" in p.source and p.variant == spec.name and ("Table 6" in p.source or "Table 7" in p.source):
            frame = evaluate(spec, p.alpha, resolution=p.resolution)
            tab = "mobilenet_v1 " + ("Table 6" if "Table 6" in p.source else "Table 7")
            row = f"alpha={p.alpha:g} {p.resolution}"
            rows.append(_row(tab, row, "macs_millions", p.macs_millions, _millions(frame, "macs"), p.source,
                             printed=p.macs_printed))
            rows.append(_row(tab, row, "params_millions", p.params_millions, _millions(frame, "params"), p.source,
                             printed=p.params_printed))
    return pd.DataFrame(rows)


def _headline(variant: str, source_key: str, table: str) -> list[dict]:
    rows = []
    for p in published_rows():
        if p.variant == variant and source_key in p.source and (p.macs_millions or p.params_millions):
            frame = evaluate(variant, p.alpha, resolution=p.resolution)
            row = f"{p.label} alpha={p.alpha:g} {p.resolution}"
            note = "see `mobilecost explain` for the walk"
            if p.macs_millions:
                rows.append(_row(table, row, "macs_millions", p.macs_millions, _millions(frame, "macs"), p.source, note,
                                 printed=p.macs_printed))
            if p.params_millions:
                rows.append(_row(table, row, "params_millions", p.params_millions, _millions(frame, "params"),
                                 p.source, note, printed=p.params_printed))
    return rows


def _decimals_of_text(text: str) -> int:
    return len(text.strip().partition(".")[2])


def head_rows(paper: str) -> list[dict]:
    """A paper's detection and segmentation tables (data/published_heads.csv): each row beside
    mobilecost's count of its head table, read as the row says (reduced tail, output stride, classes,
    input); a row no shipped table counts is shown as published only. MACs in B, parameters in M with
    BN folded (the torchvision reading, BN gamma/beta counted, in the note when it prints differently)."""
    rows = []
    for h in published_head_rows():
        if h.paper != paper:
            continue
        tab, label, p = f"{paper} {h.table}", f"{h.row} {h.height}x{h.width}", h.figure
        notes = [text for text in (h.also_printed, h.note) if text]
        if h.variant is None:
            for metric, printed in (("params_M", p.params_printed), ("macs_B", p.macs_printed)):
                if printed:
                    rows.append({"table": tab, "row": label, "metric": metric, "published": float(printed),
                                 "mobilecost": None, "difference": None, "source": p.source, "printed": printed,
                                 "note": "; ".join([*notes, "no table for this network ships: published only"])})
            continue
        spec = load_variant(h.variant)
        changes = {key: value for key, value in (("reduced_tail", h.reduced_tail), ("output_stride", h.output_stride))
                   if value != ""}
        if changes:
            spec = with_backbone(spec, **changes)
        if h.classes is not None:
            spec = spec.model_copy(update={"classes": h.classes})
        resolution = h.height if h.height == h.width else (h.height, h.width)
        folded = evaluate(spec, resolution=resolution).attrs["totals"]
        read = ", ".join(f"{key} {'none' if value is None else value}" for key, value in changes.items())
        counted = f"{h.variant}" + (f" read with {read}" if read else "") + (
            f", {h.classes} classes" if h.classes is not None else "")
        if h.as_written:
            counted += "; see `mobilecost explain " + h.variant + "`"
        if p.params_printed:
            note = [*notes, counted]
            ours = folded["params"] / 1e6
            if not _prints_as(ours, p.params_millions, decimals=_decimals_of_text(p.params_printed)):
                with_bn = (folded["params"] + folded["bn_affine"]) / 1e6
                note.append(f"with BN gamma/beta counted: {with_bn:.3f} M")
                if spec.classes in COCO_DETECTOR_CLASSES:  # COCO's 80 classes or 90 ids, a background score or not
                    for other in sorted({81, 90, 91} - {spec.classes}):
                        alt = evaluate(spec.model_copy(update={"classes": other})).attrs["totals"]["params"] / 1e6
                        note.append(f"with {other} class scores per anchor: {alt:.3f} M")
            rows.append(_row(tab, label, "params_M", p.params_millions, ours, p.source, "; ".join(note),
                             decimals=_decimals_of_text(p.params_printed), printed=p.params_printed))
        if p.macs_printed:
            rows.append(_row(tab, label, "macs_B", float(p.macs_printed), folded["macs"] / 1e9, p.source,
                             "; ".join([*notes, counted]), decimals=_decimals_of_text(p.macs_printed),
                             printed=p.macs_printed))
    return rows


def v2_tables(variant="mobilenet_v2", v1_variant="mobilenet_v1") -> pd.DataFrame:
    rows = _headline(variant, "1801.04381", "mobilenet_v2 headline")
    rows += memory_table(v1_variant, variant)
    rows += head_rows("mobilenet_v2")
    return pd.DataFrame(rows)


def v3_tables() -> pd.DataFrame:
    rows = []
    for variant in ("mobilenet_v3_large", "mobilenet_v3_small"):
        for key in ("1905.02244 v1", "1905.02244 later", "ICCV 2019"):
            rows += _headline(variant, key, f"mobilenet_v3 Table 3 ({key})")
    rows += head_rows("mobilenet_v3")
    rows += latency_rows("mobilenet_v3")
    rows += [{"table": "mobilenet_v3 abstract", "row": c["claim"], "metric": c["metric"], "published": c["published"],
              "mobilecost": c["simulated"], "difference": c["simulated"] - c["published"], "source": c["source"],
              "note": c["verdict"], "printed": f"{c['published']:.3g}"} for c in v3_latency_claims()]
    return pd.DataFrame(rows)


def v4_tables() -> pd.DataFrame:
    """MobileNetV4's ImageNet-1K table: each model's MACs (G) and parameters (M) at its own resolution.

    The printed parameters include BN gamma and beta (Conv-S: 3.749 M folded, 3.774 M with them, printed
    3.8 M), so they are compared with the torchvision convention. MACs are compared without attention's
    two matrix products and, for the hybrid models, with them.
    """
    tab = "mobilenet_v4 ImageNet-1K table"
    rows = []
    shipped = set(list_variants())
    for p in published_v4_rows():
        label = f"{p.label} {p.resolution}x{p.resolution}"
        if p.variant not in shipped:
            rows.append({"table": tab, "row": label, "metric": "-", "published": None, "mobilecost": None,
                         "difference": None, "source": p.source, "note": "no table for this model ships"})
            continue
        totals = evaluate(p.variant, resolution=p.resolution, convention="torchvision").attrs["totals"]
        attention = totals["attn_macs"]
        rows.append(_row(tab, label, "macs_G", p.macs_millions / 1000, (totals["macs"] - attention) / 1e9, p.source,
                         "conv and fc multiply-accumulates", decimals=p.macs_decimals + 3, printed=p.macs_printed))
        if attention:
            rows.append(_row(tab, label, "macs_G with attention", p.macs_millions / 1000, totals["macs"] / 1e9,
                             p.source, f"+ {attention / 1e9:.3f} G of attention's QK^T and attention x V",
                             decimals=p.macs_decimals + 3, printed=p.macs_printed))
        rows.append(_row(tab, label, "params_M", p.params_millions, totals["params"] / 1e6, p.source,
                         "weights + biases + BN gamma/beta", decimals=p.params_decimals, printed=p.params_printed))
    return pd.DataFrame(rows)


@lru_cache(maxsize=1)
def paper_latencies() -> tuple[dict, ...]:
    """Published latencies (data/paper_latency.csv) with the shipped device profile that matches their runtime."""
    return tuple({**r, "printed": r["latency_ms"], "alpha": float(r["alpha"]), "resolution": int(r["resolution"]),
                  "latency_ms": float(r["latency_ms"]), "top1": float(r["top1"])} for r in data_rows("paper_latency.csv"))


def simulated(variant: str, alpha: float, resolution: int, device: str) -> tuple[float, float, float]:
    """(latency, low, high) in ms: the simulated latency with its error band."""
    from ..api import sweep

    row = sweep(variant, [alpha], resolutions=[resolution], device=device).iloc[0]
    return float(row["latency_ms"]), float(row["latency_ms_low"]), float(row["latency_ms_high"])


def latency_rows(paper: str) -> list[dict]:
    """Each published latency beside the simulated one on the matching profile, with its band; a row the
    profile was calibrated on is a fit, the others are predictions."""
    rows = []
    for r in paper_latencies():
        if r["paper"] != paper:
            continue
        ms, low, high = simulated(r["variant"], r["alpha"], r["resolution"], r["device"])
        inside = "inside" if low <= r["latency_ms"] <= high else "OUTSIDE"
        role = "calibration row (a fit)" if r["role"] == "calibration" else "held out (a prediction)"
        rows.append({"table": f"{paper} {r['table']} (latency, ms)", "row": f"{r['variant']} alpha={r['alpha']:g} "
                     f"{r['resolution']}", "metric": "latency_ms", "published": r["latency_ms"], "mobilecost": ms,
                     "difference": ms - r["latency_ms"], "source": r["source"],
                     "note": f"simulated on {r['device']}, band {low:.1f}-{high:.1f} ms, published {inside} it; {role}",
                     "printed": r["printed"]})
    return rows


# The abstract of arXiv:1905.02244v5: "MobileNetV3-Large is 3.2% more accurate on ImageNet classification while
# reducing latency by 20% compared to MobileNetV2. MobileNetV3-Small is 6.6% more accurate compared to a
# MobileNetV2 model with comparable latency." (Table 3: V2 1.0 and V2 0.35 are the MobileNetV2 models meant.)
V3_ABSTRACT = "arXiv:1905.02244v5 abstract; Table 3 P-1 column for the configurations"


def v3_latency_claims() -> list[dict]:
    """The abstract's two latency claims, checked against the simulated latencies and their bands.

    A claimed reduction r = 1 - t_new / t_old holds in the model when r lies between the reductions the
    bands allow, 1 - high_new / low_old and 1 - low_new / high_old; "comparable latency" holds when the two
    bands overlap."""
    by_key = {(r["variant"], r["alpha"]): r for r in paper_latencies() if r["paper"] == "mobilenet_v3"}
    device = by_key["mobilenet_v3_large", 1.0]["device"]
    large, v2 = simulated("mobilenet_v3_large", 1.0, 224, device), simulated("mobilenet_v2", 1.0, 224, device)
    reduction = 1 - large[0] / v2[0]
    lo, hi = 1 - large[2] / v2[1], 1 - large[1] / v2[2]
    small, v2_035 = simulated("mobilenet_v3_small", 1.0, 224, device), simulated("mobilenet_v2", 0.35, 224, device)
    overlap = small[1] <= v2_035[2] and v2_035[1] <= small[2]

    def fitted(*keys) -> str:  # a claim between calibration rows is reproduced by the fit, not predicted
        used = [k for k in keys if by_key[k]["role"] == "calibration"]
        return "; both rows are calibration rows: reproduced, not predicted" if len(used) == len(keys) else (
            "; one row is a calibration row, the other predicted" if used else "; both rows predicted")
    return [
        {"claim": "V3-Large 1.0 reduces latency by 20 % against V2 1.0", "metric": "latency_reduction_pct",
         "published": 20.0, "simulated": reduction * 100, "range": (lo * 100, hi * 100),
         "holds": lo <= 0.20 <= hi, "source": V3_ABSTRACT,
         "verdict": f"simulated {reduction * 100:.1f} %, bands allow {lo * 100:.1f} % to {hi * 100:.1f} %: "
                    + ("consistent" if lo <= 0.20 <= hi else "NOT consistent") + f" (on {device})"
                    + fitted(("mobilenet_v3_large", 1.0), ("mobilenet_v2", 1.0))},
        {"claim": "V3-Small 1.0 has latency comparable to V2 0.35", "metric": "latency_ratio_pct",
         "published": 100.0 * by_key["mobilenet_v3_small", 1.0]["latency_ms"] / by_key["mobilenet_v2", 0.35]["latency_ms"],
         "simulated": 100.0 * small[0] / v2_035[0], "range": (100.0 * small[1] / v2_035[2], 100.0 * small[2] / v2_035[1]),
         "holds": overlap, "source": V3_ABSTRACT,
         "verdict": f"simulated {small[0]:.1f} ms (band {small[1]:.1f}-{small[2]:.1f}) against {v2_035[0]:.1f} ms "
                    f"(band {v2_035[1]:.1f}-{v2_035[2]:.1f}): bands " + ("overlap" if overlap else "DO NOT overlap")
                    + f" (on {device})" + fitted(("mobilenet_v3_small", 1.0), ("mobilenet_v2", 0.35))},
    ]


def _largest_per_side(frame: pd.DataFrame, skip) -> dict[int, int]:
    """side -> the most channels of any tensor materialised at that side."""
    kept = frame[~frame["name"].map(skip)]
    kept = kept[kept["act_out"] > 0]
    return {int(s): int(c) for s, c in kept.groupby("out_side")["out_ch"].max().items()}


def _block_input_side(frame: pd.DataFrame, roles: dict[str, str]) -> dict[int, int]:
    """side of a block's *input* -> most output channels of blocks starting there (a row-wise reading)."""
    first = frame.groupby("block", sort=False).first()
    last = frame[frame["name"].map(roles) == Role.project].set_index("block")["out_ch"]
    out: dict[int, int] = {}
    for block, ch in last.items():
        side = int(first.loc[block, "in_side"])
        out[side] = max(out.get(side, 0), int(ch))
    return out


def memory_table(v1_variant="mobilenet_v1", v2_variant="mobilenet_v2", bytes_per_element=2) -> list[dict]:
    """MobileNetV2 Table 3: the most channels, and their memory, materialised at each spatial side.

    V1: every layer output is materialised. V2 under the Sec. 5.1 schedule: only block inputs and
    outputs are (expanded and depthwise tensors are sliced), and the first layer trick keeps the
    stem's 32-channel output from being materialised whole.
    """
    tab = "mobilenet_v2 Table 3"
    rows = []
    v1 = evaluate(v1_variant)
    v2 = evaluate(v2_variant)
    v2_roles = layer_roles(v2_variant)

    def sliced(name: str) -> bool:  # the stem's output, expanded and depthwise tensors: never whole
        return v2_roles[name] in (Role.stem, Role.expand, Role.dw)

    readings = {
        "MobileNetV1": ("largest layer output at that side", _largest_per_side(v1, lambda n: False), {}),
        "MobileNetV2": ("block tensors at that side (expanded sliced, first-layer trick)",
                        _largest_per_side(v2, sliced), _block_input_side(v2, v2_roles)),
    }
    for net, (reading, per_side, by_input) in readings.items():
        best = 0
        for side in (112, 56, 28, 14, 7, 1):
            ch = per_side.get(side, 0)
            k = side * side * ch * bytes_per_element / 1000
            best = max(best, k)
            fig_c = _figure(tab, f"{net} {side}", "channels")
            note = reading
            if ch != fig_c["value"] and by_input.get(side) == fig_c["value"]:
                note = (f"printed {int(fig_c['value'])} = output channels of the blocks whose *input* is {side}x{side} "
                        f"(a stride-2 block's output counted at its input side); at {side}x{side} itself the "
                        f"largest materialised tensor has {ch} channels")
            rows.append(_row(tab, f"{net} {side}x{side}", "channels", fig_c["value"], ch, fig_c["source"], note,
                             printed=fig_c["printed"]))
            fig_m = _figure(tab, f"{net} {side}", "memory_k")
            rows.append(_row(tab, f"{net} {side}x{side}", "memory_k (16-bit)", fig_m["value"], k, fig_m["source"],
                             f"{side}x{side}x{ch} x {bytes_per_element} bytes / 1000", significant=2,
                             printed=fig_m["printed"]))
        fig = _figure(tab, f"{net} max", "memory_k")
        rows.append(_row(tab, f"{net} max", "memory_k (16-bit)", fig["value"], best, fig["source"],
                         "the latest arXiv text: bytes of 16-bit activations", significant=2, printed=fig["printed"]))
        conf = _figure(tab + " (conference)", f"{net} max", "memory_k")
        rows.append(_row(tab + " (conference)", f"{net} max", "memory_k", conf["value"], best / bytes_per_element,
                         conf["source"], "the conference text: the same tensor counted in elements (1 byte each)",
                         significant=2, printed=conf["printed"]))
    return rows


def paper_tables(paper: str) -> pd.DataFrame:
    if paper == "mobilenet_v1":
        return v1_tables()
    if paper == "mobilenet_v2":
        return v2_tables()
    if paper in ("mobilenet_v3", "mobilenet_v3_large", "mobilenet_v3_small"):
        return v3_tables()
    if paper == "mobilenet_v4":
        return v4_tables()
    raise MobilecostError(f"unknown paper {quoted(paper)}; use one of {', '.join(PAPERS)}", field="PAPER")
