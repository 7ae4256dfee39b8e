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
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..count.float_rules import NUMPY_FUNCTIONS
from ..spec.layers import FIELDS, Layer, decode
from ..spec.loader import table_digest
from ..spec.models import VariantSpec


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
        return _cached(f"{name}-{self.key}", lambda: generate(self.costs()))

    def point_function(self):
        """f(alpha, rho) -> one plain-Python value per (layer, field) in FIELDS order, at one configuration:
        the per-layer evaluator's expressions with the reference code's own integer arithmetic."""
        return _cached(f"point-{self.key}", lambda: _generate_point(self.costs()), python=True)["_lambdifygenerated"]

    def costs(self):
        from ..count.engine import build_costs

        return build_costs(self.spec, self.mode, self.semantics)


def cache_dir() -> Path:
    if os.environ.get("MOBILECOST_CACHE_DIR"):
        return Path(os.environ["MOBILECOST_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mobilecost"


@lru_cache(maxsize=1)
def package_fingerprint() -> str:
    """The package version and every one of its source files: any change to either rebuilds the cache."""
    from .. import __version__

    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _python_namespace() -> dict:
    from ..count.exact_rules import PYTHON_FUNCTIONS

    return {**vars(math), "math": math, **PYTHON_FUNCTIONS}


def _namespace() -> dict:
    namespace = dict(vars(np))
    namespace["numpy"] = np
    namespace.update(NUMPY_FUNCTIONS)
    return namespace


def _load(source: str, python: bool = False) -> dict:
    namespace = _python_namespace() if python else _namespace()
    exec(compile(source, "<mobilecost generated code>", "exec"), namespace)  # noqa: S102 - our own generated code
    return namespace


_MEMORY: dict = {}


def _cached(name: str, generate, python: bool = False) -> dict:
    """Generated code `name` (a cache key): from memory, from disk, or from ``generate()`` (source text);
    `python`: plain-Python code (exact_rules), else numpy code (float_rules)."""
    if name in _MEMORY:
        return _MEMORY[name]
    path = cache_dir() / f"{name}.py"
    namespace = None
    if path.is_file():
        try:
            namespace = _load(path.read_text(encoding="utf-8"), python)
        except Exception:  # noqa: BLE001 - a corrupt or unreadable entry is rebuilt, never served
            namespace = None
    if namespace is None:
        source = generate()
        namespace = _load(source, python)
        _store(path, source)
    _MEMORY[name] = namespace
    return namespace


def compiled_layers(spec: VariantSpec, mode: str = "exact", semantics: str | None = None) -> CompiledLayers:
    semantics = semantics or "default"
    key = hashlib.sha256("|".join((table_digest(spec), mode, semantics, package_fingerprint(), ",".join(FIELDS)))
                         .encode()).hexdigest()[:24]
    if ("layers", key) not in _MEMORY:
        namespace = _cached(f"layers-{key}", lambda: _generate(spec, mode, semantics))
        layers = decode(spec.with_semantics(semantics))
        _MEMORY["layers", key] = CompiledLayers(spec, mode, semantics, layers, namespace["_lambdifygenerated"], key)
    return _MEMORY["layers", key]


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


def _store(path: Path, source: str) -> None:
    """Best effort: a read-only or missing cache only costs speed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.part")
        tmp.write_text(source, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass
