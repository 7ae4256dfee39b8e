"""Compiled per-layer evaluators: built from the symbolic engine once, then kept on disk.

Building the sympy costs and lambdifying them is the slow part of a cold start. The generated
numpy source (the per-layer evaluator, and the numeric stage's other generated functions, such as
the grid's factor functions) is stored in the user cache (``$MOBILECOST_CACHE_DIR``, else
``$XDG_CACHE_HOME/mobilecost`` or ``~/.cache/mobilecost``) under a key made of the table's
content, the mode, the semantics, the package version and every source file of the package; any
change to one of them rebuilds it, and so does an entry that cannot be read or run.
Loading a stored evaluator needs neither sympy nor the engine.
"""

from __future__ import annotations

import hashlib
import inspect
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from ..count.float_rules import NUMPY_FUNCTIONS
from ..spec.layers import FIELDS, Layer, decode
from ..spec.loader import table_digest
from ..spec.models import VariantSpec
from .cache import cached_namespace, forget_loaded, package_fingerprint, python_namespace


@dataclass(frozen=True)
class CompiledLayers:
    """Layer structure plus f(alpha, rho) -> one value per (layer, field) in FIELDS order; `values.values_at`
    evaluates it."""

    spec: VariantSpec
    mode: str
    semantics: str
    layers: tuple[Layer, ...]
    function: object
    key: str

    def generated(self, name: str, generate) -> dict:
        """The namespace of generated code `name` for this table, mode and semantics: loaded from the
        cache, or made by ``generate(costs)`` (costs: the symbolic `CostTable`) and stored."""
        return cached_namespace(f"{name}-{self.key}", lambda: generate(self.costs()), _numpy_namespace())

    @cached_property
    def point_function(self):
        """f(alpha, rho) -> one plain-Python value per (layer, field) in FIELDS order, at one configuration:
        the per-layer evaluator's expressions with the reference code's own integer arithmetic."""
        return self.point_namespace()["_lambdifygenerated"]

    def point_namespace(self) -> dict:
        return cached_namespace(f"point-{self.key}", lambda: _generate_point(self.costs()), python_namespace())

    def costs(self):
        from ..count.engine import build_costs

        return build_costs(self.spec, self.mode, self.semantics)


@lru_cache(maxsize=1)
def _numpy_namespace() -> dict:
    namespace = dict(vars(np))
    namespace["numpy"] = np
    namespace.update(NUMPY_FUNCTIONS)
    return namespace


_COMPILED: dict = {}


def forget() -> None:
    """Drop the evaluators this process has compiled or loaded (the disk cache stays)."""
    _COMPILED.clear()
    forget_loaded()


def compiled_layers(spec: VariantSpec, mode: str = "exact", semantics: str | None = None) -> CompiledLayers:
    semantics = semantics or "default"
    # On disk the key is the table's content (where the file is does not change a count); in memory the
    # spec's own path is kept too, so that messages name the file the user gave.
    content = hashlib.sha256(spec.model_dump_json(exclude={"path"}).encode()).hexdigest()
    key = hashlib.sha256("|".join((content, mode, semantics, package_fingerprint(), ",".join(FIELDS)))
                         .encode()).hexdigest()[:24]
    remembered = (key, table_digest(spec))
    if remembered not in _COMPILED:
        namespace = cached_namespace(f"layers-{key}", lambda: _generate(spec, mode, semantics), _numpy_namespace())
        layers = decode(spec.with_semantics(semantics))
        _COMPILED[remembered] = CompiledLayers(spec, mode, semantics, layers, namespace["_lambdifygenerated"], key)
    return _COMPILED[remembered]


def _generate(spec: VariantSpec, mode: str, semantics: str) -> str:
    from ..count.engine import build_costs
    from ..count.rounding import ALPHA, RHO, numpy_function

    costs = build_costs(spec, mode, semantics)
    exprs = [lc.exprs[f] for lc in costs.layers for f in FIELDS]
    fn = numpy_function((ALPHA, RHO), exprs)
    return inspect.getsource(fn)


def _generate_point(costs) -> str:
    from ..count.rounding import ALPHA, RHO, python_function

    return inspect.getsource(python_function((ALPHA, RHO), [lc.exprs[f] for lc in costs.layers for f in FIELDS]))


