"""The schedule of a network's layers and, for each pattern of present shortcuts, the tensors live at
every step: plain Python over the layer graph, no numbers (numeric/liveness.py counts them).

A tensor lives from the step that makes it to the last step that reads it on any branch; the network's
outputs (a head table's feature maps and predictions) live to the last step. A shortcut add that the
rounded widths rule out has no output: its readers read the projection instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..errors import MobilecostError, quoted
from ..spec.layers import FIELDS, network_outputs
from ..spec.roles import Role

SCHEDULES = ("sequential", "v2-sliced")
INPUT = "input"


@dataclass(frozen=True)
class Step:
    name: str  # the layer's name, or the block's name for a sliced block
    layers: tuple[str, ...]  # layers executed in this step
    slices: int | None = None  # slice count of a sliced block
    sliced: tuple[int, int] | None = None  # (expand, depthwise) layer indices whose outputs are sliced


@dataclass(frozen=True)
class MemoryPlan:
    layers: tuple
    schedule: str
    steps: tuple[Step, ...]

    @property
    def residuals(self) -> tuple[int, ...]:
        return tuple(i for i, layer in enumerate(self.layers) if layer.residual)

    def members(self, present: tuple[bool, ...]) -> tuple[tuple[str, ...], ...]:
        """Per step, the tensors live during it, given which shortcut adds exist (in `residuals` order)."""
        return _members(self, tuple(bool(p) for p in present))



def build_plan(table, schedule: str = "sequential", slices: int | None = None) -> MemoryPlan:
    """The schedule's steps for the layers of a table (`numeric.snapshot.TableSnapshot`). A sliced block's
    default slice count is its expansion factor t: expanded over input channels at alpha = rho = 1."""
    if schedule not in SCHEDULES:
        raise MobilecostError(f"unknown schedule {quoted(schedule)}; use {' or '.join(SCHEDULES)}", field="--schedule")
    if slices is not None and (int(slices) != slices or slices < 1):
        raise MobilecostError(f"the slice count must be a positive whole number, got {quoted(slices)}", field="--slices")
    layers = tuple(table.layers)
    fused = _sliced_blocks(layers) if schedule == "v2-sliced" else {}
    position = {layer.name: i for i, layer in enumerate(layers)}
    steps, done = [], set()
    for layer in layers:
        block = next((b for b, trio in fused.items() if layer.name in trio), None)
        if block is None:
            steps.append(Step(layer.name, (layer.name,)))
            continue
        if block in done:
            continue
        done.add(block)
        expand, dw, _ = fused[block]
        if slices is not None:
            k = int(slices)
        else:
            unit = table.point_function(1.0, 1.0)[position[expand] * len(FIELDS):][:len(FIELDS)]
            k = max(1, round(unit[FIELDS.index("out_ch")] / unit[FIELDS.index("in_ch")]))
        steps.append(Step(block, fused[block], k, (position[expand], position[dw])))
    return MemoryPlan(layers, schedule, tuple(steps))


def _sliced_blocks(layers) -> dict[str, tuple[str, str, str]]:
    """block -> (expand, dw, project) for blocks the v2-sliced schedule fuses (by the layers' roles)."""
    roles: dict[str, dict[Role, str]] = {}
    for layer in layers:
        roles.setdefault(layer.block, {})[layer.role] = layer.name
    # A block whose expanded or depthwise tensor is read outside it (a head's tap) is not sliced: the
    # reader needs that tensor whole.
    read_by = {}
    for layer in layers:
        for name in layer.inputs:
            read_by.setdefault(name, set()).add(layer.name)
    blocks = {block: (named[Role.expand], named[Role.dw], named[Role.project]) for block, named in roles.items()
              if {Role.expand, Role.dw, Role.project} <= named.keys() and Role.se_pool not in named}
    return {block: trio for block, trio in blocks.items()
            if read_by.get(trio[0], set()) <= {trio[1]} and read_by.get(trio[1], set()) <= {trio[2]}}


@lru_cache(maxsize=256)
def _members(plan: MemoryPlan, present: tuple[bool, ...]):
    layers, steps = plan.layers, plan.steps
    step_of = {name: i for i, step in enumerate(steps) for name in step.layers}
    absent = {layers[i].name for i, p in zip(plan.residuals, present) if not p}
    alias = {}
    for layer in layers:
        if layer.name in absent:
            alias[layer.name] = alias.get(layer.inputs[0], layer.inputs[0])
    tensors = [INPUT] + [layer.name for layer in layers if layer.name not in absent
                         and (len(steps[step_of[layer.name]].layers) == 1 or layer.name == steps[step_of[layer.name]].layers[-1])]
    start = {t: (0 if t == INPUT else step_of[t]) for t in tensors}
    end = dict(start)
    for name in network_outputs(layers):  # a chain's output is its last layer: made at the last step
        if name in end:
            end[name] = len(steps) - 1
    for layer in layers:
        if layer.name in absent:
            continue
        here = step_of[layer.name]
        for src in layer.inputs:
            src = alias.get(src, src)
            if src in end and (src == INPUT or step_of[src] != here):
                end[src] = max(end[src], here)
    return tuple(tuple(t for t in tensors if start[t] <= i <= end[t]) for i in range(len(steps)))
