"""symcost: exact symbolic cost formulas for neural networks."""

from .compare import ratio
from .containers import Concat, Model, Repeat, Residual, Sequential
from .conventions import Convention, count_flops, get_convention
from .cost import Cost, OpCounts, Params, RFStep
from .errors import (
    ArgumentTypeError,
    InvalidArgumentError,
    ShapeError,
    SymcostError,
    UnknownConventionError,
    UnknownLayerError,
    UnknownModelError,
    DivisibilityError,
)
from .layers import *  # noqa: F401,F403  (every registered layer kind)
from .layers import __all__ as _layer_names
from .registry import kinds, layer_class
from .network import Report
from .receptive_field import ReceptiveField
from .shape import Shape

__version__ = "0.1.0"

__all__ = [
    "Convention", "Cost", "OpCounts", "Params", "RFStep", "Shape",
    "Sequential", "Residual", "Concat", "Repeat", "Model", "Report", "ReceptiveField",
    "SymcostError", "ArgumentTypeError", "InvalidArgumentError", "ShapeError",
    "UnknownConventionError", "UnknownLayerError", "UnknownModelError", "DivisibilityError",
    "count_flops", "get_convention", "ratio", "kinds", "layer_class",
    *_layer_names,
]
