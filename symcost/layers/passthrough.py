"""Dropout and Identity: at inference both pass their input through untouched.

They execute no operation and hold no parameter; they are listed so a
network's structure matches torch's, never as a way to skip a cost::

    >>> import symcost as sc
    >>> sc.Dropout(0.5).cost(sc.Shape(4096)).flops()
    0
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core import arguments as arg
from ..core.cost import Cost
from .registry import register
from ..core.shape import Shape
from .base import Layer


@register
@dataclass(frozen=True)
class Dropout(Layer):
    p: object = 0.5

    def __post_init__(self) -> None:
        arg.probability(self.p, layer=self.label, argument="p")

    def _cost(self, shape: Shape) -> Cost:
        return Cost(self.kind, (shape,), shape)


@register
@dataclass(frozen=True)
class Identity(Layer):
    def _cost(self, shape: Shape) -> Cost:
        return Cost(self.kind, (shape,), shape)
