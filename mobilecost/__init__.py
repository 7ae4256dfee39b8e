"""mobilecost: exact cost calculator for the MobileNet family (V1, V2, V3-Large, V3-Small).

Data flows one way: YAML table -> validated spec -> primitive layers -> symbolic costs in
(alpha, rho) -> compiled numeric evaluation -> reports, sweeps, exports.

The public names below are imported on first use, so the command line starts without loading
what a command does not need.
"""

from importlib import import_module

_PUBLIC = {
    "MobilecostError": "errors",
    "build_costs": "count.engine",
    "estimate_latency": "api",
    "evaluate": "api",
    "share_by_type": "api",
    "sweep": "api",
    "list_variants": "spec.loader",
    "load_variant": "spec.loader",
    "total_expression": "analysis.formulas",
    "total_formula": "analysis.formulas",
}

__all__ = sorted(_PUBLIC)
__version__ = "0.1.0"


def __getattr__(name):
    if name in _PUBLIC:
        value = getattr(import_module(f".{_PUBLIC[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mobilecost' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_PUBLIC])
