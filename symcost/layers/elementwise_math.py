"""Elementwise math as torch names it, each with its per-element operations; Where and MaskedFill select.

The per-element functions share :class:`~symcost.layers.activations.Activation`'s
costing; the counts are the plain definition:

=========  ===============================  ========================
kind       torch                            per element
=========  ===============================  ========================
Exp        torch.exp(x)                     1 special
Log        torch.log(x)                     1 special
Sqrt       torch.sqrt(x)                    1 special
Rsqrt      torch.rsqrt(x)                   1 special (no division)
Erf        torch.erf(x)                     1 special
Pow        torch.pow(x, exponent)           1 special, any exponent
Abs        torch.abs(x)                     1 cmp
Neg        torch.neg(x)                     nothing (a sign flip)
Clamp      torch.clamp(x, min, max)         1 cmp per given bound
=========  ===============================  ========================

:class:`Where` (``torch.where(condition, x, y)``, three inputs) and
:class:`MaskedFill` (``x.masked_fill(mask, value)``, two inputs) broadcast as
:class:`~symcost.layers.elementwise.Add` does and select without arithmetic::

    >>> import symcost as sc
    >>> from symcost.symbols import L, D
    >>> sc.Clamp(min=0, max=6).cost(sc.Shape(L, D)).ops.cmp
    2*D*L
    >>> sc.Where().cost(sc.Shape(L, 1), sc.Shape(L, D), sc.Shape()).out_shape
    Shape(L, D)
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.counts import OpCounts
from ..core.errors import InvalidArgumentError, ShapeError
from ..core.shape import Shape
from ..core.traffic import BOOL_BYTES, Traffic
from .activations import Activation
from .base import Layer
from .elementwise import broadcast
from .registry import register


@register
@dataclass(frozen=True)
class Exp(Activation):
    per_element = OpCounts(special=1)


@register
@dataclass(frozen=True)
class Log(Activation):
    per_element = OpCounts(special=1)


@register
@dataclass(frozen=True)
class Sqrt(Activation):
    per_element = OpCounts(special=1)


@register
@dataclass(frozen=True)
class Rsqrt(Activation):
    per_element = OpCounts(special=1)


@register
@dataclass(frozen=True)
class Erf(Activation):
    per_element = OpCounts(special=1)


@register
@dataclass(frozen=True)
class Pow(Activation):
    """``x ** exponent`` for a number ``exponent``: one special per element, whatever the exponent
    (torch's fast paths for 2, 0.5, -1 are not modelled)."""

    exponent: object = 2
    per_element = OpCounts(special=1)

    def __post_init__(self) -> None:
        arg.number(self.exponent, layer=self.label, argument="exponent")


@register
@dataclass(frozen=True)
class Abs(Activation):
    per_element = OpCounts(cmp=1)


@register
@dataclass(frozen=True)
class Neg(Activation):
    per_element = OpCounts()


@register
@dataclass(frozen=True)
class Clamp(Activation):
    """``max(x, min)`` then ``min(., max)``: one comparison per bound given; at least one is needed."""

    min: object = None
    max: object = None

    def __post_init__(self) -> None:
        if self.min is None and self.max is None:
            raise InvalidArgumentError(self.label, "min", "or max must be given (torch refuses neither)", None)
        for name in ("min", "max"):
            if getattr(self, name) is not None:
                arg.number(getattr(self, name), layer=self.label, argument=name)

    def element_ops(self) -> OpCounts:
        return OpCounts(cmp=(self.min is not None) + (self.max is not None))


@register
@dataclass(frozen=True)
class Where(Layer):
    """``torch.where(condition, x, y)``: three inputs broadcast together (a number is ``Shape()``); 0 ops."""

    arity = 3

    def _cost(self, condition: Shape, x: Shape, y: Shape) -> Cost:
        return Cost(self.kind, (condition, x, y), broadcast(self.label, (condition, x, y)))


@register
@dataclass(frozen=True)
class MaskedFill(Layer):
    """``x.masked_fill(mask, value)``: the mask broadcasts to ``x``'s shape; the output is ``x``'s; 0 ops."""

    value: object = 0
    arity = 2

    def __post_init__(self) -> None:
        arg.number(self.value, layer=self.label, argument="value")

    def _cost(self, x: Shape, mask: Shape) -> Cost:
        out = broadcast(self.label, (x, mask))
        if out.rank != x.rank or any(a != b for a, b in zip(out.dims, x.dims)):
            raise ShapeError(f"{self.label}: the mask {mask} does not broadcast to the input's shape {x}")
        return Cost(self.kind, (x, mask), x)

    def traffic(self, cost: Cost, size: int) -> Traffic:
        """``x`` read, its bool mask read at one byte an element, the output written."""
        x, mask = cost.in_shapes
        return Traffic(inputs=x.numel * size + mask.numel * BOOL_BYTES, outputs=x.numel * size)
