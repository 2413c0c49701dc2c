"""symcost: exact symbolic cost formulas for neural networks.

The packages, in the direction data flows (each imports only those before it):
``core`` (symbols, shapes, costs, conventions) -> ``layers`` -> ``networks``
-> ``analysis`` -> ``printing`` -> ``cli``; ``frontends`` (spec files, torch,
the zoo) build networks out of layers. Every public name is loaded on first
use, so ``import symcost`` costs almost nothing::

    >>> import symcost as sc
    >>> sc.Conv2d(64, 3, padding=1).cost(sc.Shape(3, 224, 224)).macs
    86704128
"""

from __future__ import annotations

import importlib
import sys
from importlib.machinery import ModuleSpec

__version__ = "0.1.0"

#: Public name -> the module (below ``symcost``) that defines it.
_EXPORTS = {
    **dict.fromkeys(["Shape"], "core.shape"),
    **dict.fromkeys(["Cost"], "core.cost"),
    **dict.fromkeys(["OpCounts", "Params", "RFStep"], "core.counts"),
    **dict.fromkeys(["Convention", "count_flops", "get_convention"], "core.conventions"),
    **dict.fromkeys(["ReceptiveField"], "core.receptive_field"),
    **dict.fromkeys(["Traffic"], "core.traffic"),
    **dict.fromkeys(["Hardware", "get_hardware", "load_hardware"], "core.hardware"),
    **dict.fromkeys(["Roofline", "roofline", "compute_bound_at", "tokens_per_second"], "networks.roofline"),
    **dict.fromkeys(["evaluate", "substitute"], "core.evaluate"),
    **dict.fromkeys(["canonical", "SizeNames"], "core.canonical"),
    **dict.fromkeys(["SymcostError", "ArgumentTypeError", "InvalidArgumentError", "ShapeError",
                     "UnknownConventionError", "UnknownLayerError", "UnknownModelError", "DivisibilityError",
                     "TemplateError", "TemplateSecurityError", "UnsupportedModuleError"], "core.errors"),
    **dict.fromkeys(["kinds", "layer_class"], "layers"),
    **dict.fromkeys(["Sequential", "Residual", "Concat", "Repeat", "Model"], "networks.containers"),
    **dict.fromkeys(["Graph", "Node", "Dim", "Tied"], "networks.graph"),
    **dict.fromkeys(["Report", "Assumption", "UnusedParams"], "networks.report"),
    **dict.fromkeys(["activation_bytes", "ActivationMemory"], "networks.activation_memory"),
    **dict.fromkeys(["Training", "TrainingRow", "Memory"], "networks.training"),
    **dict.fromkeys(["Backward", "backward"], "layers.backward"),
    **dict.fromkeys(["ratio", "break_even", "Comparison", "comparison"], "analysis.compare"),
    **dict.fromkeys(["limit", "leading_term", "big_o", "elasticity"], "analysis.limits"),
    **dict.fromkeys(["Derivation", "derive"], "analysis.derivation"),
    **dict.fromkeys(["Sweep", "sweep"], "analysis.sweep"),
    **dict.fromkeys(["kv_cache_bytes", "kv_heads", "cache_traffic", "CacheTraffic"], "analysis.inference"),
    **dict.fromkeys(["part_flops", "attention_fraction", "crossover", "ratio_to_2nt"], "analysis.llm"),
    **dict.fromkeys(["from_torch", "register_torch"], "frontends.pytorch"),
    "register_aten": "frontends.torch_export",
    **dict.fromkeys(["render"], "printing.jinja"),
    **dict.fromkeys(["peer_view", "PeerView"], "printing.peer_views"),
    **dict.fromkeys(["UnknownViewError", "ViewError"], "core.errors"),
}
#: Public subpackages reached as attributes: ``sc.zoo``, ``sc.symbols``.
_MODULES = {"zoo": "frontends.zoo", "symbols": "core.symbols"}


def __getattr__(name: str) -> object:
    if name == "__all__":
        layers = importlib.import_module("symcost.layers")
        value: object = [*_EXPORTS, "zoo", *layers.__all__]
    elif name in _EXPORTS:
        value = getattr(importlib.import_module(f"symcost.{_EXPORTS[name]}"), name)
    elif name in _MODULES:
        value = importlib.import_module(f"symcost.{_MODULES[name]}")
    else:
        layers = importlib.import_module("symcost.layers")
        if name not in layers.__all__:
            raise AttributeError(f"module 'symcost' has no attribute {name!r}")
        value = getattr(layers, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__getattr__("__all__"), *_MODULES})


# -- old module paths -------------------------------------------------------
#: Modules that lived directly under ``symcost`` before the subpackages; each still imports.
MOVED = {
    "errors": "core.errors", "symbols": "core.symbols", "arguments": "core.arguments",
    "expressions": "core.expressions", "shape": "core.shape", "cost": "core.cost",
    "conventions": "core.conventions", "receptive_field": "core.receptive_field", "geometry": "core.geometry",
    "displayable": "core.display_hook", "registry": "layers.registry", "catalogue": "layers.catalogue",
    "containers": "networks.containers", "graph": "networks.graph", "network": "networks.report",
    "floors": "networks.floors", "compare": "analysis.compare", "derivation": "analysis.derivation",
    "spec": "frontends.spec", "from_torch": "frontends.pytorch", "zoo": "frontends.zoo",
    "display": "printing.numbers", "markup": "printing.markup", "view": "printing.json_view",
    "viewmodels": "printing.template_views", "text": "printing.text", "rich": "printing.jupyter",
    # these old modules share their name with a public function, which an alias would overwrite:
    "sweep": "analysis.sweep", "render": "printing.jinja", "evaluate": "core.evaluate",
    "comparison": "analysis.compare",
}
_SHADOWED = {"sweep", "render", "evaluate", "comparison"}


class _OldPath:
    """Import hook: ``import symcost.symbols`` gives ``symcost.core.symbols`` (the same module object)."""

    @staticmethod
    def find_spec(fullname: str, path: object = None, target: object = None) -> ModuleSpec | None:
        prefix, _, old = fullname.partition(".")
        if prefix != "symcost" or old not in MOVED:
            return None
        new = f"symcost.{MOVED[old]}"
        if old in _SHADOWED:
            raise ImportError(f"module {fullname} moved to {new}; symcost.{old} is the function "
                              f"(use `from {new} import ...`)", name=fullname)
        return ModuleSpec(fullname, _OldPath, origin=new)

    @staticmethod
    def create_module(spec: ModuleSpec) -> object:
        return importlib.import_module(spec.origin)

    @staticmethod
    def exec_module(module: object) -> None:
        pass


if not any(finder is _OldPath for finder in sys.meta_path):
    sys.meta_path.append(_OldPath)
