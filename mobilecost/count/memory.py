"""Activation memory: tensor sizes, lifetimes and the peak live set, symbolic in alpha and rho.

A tensor lives from the step that makes it to the last step that reads it (``Layer.inputs`` is
the graph), so a residual block's input stays live across the block and an SE block's depthwise
output across the squeeze. The live set of a step is every tensor alive during it, its own output
included; the **peak** is the maximum of the per-step live sums (a ``sympy.Max``), never their sum.

Schedules:

* ``sequential`` -- one layer per step, every output materialised whole;
* ``v2-sliced`` -- MobileNetV2 (arXiv:1801.04381) Sec. 5.1, memory-efficient inference: an inverted
  residual block (expand -> depthwise -> project) runs as one step over ``k`` slices of its
  expanded channels, so only one slice of the expanded tensor (and of the depthwise output) exists
  at a time, while the block's input and its projected output stay whole. ``k`` defaults to the
  block's expansion factor t (each slice then has the width of the block input); blocks with SE
  are not sliced (the squeeze needs the whole depthwise output before the scaling), nor are
  blocks without an expansion layer.

Shortcut adds that the rounded widths rule out (``LayerCost.present`` = 0) are not tensors: their readers
read the projection instead, so the projection's lifetime is extended by ``(1 - present)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from .engine import CostTable
from ..errors import MobilecostError
from ..numeric.liveness import DTYPE_BYTES, dtype_bytes, sequential_live  # noqa: F401 (re-exported)
from .rounding import ALPHA, RHO, numpy_function
from ..spec.roles import Role
from .widths import resolved_kind

SCHEDULES = ("sequential", "v2-sliced")


@dataclass(frozen=True)
class Step:
    name: str  # the layer's name, or the block's name for a sliced block
    layers: tuple[str, ...]  # layers executed in this step
    scratch: sp.Expr  # transient elements that exist only during this step (slices)
    slices: int | None = None  # slice count of a sliced block


@dataclass(frozen=True)
class MemoryPlan:
    costs: CostTable
    schedule: str
    steps: tuple[Step, ...]
    sizes: dict  # tensor name -> elements (sympy)
    members: tuple[tuple[tuple[str, sp.Expr], ...], ...]  # per step: (tensor, weight) live in it
    live: tuple[sp.Expr, ...]  # per step: live elements, scratch included

    def peak(self) -> sp.Expr:
        """Peak live activation elements: the Max over the per-step live sums."""
        return sp.Max(*self.live, evaluate=False)


_PLANS: dict = {}


def build_memory(costs: CostTable, schedule: str = "sequential", slices: int | None = None) -> MemoryPlan:
    if schedule not in SCHEDULES:
        raise MobilecostError(f"unknown schedule {schedule!r}; use {' or '.join(SCHEDULES)}", field="--schedule")
    if slices is not None and (int(slices) != slices or slices < 1):
        raise MobilecostError(f"the slice count must be a positive whole number, got {slices!r}", field="--slices")
    key = (id(costs), schedule, slices)
    if key not in _PLANS:
        _PLANS[key] = (costs, _plan(costs, schedule, slices))
    return _PLANS[key][1]


def _sliced_blocks(costs: CostTable) -> dict[str, tuple[str, str, str]]:
    """block -> (expand, dw, project) for blocks the v2-sliced schedule fuses."""
    roles: dict[str, dict[Role, str]] = {}
    for lc in costs.layers:
        roles.setdefault(lc.layer.block, {})[lc.layer.role] = lc.layer.name
    return {block: (named[Role.expand], named[Role.dw], named[Role.project]) for block, named in roles.items()
            if {Role.expand, Role.dw, Role.project} <= named.keys() and Role.se_pool not in named}


def _steps(costs: CostTable, schedule: str, slices: int | None) -> list[Step]:
    exprs = {lc.layer.name: lc.exprs for lc in costs.layers}
    layers = {lc.layer.name: lc.layer for lc in costs.layers}
    fused = _sliced_blocks(costs) if schedule == "v2-sliced" else {}
    policy = costs.spec.with_semantics(costs.semantics).width
    inside = {n: b for b, trio in fused.items() for n in trio}
    steps, done = [], set()
    for lc in costs.layers:
        name = lc.layer.name
        if name not in inside:
            steps.append(Step(name, (name,), sp.Integer(0)))
            continue
        block = inside[name]
        if block in done:
            continue
        done.add(block)
        expand, dw, project = fused[block]
        width = layers[expand].width
        if slices is not None:
            k = int(slices)
        elif resolved_kind(width, policy) == "input_ratio":
            k = max(1, round(width.c / width.of))
        else:
            k = max(1, round(width.c / int(exprs[expand]["in_ch"].subs({ALPHA: 1, RHO: 1}))))
        exp_ch = exprs[expand]["out_ch"]
        per_slice = sp.ceiling(exp_ch / k) if costs.mode == "exact" else exp_ch / k
        scratch = per_slice * (exprs[expand]["out_side"] ** 2 + exprs[dw]["out_side"] ** 2)
        steps.append(Step(block, fused[block], scratch, int(k)))
    return steps


def _plan(costs: CostTable, schedule: str, slices: int | None) -> MemoryPlan:
    steps = _steps(costs, schedule, slices)
    step_of = {n: i for i, s in enumerate(steps) for n in s.layers}
    first = costs.layers[0]
    sizes = {"input": first.exprs["act_in"]}
    start = {"input": 0}
    end = {"input": 0}
    # Tensors: the image, and every output read outside its own step (or never read: the result).
    for lc in costs.layers:
        name = lc.layer.name
        step = steps[step_of[name]]
        if len(step.layers) > 1 and name != step.layers[-1]:
            continue  # a slice inside a fused block: counted as scratch
        sizes[name] = lc.exprs["act_out"]
        start[name] = end[name] = step_of[name]
    extra = []  # (tensor, weight, first step, last step): projections standing in for absent adds
    for lc in costs.layers:
        here = step_of[lc.layer.name]
        reads = lc.layer.inputs[:1] if lc.layer.residual else lc.layer.inputs
        for src in reads:
            if src in sizes and step_of.get(src, -1) != here:
                end[src] = max(end[src], here)
    residuals = [lc for lc in costs.layers if lc.layer.residual]
    for lc in residuals:  # a shortcut that surely exists holds its input until the add
        if lc.present == 1:
            end[lc.layer.inputs[1]] = max(end[lc.layer.inputs[1]], step_of[lc.layer.name])
    for lc in residuals:
        present = lc.present
        if present == 1:
            continue
        here = step_of[lc.layer.name]
        project, shortcut = lc.layer.inputs
        # The shortcut is held to the add only where the add exists ...
        if end[shortcut] < here:
            extra.append((shortcut, present, end[shortcut] + 1, here))
        # ... and where it does not, the add's readers read the projection.
        if end[lc.layer.name] > here:
            extra.append((project, 1 - present, here + 1, end[lc.layer.name]))
    members, live = [], []
    for i, step in enumerate(steps):
        here = [(t, sp.Integer(1)) for t in sizes if start[t] <= i <= end[t]]
        here += [(t, w) for t, w, a, b in extra if a <= i <= b]
        members.append(tuple(here))
        live.append(sp.Add(*(w * sizes[t] for t, w in here)) + step.scratch)
    return MemoryPlan(costs, schedule, tuple(steps), sizes, tuple(members), tuple(live))


_COMPILED: dict = {}


def _live_function(plan: MemoryPlan):
    key = id(plan)
    if key not in _COMPILED:
        _COMPILED[key] = (plan, numpy_function((ALPHA, RHO), list(plan.live)))
    return _COMPILED[key][1]


def _values(plan: MemoryPlan, raw, shape) -> np.ndarray:
    arr = np.stack([np.broadcast_to(np.asarray(v, dtype=float), shape) for v in raw])
    return np.rint(arr) if plan.costs.mode == "exact" else arr


def live_elements(plan: MemoryPlan, alpha, rho) -> np.ndarray:
    """Live elements per step over broadcast alpha, rho arrays: shape (steps, *points)."""
    alpha, rho = np.asarray(alpha, dtype=float), np.asarray(rho, dtype=float)
    shape = np.broadcast_shapes(alpha.shape, rho.shape)
    return _values(plan, _live_function(plan)(alpha, rho), shape)


def peak_elements(plan: MemoryPlan, alpha, rho) -> tuple[np.ndarray, np.ndarray]:
    """(peak live elements, index of the step where it first occurs), vectorised over points."""
    live = live_elements(plan, alpha, rho)
    return live.max(axis=0), live.argmax(axis=0)


@dataclass(frozen=True)
class LiveSet:
    """The live set of every step at one configuration (numbers, for reports)."""

    plan: MemoryPlan
    dtype: str
    step_live: np.ndarray  # elements per step
    tensor_elems: dict  # tensor -> elements
    members: tuple[tuple[tuple[str, float], ...], ...]  # per step: (tensor, weight)
    peak_step: int

    @property
    def peak_elems(self) -> float:
        return float(self.step_live[self.peak_step])

    @property
    def bytes_per_element(self) -> int:
        return DTYPE_BYTES[self.dtype]


def live_sets(plan: MemoryPlan, alpha: float, rho: float, dtype: str = "fp32") -> LiveSet:
    dtype_bytes(dtype)
    live = live_elements(plan, alpha, rho)
    subs = {ALPHA: alpha, RHO: rho}
    names = list(plan.sizes)
    f = numpy_function((ALPHA, RHO), [plan.sizes[n] for n in names], cse=False)
    raw = f(float(alpha), float(rho))
    tensor = {n: float(np.rint(v)) if plan.costs.mode == "exact" else float(v) for n, v in zip(names, raw)}
    members = tuple(tuple((t, float(w.subs(subs)) if not w.is_Number else float(w)) for t, w in step)
                    for step in plan.members)
    members = tuple(tuple((t, w) for t, w in step if w != 0 and tensor[t] != 0) for step in members)
    return LiveSet(plan, dtype, live, tensor, members, int(np.argmax(live)))
