"""The package layout is the architecture: a stable public API, old paths that still import,
a cheap ``import symcost``, and imports that only ever point down the layers."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import symcost as sc

PACKAGE = Path(sc.__file__).parent

#: ``symcost.__all__`` before the move into subpackages, typed in: user code relies on every name.
PUBLIC = sorted("""
AdaptiveAvgPool2d AdaptiveMaxPool2d Add ArgumentTypeError Assumption AvgPool2d BatchNorm2d Cat Comparison
Concat Conv2d ConvTranspose2d Convention Cost Derivation Dim DivisibilityError Dropout Flatten GELU Graph
Hardsigmoid Hardswish Identity InvalidArgumentError Layer LeakyReLU Linear MaxPool2d Mean Model Mul Node
OpCounts Pad2d Params RFStep ReLU ReLU6 ReceptiveField Repeat Report Residual Scale SeparableConv2d Sequential
Shape ShapeError SiLU Sigmoid Sweep SymcostError Tanh TemplateError TemplateSecurityError
UnknownConventionError UnknownLayerError UnknownModelError UnsupportedModuleError Upsample big_o break_even
comparison count_flops derive elasticity evaluate from_torch get_convention kinds layer_class leading_term
limit ratio register_torch render substitute sweep zoo
""".split())

#: The packages in the order data flows; a module may import only from its own package or earlier ones.
LAYERS = ("core", "layers", "networks", "analysis", "frontends", "printing", "cli")


def test_public_api_keeps_every_name():
    assert set(PUBLIC) <= set(sc.__all__)
    for name in sc.__all__:
        assert getattr(sc, name) is not None, name
    assert callable(sc.sweep) and callable(sc.render) and callable(sc.evaluate) and callable(sc.comparison)
    assert sc.symbols.symbol("n") == sc.symbols.symbol("n")


def test_star_import_gives_the_public_names():
    namespace: dict = {}
    exec("from symcost import *", namespace)  # safe: a fixed string, no user text
    assert set(PUBLIC) <= set(namespace)


def test_old_module_paths_import_or_name_the_new_one():
    code = ("import importlib, symcost\n"
            "for old, new in sorted(symcost.MOVED.items()):\n"
            "    try:\n"
            "        same = importlib.import_module('symcost.' + old) is importlib.import_module('symcost.' + new)\n"
            "        print(old, 'same' if same else 'other')\n"
            "    except ImportError as e:\n"
            "        print(old, 'moved' if 'symcost.' + new in str(e) else 'unclear')\n"
            "print('functions', all(callable(getattr(symcost, f)) for f in ('sweep', 'render', 'evaluate', 'comparison')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    outcome = dict(line.split() for line in out.splitlines())
    assert outcome.pop("functions") == "True"
    shadowed = {"sweep", "render", "evaluate", "comparison"}  # old modules named like a public function
    assert outcome == {old: "moved" if old in shadowed else "same" for old in sc.MOVED}


def test_import_symcost_loads_no_optional_dependency():
    code = ("import sys, symcost\n"
            "heavy = {'torch', 'numpy', 'matplotlib', 'IPython', 'jinja2', 'yaml'}\n"
            "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _imports() -> list[tuple[str, str, bool]]:
    """(importer, imported, at module level) for every relative import inside the package."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        package = parts[:-1] if parts[-1] == "__init__" or len(parts) > 1 else parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                found.append((".".join(parts), target, node in tree.body))
    return found


def _layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else -1


def test_imports_point_down_the_layers():
    upward = [(a, b) for a, b, top in _imports() if _layer(b) > _layer(a) >= 0 and (top or a != "symcost.core.display_hook")]
    assert upward == []
    # the one documented hook: a Cost or Report displays itself through printing, imported when called
    hooks = {(a, b) for a, b, top in _imports() if _layer(b) > _layer(a) >= 0}
    assert {a for a, _ in hooks} <= {"symcost.core.display_hook"}


def test_every_public_name_is_exported_from_one_module():
    """``_EXPORTS`` is one dict literal; a name listed twice would silently hide the first module's object."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "fromkeys":
            names += [elt.value for elt in node.args[0].elts]
    assert names and len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})
