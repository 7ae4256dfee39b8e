"""Compiled per-layer evaluators: built from the symbolic engine once, then kept on disk.

Building the sympy costs and lambdifying them is the slow part of a cold start. The generated
numpy source is stored in the user cache (``$MOBILECOST_CACHE_DIR``, else
``$XDG_CACHE_HOME/mobilecost`` or ``~/.cache/mobilecost``) under a key made of the table's
content, the mode, the semantics, the package version and every source file of the package; any
change to one of them rebuilds it, and so does an entry that cannot be read or run.
Loading a stored evaluator needs neither sympy nor the engine.
"""

from __future__ import annotations

import hashlib
import inspect
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
    """Layer structure plus f(alpha, rho) -> one value per (layer, field) in FIELDS order."""

    spec: VariantSpec
    mode: str
    semantics: str
    layers: tuple[Layer, ...]
    function: object

    def evaluate(self, alpha, rho) -> dict[str, np.ndarray]:
        """Per-layer values at one point: field -> float array over layers."""
        raw = self.function(float(alpha), float(rho))
        n = len(FIELDS)
        table = np.array([float(v) for v in raw]).reshape(len(self.layers), n)
        return {field: table[:, j] for j, field in enumerate(FIELDS)}

    def counts(self, alpha, rho) -> dict[str, np.ndarray]:
        """`evaluate`, as whole numbers (int64) in exact mode."""
        values = self.evaluate(alpha, rho)
        if self.mode == "exact":
            return {f: np.rint(v).astype(np.int64) for f, v in values.items()}
        return values


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


def _namespace() -> dict:
    namespace = dict(vars(np))
    namespace["numpy"] = np
    namespace.update(NUMPY_FUNCTIONS)
    return namespace


def _load(source: str):
    namespace = _namespace()
    exec(compile(source, "<mobilecost compiled layers>", "exec"), namespace)  # noqa: S102 - our own generated code
    return namespace["_lambdifygenerated"]


_MEMORY: dict = {}


def compiled_layers(spec: VariantSpec, mode: str = "exact", semantics: str | None = None) -> CompiledLayers:
    semantics = semantics or "default"
    key = hashlib.sha256("|".join((table_digest(spec), mode, semantics, package_fingerprint(), ",".join(FIELDS)))
                         .encode()).hexdigest()[:24]
    if key in _MEMORY:
        return _MEMORY[key]
    layers = decode(spec.with_semantics(semantics))
    path = cache_dir() / f"layers-{key}.py"
    source = None
    if path.is_file():
        try:
            source = path.read_text(encoding="utf-8")
            function = _load(source)
        except Exception:  # noqa: BLE001 - a corrupt or unreadable entry is rebuilt, never served
            source = None
    if source is None:
        source = _generate(spec, mode, semantics)
        function = _load(source)
        _store(path, source)
    _MEMORY[key] = CompiledLayers(spec, mode, semantics, layers, function)
    return _MEMORY[key]


def _generate(spec: VariantSpec, mode: str, semantics: str) -> str:
    from ..count.engine import build_costs
    from ..count.rounding import ALPHA, RHO, numpy_function

    costs = build_costs(spec, mode, semantics)
    exprs = [lc.exprs[f] for lc in costs.layers for f in FIELDS]
    fn = numpy_function((ALPHA, RHO), exprs)
    return inspect.getsource(fn)


def _store(path: Path, source: str) -> None:
    """Best effort: a read-only or missing cache only costs speed."""
    tmp = path.with_suffix(f".{os.getpid()}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(source, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        # A failed write or rename (e.g. a directory where the entry should be) leaves no
        # partial file behind: with a new pid each run, they would pile up in the cache.
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass


def total_stride(layers) -> int:
    stride = 1
    for layer in layers:
        stride *= layer.stride
    return stride
