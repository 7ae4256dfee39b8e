"""Activation memory: which tensors are live at every step of a schedule, and the peak live set.

A tensor lives from the step that makes it to the last step that reads it on any branch
(``Layer.inputs`` is the graph), so a residual block's input stays live across the block and an SE
block's depthwise output across the squeeze. The live set of a step is every tensor alive during it,
its own output included; the **peak** is the largest live set, never a sum over steps.

Schedules:

* ``sequential`` -- one layer per step, every output materialised whole;
* ``v2-sliced`` -- MobileNetV2 (arXiv:1801.04381) Sec. 5.1: an inverted residual block (expand ->
  depthwise -> project) runs as one step over ``k`` slices of its expanded channels, so only one
  slice of the expanded tensor and of the depthwise output exists at a time (``k`` defaults to the
  block's expansion factor t); blocks with SE, or without an expansion layer, are not sliced.

A shortcut add that the rounded widths rule out at some alpha has no output there: its readers read
the projection instead. Which adds exist depends on alpha only, so the plan gives the live tensors
for each pattern of present adds, and the numbers come from the numeric stage's per-layer values.
"""

from __future__ import annotations

import numpy as np

from ..errors import MobilecostError
from .columns import GridColumn, weighted_totals_peak
from .plan import INPUT, MemoryPlan
from .values import LayerValues

def plan_weights(plan: MemoryPlan, present: tuple[bool, ...]) -> np.ndarray:
    """(steps, 1 + layers): 1 where a tensor (the input, then each layer's output) is live in a step."""
    index = {INPUT: 0, **{layer.name: i + 1 for i, layer in enumerate(plan.layers)}}
    out = np.zeros((len(plan.steps), len(plan.layers) + 1), dtype=np.int64)
    for row, live in enumerate(plan.members(present)):
        out[row, [index[t] for t in live]] = 1
    return out


def tensor_sizes(values: LayerValues):
    """The input, then every layer's output, in elements: a column (1 + layers) x points."""
    act_in, act_out = values["act_in"], values["act_out"]
    if isinstance(act_out, GridColumn):
        first = act_in.only([0])
        return GridColumn(act_out.factors, act_out.layers + 1, np.concatenate([first.owner, act_out.owner + 1]),
                          np.concatenate([first.term, act_out.term]), np.concatenate([first.coef, act_out.coef]),
                          {**first.dense, **{i + 1: v for i, v in act_out.dense.items()}})
    return np.vstack([np.asarray(act_in)[:1], np.asarray(act_out)])


def presence(plan: MemoryPlan, values: LayerValues) -> np.ndarray:
    """Which shortcut adds exist: bool array (residual adds, points), or (residual adds, alphas) on a grid."""
    act_out = values["act_out"]
    if isinstance(act_out, GridColumn):
        rows = [v > 0 for v in act_out.layers_values(plan.residuals).values()]
        if any(np.any(r != r[:, :1]) for r in rows):
            raise MobilecostError("a shortcut's presence changes with the resolution", field="table")
        return np.array([r[:, 0] for r in rows], dtype=bool).reshape(len(rows), act_out.factors.shape[0])
    return np.asarray(act_out)[list(plan.residuals)] > 0


def peak_live(plan: MemoryPlan, values: LayerValues) -> tuple[np.ndarray, np.ndarray]:
    """(peak live elements, the first step where it happens) at every point (on a grid: (alphas, rhos))."""
    if any(step.sliced for step in plan.steps):
        raise MobilecostError("the v2-sliced schedule is evaluated one configuration at a time", field="--schedule")
    sizes = tensor_sizes(values)
    present = presence(plan, values)
    patterns, group = np.unique(present.T, axis=0, return_inverse=True)
    group = group.reshape(-1)
    if isinstance(sizes, GridColumn):
        peak, where = np.empty(sizes.factors.shape), np.empty(sizes.factors.shape, dtype=np.int64)
        for g, pattern in enumerate(patterns):
            index = np.flatnonzero(group == g)
            peak[index], where[index] = weighted_totals_peak(sizes.select_alphas(index), plan_weights(plan, tuple(pattern)))
        return peak, where
    sizes = np.asarray(sizes)
    peak, where = np.empty(sizes.shape[1]), np.empty(sizes.shape[1], dtype=np.int64)
    for g, pattern in enumerate(patterns):
        index = np.flatnonzero(group == g)
        live = plan_weights(plan, tuple(pattern)) @ sizes[:, index]
        peak[index], where[index] = live.max(axis=0), live.argmax(axis=0)
    return peak, where
