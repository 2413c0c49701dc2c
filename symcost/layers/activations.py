"""Elementwise activations, as torch.nn, each with its per-element operations.

Every activation is one small class that declares what it executes on one
element; the costing is shared. The counts follow the textbook definition:

==========  ==========================================  =====================
kind        definition                                  per element
==========  ==========================================  =====================
ReLU        max(x, 0)                                   1 cmp
ReLU6       min(max(x, 0), 6)                           2 cmp
LeakyReLU   max(x, a*x)                                 1 mul, 1 cmp
Sigmoid     1 / (1 + exp(-x))                           1 special, 1 add, 1 div
Tanh        tanh(x)                                     1 special
GELU        x/2 * (1 + erf(x/sqrt 2))                   3 mul, 1 add, 1 special
GELU tanh   x/2 * (1 + tanh(c*(x + 0.044715 x^3)))      6 mul, 2 add, 1 special
SiLU        x / (1 + exp(-x))                           1 special, 1 add, 1 div
Hardswish   x * min(max(x + 3, 0), 6) / 6               1 add, 2 cmp, 1 mul, 1 div
Hardsigmoid min(max(x + 3, 0), 6) / 6                   1 add, 2 cmp, 1 div
==========  ==========================================  =====================

    >>> import symcost as sc
    >>> sc.Sigmoid().cost(sc.Shape(4, 2, 2)).ops.div
    16
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.counts import OpCounts
from .registry import register
from ..core.shape import Shape
from .base import Layer


@dataclass(frozen=True)
class Activation(Layer):
    """An elementwise function: ``per_element`` operations on every element."""

    per_element: ClassVar[OpCounts] = OpCounts()

    def element_ops(self) -> OpCounts:
        return self.per_element

    def _cost(self, shape: Shape) -> Cost:
        return Cost(self.kind, (shape,), shape, ops=self.element_ops().scaled(shape.numel))


@register
@dataclass(frozen=True)
class ReLU(Activation):
    per_element = OpCounts(cmp=1)


@register
@dataclass(frozen=True)
class ReLU6(Activation):
    per_element = OpCounts(cmp=2)


@register
@dataclass(frozen=True)
class LeakyReLU(Activation):
    negative_slope: object = 0.01
    per_element = OpCounts(mul=1, cmp=1)

    def __post_init__(self) -> None:  # the slope enters no count; torch takes a float
        if isinstance(self.negative_slope, bool) or not isinstance(self.negative_slope, (int, float)):
            arg.to_expr(self.negative_slope, layer=self.label, argument="negative_slope")


@register
@dataclass(frozen=True)
class Sigmoid(Activation):
    per_element = OpCounts(special=1, add=1, div=1)


@register
@dataclass(frozen=True)
class Tanh(Activation):
    per_element = OpCounts(special=1)


@register
@dataclass(frozen=True)
class GELU(Activation):
    approximate: str = "none"

    def __post_init__(self) -> None:
        arg.choice(self.approximate, ("none", "tanh"), layer=self.label, argument="approximate")

    def element_ops(self) -> OpCounts:
        if self.approximate == "tanh":
            return OpCounts(mul=6, add=2, special=1)
        return OpCounts(mul=3, add=1, special=1)


@register
@dataclass(frozen=True)
class SiLU(Activation):
    per_element = OpCounts(special=1, add=1, div=1)


@register
@dataclass(frozen=True)
class Hardswish(Activation):
    per_element = OpCounts(add=1, cmp=2, mul=1, div=1)


@register
@dataclass(frozen=True)
class Hardsigmoid(Activation):
    per_element = OpCounts(add=1, cmp=2, div=1)
