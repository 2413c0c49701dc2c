"""The base class of every layer kind.

A layer is a frozen dataclass of torch.nn-named arguments. ``cost(shape)``
checks the shape and returns a :class:`~symcost.core.cost.Cost`; input channels
come from the shape::

    >>> import symcost as sc
    >>> sc.ReLU().cost(sc.Shape(8, 4, 4)).flops()
    128
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from typing import ClassVar

import sympy

from ..core.cost import Cost
from ..core.display_hook import Displayable
from ..core.errors import ArgumentTypeError, ShapeError
from ..core.evaluate import substitute
from ..core.shape import Shape
from ..core.traffic import Traffic, default_traffic

#: What a ``role`` may be: a word a convention selector ``Kind[role=value]`` can name.
_ROLE = re.compile(r"[\w.]+")
#: What a map with 1, 2 or 3 spatial axes is called in errors.
_MAPS = {1: "a (C, L) map", 2: "a (C, H, W) feature map", 3: "a (C, T, H, W) map"}


@dataclass(frozen=True)
class Layer(Displayable):
    name: str | None = field(default=None, kw_only=True)
    #: where the layer was written (a spec file's ``layers[3].body[1]``), for error messages
    source: str | None = field(default=None, kw_only=True, compare=False, repr=False)
    #: how the layer was called when imported from torch: "module", "function", "method" or "operator"
    origin: str = field(default="module", kw_only=True, compare=False, repr=False)
    #: what the layer is for in its model (``"lm_head"``), for convention selectors ``Linear[role=lm_head]``;
    #: it changes no count
    role: str | None = field(default=None, kw_only=True, repr=False)

    #: how many input tensors the layer takes (``None``: two or more; a tuple: any of those counts)
    arity: ClassVar[int | None | tuple[int, ...]] = 1
    #: with ``arity = None``, the fewest inputs the layer takes (``Cat`` and ``Stack`` take one)
    min_inputs: ClassVar[int] = 2
    #: the output is a view of the first input's storage (torch returns a view, or the input itself):
    #: it moves no bytes and autograd memory counts that storage once
    aliases_input: ClassVar[bool] = False

    @classmethod
    def arguments(cls) -> list:
        """The dataclass fields of the torch.nn-named arguments, in order (not name, source, origin, role)."""
        return [f for f in fields(cls) if f.init and f.name not in ("name", "source", "origin", "role")]

    @property
    def free_symbols(self) -> set:
        """The symbols in the layer's arguments: ``Conv2d(C_out, K).free_symbols == {C_out, K}``."""
        found: set = set()
        pending = [getattr(self, f.name) for f in self.arguments()]
        while pending:
            value = pending.pop()
            if isinstance(value, (tuple, list)):
                pending.extend(value)
            elif isinstance(value, sympy.Basic):
                found |= value.free_symbols
        return found

    @property
    def kind(self) -> str:
        return type(self).__name__

    @property
    def label(self) -> str:
        """How errors name this layer: ``Conv2d`` or ``Conv2d "conv1"``."""
        return f'{self.kind} "{self.name}"' if self.name else self.kind

    def subs(self, values: dict | None = None, /, **by_name: object) -> "Layer":
        """The same layer with numbers substituted into its arguments, constructed anew.

        Construction re-runs every argument rule, so ``Conv2d(8, K).subs(K=0)``
        is refused exactly as ``Conv2d(8, 0)`` is. A layer whose arguments hold
        none of the symbols is returned as is.
        """
        changed = {}
        for f in self.arguments():
            value = getattr(self, f.name)
            new = _substituted(value, values, by_name)
            if new is not value:
                changed[f.name] = new
        return replace(self, **changed) if changed else self

    def cost(self, *shapes: Shape | tuple) -> Cost:
        """The cost of this layer on the given input shape(s)."""
        if self.role is not None and not (isinstance(self.role, str) and _ROLE.fullmatch(self.role)):
            raise ArgumentTypeError(f"{self.label}: role must be a word such as 'lm_head' (letters, digits, _ "
                                    f"and .), got {self.role!r}")
        inputs = tuple(s if isinstance(s, Shape) else Shape(*s) for s in shapes)
        if self.arity is None and len(inputs) < self.min_inputs:
            fewest = "two" if self.min_inputs == 2 else str(self.min_inputs)
            raise ShapeError(f"{self.label}: takes {fewest} or more input shapes, got {len(inputs)}")
        if isinstance(self.arity, tuple):
            if len(inputs) not in self.arity:
                counts = " or ".join(str(n) for n in self.arity)
                raise ShapeError(f"{self.label}: takes {counts} input shape(s), got {len(inputs)}")
        elif self.arity is not None and len(inputs) != self.arity:
            raise ShapeError(f"{self.label}: takes {self.arity} input shape(s), got {len(inputs)}")
        cost = self._cost(*inputs)
        return cost if cost.layer is not None else replace(cost, layer=self)

    def _cost(self, *shapes: Shape) -> Cost:
        raise NotImplementedError

    def traffic(self, cost: Cost, size: int) -> Traffic:
        """The bytes this layer moves for ``cost`` with ``size``-byte elements (:mod:`symcost.core.traffic`).

        A view of the input moves nothing; every other kind moves its inputs, weights and outputs
        unless it overrides this hook.
        """
        return Traffic() if self.aliases_input else default_traffic(cost, size)

    def _spatial_map(self, shape: Shape, nd: int) -> Shape:
        """``shape`` checked to be a map with ``nd`` spatial axes: (C, L), (C, H, W) or (C, T, H, W)."""
        if shape.rank != nd + 1:
            raise ShapeError(f"{self.label}: expects {_MAPS[nd]}, got {shape}")
        return shape

    def _feature_map(self, shape: Shape) -> Shape:
        if not shape.is_feature_map:
            raise ShapeError(f"{self.label}: expects a (C, H, W) feature map, got {shape}")
        return shape


def _substituted(value: object, values: dict | None, by_name: dict) -> object:
    """``value`` (an expression, or a tuple of them) with symbols replaced; the same object if none changed."""
    if isinstance(value, (tuple, list)):
        items = [_substituted(v, values, by_name) for v in value]
        return value if all(a is b for a, b in zip(items, value)) else type(value)(items)
    if isinstance(value, sympy.Basic) and value.free_symbols:
        new = substitute(value, values, **by_name)
        return value if new == value else new
    return value
