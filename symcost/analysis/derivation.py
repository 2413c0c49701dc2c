r"""A layer's cost derived step by step: the general formula, the numbers, the value.

:func:`derive` turns a layer (or a :class:`~symcost.core.cost.Cost`) into a
:class:`Derivation`. For a layer with numbers it first builds the layer's
symbolic twin: every numeric argument that has a textbook symbol
(``kernel_size`` is ``K``, ``stride`` is ``S``, the input is ``C_in, H, W``)
becomes that symbol, and the numbers become the values substituted back::

    >>> import symcost as sc
    >>> d = derive(sc.Conv2d(96, 11, stride=4, name="conv1"), sc.Shape(3, 227, 227))
    >>> for step in d.steps:
    ...     print(step.key, step.general, "=", step.value)
    C_out C_out = 96
    H_out floor((H - K + 2*P)/S) + 1 = 55
    W_out floor((-K + 2*P + W)/S) + 1 = 55
    params C_in*C_out*K**2 + C_out = 34944
    macs C_in*C_out*H_out*K**2*W_out = 105415200
    flops 2*C_in*C_out*H_out*K**2*W_out = 210830400

Quantities refer to the output sizes by name (``H_out``), as papers write
them. Arguments that only add a factor of one (``dilation=1``, ``groups=1``)
stay numbers. The twin's formulas, with the values put back, must equal the
layer's own cost, or the derivation falls back to the layer as given.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import sympy

from ..core.conventions import Convention, get_convention
from ..core.cost import Cost
from ..core.display_hook import Displayable
from ..core.errors import InvalidArgumentError, SymcostError
from ..core.evaluate import substitute
from ..layers.base import Layer
from ..core.shape import Shape
from ..core.symbols import symbol

#: The textbook symbol of each layer argument (a pair gets ``K_h``, ``K_w`` when its sides differ).
ARGUMENT_SYMBOLS = {
    "out_channels": "C_out",
    "kernel_size": "K",
    "stride": "S",
    "padding": "P",
    "dilation": "D",
    "groups": "G",
    "output_padding": "P_out",
    "out_features": "D_out",
    "in_features": "D_in",
    "num_features": "C_in",
    "scale_factor": "s",
}
#: Arguments kept as numbers at these values: they would only add a factor of one or a zero term.
NEUTRAL = {"dilation": 1, "groups": 1, "output_padding": 0}
#: Symbols of the input's dimensions, by rank.
INPUT_SYMBOLS = {3: ("C_in", "H", "W"), 2: ("L", "D_in"), 1: ("D_in",)}
#: Names of the output's dimensions, by rank.
OUTPUT_SYMBOLS = {3: ("C_out", "H_out", "W_out"), 2: ("L_out", "D_out"), 1: ("D_out",)}
OUTPUT_NAMES = {3: ("output channels", "output height", "output width"), 2: ("output length", "output features"),
                1: ("output features",)}


@dataclass(frozen=True)
class Step:
    """One quantity of a derivation: ``key`` (``H_out``, ``params``, ``macs``, ``flops``...),
    its general formula and its value once the derivation's values are substituted.

    An output size has the symbols that name it (``H_out``, or ``H_out`` and
    ``W_out`` when both sides have one formula); the last one is the one
    other quantities use.
    """

    key: str
    name: str
    general: sympy.Expr
    value: sympy.Expr
    symbols: tuple[sympy.Symbol, ...] = ()


@dataclass(frozen=True)
class Derivation(Displayable):
    """A cost in symbols (``general``), the values to substitute, and the FLOP convention.

    ``steps`` lists the output sizes, parameters (and buffers, when there are
    some), MACs and FLOPs, each with its general formula and its value.
    """

    general: Cost
    values: tuple[tuple[sympy.Symbol, sympy.Expr], ...] = ()
    convention: Convention = field(default_factory=lambda: get_convention("exact"))
    label: str = ""

    @property
    def result(self) -> Cost:
        """The cost with the values substituted: exact integers when every symbol is bound."""
        return self.general.subs(dict(self.values))

    def _sizes(self) -> list[tuple[tuple[sympy.Symbol, ...], str, sympy.Expr]]:
        """Output dimensions as (symbols, meaning, formula); equal formulas share one entry."""
        shape = self.general.out_shape
        sizes: list[tuple[tuple[sympy.Symbol, ...], str, sympy.Expr]] = []
        for dim, name, meaning in zip(shape, OUTPUT_SYMBOLS.get(shape.rank, ()), OUTPUT_NAMES.get(shape.rank, ())):
            same = next((i for i, (syms, _, d) in enumerate(sizes) if d == dim and len(syms) == 1
                         and syms[0].name != "C_out" and name != "C_out"), None)
            if same is None:
                sizes.append(((symbol(name),), meaning, dim))
            else:
                syms, first, _ = sizes[same]
                sizes[same] = (syms + (symbol(name),), f"{first} and {meaning.removeprefix('output ')}", dim)
        return sizes

    @property
    def outputs(self) -> tuple[tuple[sympy.Symbol, sympy.Expr], ...]:
        """The output sizes that are formulas, each with the symbol (``H_out``) quantities use for it."""
        return tuple((syms[-1], dim) for syms, _, dim in self._sizes()
                     if not (dim.is_Atom or syms[0].name == "C_out"))

    @property
    def steps(self) -> tuple[Step, ...]:
        values = dict(self.values)
        steps = [Step(syms[-1].name, meaning, dim, substitute(dim, values), syms)
                 for syms, meaning, dim in self._sizes()]
        short = {dim: sym for sym, dim in self.outputs}
        values.update({sym: substitute(dim, values) for sym, dim in self.outputs})

        def quantity(key: str, name: str, expr: sympy.Expr) -> Step:
            general = expr.xreplace(short)
            return Step(key, name, general, substitute(general, values))

        cost = self.general
        steps.append(quantity("params", "parameters", cost.params.total))
        if cost.params.buffer_total != 0:
            steps.append(quantity("buffers", "buffers", cost.params.buffer_total))
        steps.append(quantity("macs", "multiply-accumulates", cost.macs))
        steps.append(quantity("flops", f"FLOPs ({self.convention.name})", cost.flops(self.convention)))
        return tuple(steps)

    def __repr__(self) -> str:
        bound = ", ".join(f"{s}={v}" for s, v in self.values)
        return f"Derivation({self.label or self.general.kind}{': ' + bound if bound else ''})"


def derive(subject: Layer | Cost, *shapes: Shape | tuple, values: dict | None = None,
           convention: object = "exact") -> Derivation:
    """The step-by-step derivation of a layer's (or a cost's) quantities.

    A layer is costed on ``shapes`` (default: its catalogue shape, e.g.
    ``(C_in, H, W)``) through its symbolic twin; a cost is taken as the
    general formula. ``values`` (symbols or their names) are substituted too::

        >>> import symcost as sc
        >>> from symcost.symbols import C_in, K, W
        >>> d = derive(sc.Conv2d(8, K, padding=1).cost(sc.Shape(C_in, W, W)), values={"K": 3, "C_in": 3})
        >>> d.result.params.total
        224
    """
    convention = get_convention(convention)
    if isinstance(subject, Cost):
        if shapes:
            raise InvalidArgumentError("derive", "shapes", "are given by the Cost already", shapes)
        general, bound, label = subject, {}, subject.kind
    elif isinstance(subject, Layer):
        if not shapes:
            from ..layers.catalogue import example

            shapes = example(subject.kind).inputs
        inputs = tuple(s if isinstance(s, Shape) else Shape(*s) for s in shapes)
        general, bound = _generalized(subject, inputs)
        label = subject.label
    else:
        raise InvalidArgumentError("derive", "subject", "must be a layer or a Cost", subject)
    bound.update(_named(general, values or {}))
    return Derivation(general, tuple(bound.items()), convention, label)


def _named(general: Cost, values: dict) -> dict[sympy.Symbol, sympy.Expr]:
    """``values`` keyed by the symbols of ``general`` they name; a name that matches none is an error."""
    free = {s.name: s for s in _free_symbols(general)}
    named = {}
    for key, value in values.items():
        target = free.get(key) if isinstance(key, str) else key
        if target is None or target not in free.values():
            known = ", ".join(sorted(free)) or "none"
            raise InvalidArgumentError("derive", "values", f"must name symbols of the formulas ({known})", key)
        named[target] = _exact(value, key)
    return named


def _exact(value: object, key: object) -> sympy.Expr:
    from ..core.arguments import to_expr

    return to_expr(value, layer="derive", argument=f"values[{key!r}]")


def _free_symbols(cost: Cost) -> set[sympy.Symbol]:
    return set().union(*(getattr(e, "free_symbols", set()) for e in _exprs(cost)))


def _generalized(layer: Layer, shapes: tuple[Shape, ...]) -> tuple[Cost, dict[sympy.Symbol, sympy.Expr]]:
    """The cost of ``layer``'s symbolic twin on symbolic ``shapes``, and the numbers that give ``layer`` back."""
    actual = layer.cost(*shapes)
    taken = {s.name for s in _free_symbols(actual)}
    taken |= {s.name for f in fields(layer) for s in getattr(getattr(layer, f.name), "free_symbols", ())}
    values: dict[sympy.Symbol, sympy.Expr] = {}
    general_shapes = tuple(Shape(*_general_dims(shape, values, taken)) for shape in shapes)
    attempts = []
    changes = _general_arguments(layer, dict(values), taken)
    if changes is not None:
        attempts.append((replace(layer, **changes[0]), general_shapes, changes[1]))
    attempts.append((layer, general_shapes, values))
    for twin, twin_shapes, twin_values in attempts:
        try:  # a twin whose symbols break a rule, or whose numbers do not give the layer back, is skipped
            general = twin.cost(*twin_shapes)
            if _same(general.subs(twin_values), actual):
                return general, dict(twin_values)
        except (SymcostError, TypeError, ValueError):
            continue
    return actual, {}


def _exprs(cost: Cost) -> list[sympy.Expr]:
    found: list[sympy.Expr] = []
    cost.map_exprs(lambda e: found.append(e) or e)
    return found


def _same(a: Cost, b: Cost) -> bool:
    """Whether two costs hold the same formulas (``expand`` decides what structure does not)."""
    left, right = _exprs(a), _exprs(b)
    return len(left) == len(right) and all(x == y or sympy.expand(x - y) == 0 for x, y in zip(left, right))


def _bind(name: str, value: sympy.Expr, values: dict, taken: set[str]) -> sympy.Symbol | None:
    """The symbol ``name`` bound to ``value``, unless taken already or bound to another number."""
    if name in taken or not (isinstance(value, sympy.Integer) and value > 0 or name == "P" and value == 0):
        return None
    sym = symbol(name)
    if values.get(sym, value) != value:
        return None
    values[sym] = value
    return sym


def _general_dims(shape: Shape, values: dict, taken: set[str]) -> list[sympy.Expr]:
    names = INPUT_SYMBOLS.get(shape.rank, ())
    return [(_bind(name, dim, values, taken) or dim) if dim.is_Integer else dim for dim, name in zip(shape, names)]


def _integer(value: object) -> sympy.Integer | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return sympy.Integer(value)
    return value if isinstance(value, sympy.Integer) else None


def _general_arguments(layer: Layer, values: dict, taken: set[str]) -> tuple[dict, dict] | None:
    """Replacements of ``layer``'s numeric arguments by their symbols, and the values they stand for."""
    changes: dict[str, object] = {}
    for f in fields(layer):
        base = ARGUMENT_SYMBOLS.get(f.name)
        value = getattr(layer, f.name)
        if base is None or value is None or isinstance(value, (str, bool)):
            continue
        if f.name == "stride" and isinstance(getattr(layer, "padding", None), str):
            continue  # padding='same' is defined for stride 1 only
        pair = tuple(_integer(v) for v in value) if isinstance(value, (tuple, list)) else None
        sides = pair if pair is not None else (_integer(value),)
        if None in sides or all(v == NEUTRAL.get(f.name) for v in sides):
            continue
        if pair is None or pair[0] == pair[1]:
            sym = _bind(base, sides[0], values, taken)
            if sym is not None:
                changes[f.name] = (sym, sym) if pair is not None else sym
        else:
            h, w = _bind(f"{base}_h", pair[0], values, taken), _bind(f"{base}_w", pair[1], values, taken)
            if h is not None and w is not None:
                changes[f.name] = (h, w)
    return (changes, values) if changes else None
