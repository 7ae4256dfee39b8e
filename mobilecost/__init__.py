"""mobilecost: exact cost calculator for the MobileNet family (V1, V2, V3-Large, V3-Small).

Data flows one way: YAML table -> validated spec -> primitive layers -> symbolic costs in
(alpha, rho) -> compiled numeric evaluation -> reports, sweeps, exports.
"""

from .engine import build_costs
from .errors import MobilecostError
from .formulas import total_expression, total_formula
from .frames import evaluate, share_by_type, sweep
from .loader import list_variants, load_variant

__all__ = [
    "MobilecostError", "build_costs", "evaluate", "list_variants", "load_variant", "share_by_type", "sweep",
    "total_expression", "total_formula",
]
__version__ = "0.1.0"
