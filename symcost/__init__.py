"""symcost: exact symbolic cost formulas for neural networks."""

from .analysis import big_o, elasticity, leading_term, limit
from .compare import break_even, ratio
from .comparison import Comparison, comparison
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
from .evaluate import evaluate, substitute
from .derivation import Derivation, derive
from .errors import TemplateError, TemplateSecurityError
from .render import render
from .network import Assumption, Report
from .receptive_field import ReceptiveField
from .shape import Shape
from .sweep import Sweep, sweep
from .graph import Dim, Graph, Node
from .from_torch import from_torch, register_torch
from .errors import UnsupportedModuleError
from . import zoo  # noqa: E402  (built from the layers and containers above)

__version__ = "0.1.0"

__all__ = [
    "Convention", "Cost", "OpCounts", "Params", "RFStep", "Shape",
    "Sequential", "Residual", "Concat", "Repeat", "Model", "Report", "ReceptiveField",
    "SymcostError", "ArgumentTypeError", "InvalidArgumentError", "ShapeError",
    "UnknownConventionError", "UnknownLayerError", "UnknownModelError", "DivisibilityError",
    "Assumption", "Sweep", "zoo",
    "count_flops", "get_convention", "kinds", "layer_class",
    "Comparison", "comparison", "Derivation", "derive", "render", "TemplateError", "TemplateSecurityError",
    "ratio", "break_even", "limit", "leading_term", "big_o", "elasticity", "evaluate", "substitute", "sweep",
    "Graph", "Node", "Dim", "from_torch", "register_torch", "UnsupportedModuleError",
    *_layer_names,
]
