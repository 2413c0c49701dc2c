"""Mean: the average over some dimensions, as ``x.mean(dim, keepdim)`` in torch.

Dimensions count as in torch, batch included: ``Mean((2, 3))`` averages a
``(C, H, W)`` map over its height and width. Each output sums the ``R``
values it reduces and divides once: ``R - 1`` adds and one division, as a
full-window average pool. It is its own kind, apart from
:class:`~symcost.layers.adaptive_pooling.AdaptiveAvgPool2d`, because peer
tools count the two differently::

    >>> import symcost as sc
    >>> from symcost.symbols import C, H, W
    >>> c = sc.Mean((2, 3)).cost(sc.Shape(C, H, W))
    >>> c.out_shape, c.ops.add, c.ops.div
    (Shape(C), C*(H*W - 1), C)
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.counts import OpCounts, RFStep
from ..core.errors import InvalidArgumentError, ShapeError
from .registry import register
from ..core.shape import Shape
from .base import Layer


@register
@dataclass(frozen=True)
class Mean(Layer):
    dim: object
    keepdim: bool = False

    def __post_init__(self) -> None:
        dims = tuple(self.dim) if isinstance(self.dim, (tuple, list)) else (self.dim,)
        if not dims or any(isinstance(d, bool) or not isinstance(d, int) for d in dims):
            raise InvalidArgumentError(self.label, "dim", "must be an int or a tuple of ints", self.dim)
        if 0 in dims:
            raise InvalidArgumentError(self.label, "dim", "must not average over the batch dimension (0)", self.dim)
        object.__setattr__(self, "dim", dims)
        arg.boolean(self.keepdim, layer=self.label, argument="keepdim")

    def _cost(self, shape: Shape) -> Cost:
        rank = shape.rank + 1  # torch counts the batch dimension
        if any(not -rank < d < rank for d in self.dim):
            raise InvalidArgumentError(self.label, "dim", f"must select dimensions 1..{rank - 1} of {shape}",
                                       self.dim)
        axes = sorted({d % rank - 1 for d in self.dim})
        if len(axes) != len(self.dim) or -1 in axes:
            raise InvalidArgumentError(self.label, "dim", f"must name distinct dimensions 1..{rank - 1}", self.dim)
        kept = [d for i, d in enumerate(shape.dims) if i not in axes]
        if not kept and not self.keepdim:
            raise ShapeError(f"{self.label}: averaging every dimension of {shape} leaves none; use keepdim=True")
        reduced = sympy.Mul(*(shape.dims[i] for i in axes))
        outputs = shape.numel / reduced
        out = Shape(*(1 if i in axes else d for i, d in enumerate(shape.dims))) if self.keepdim else Shape(*kept)
        rf = ()
        if shape.is_feature_map and {1, 2} & set(axes):
            one, zero = sympy.Integer(1), sympy.Integer(0)
            window = (shape.H if 1 in axes else one, shape.W if 2 in axes else one)
            rf = (RFStep(kernel=window, stride=window, padding=(zero, zero)),)
        return Cost(self.kind, (shape,), out, ops=OpCounts(add=(reduced - 1) * outputs, div=outputs), rf=rf)
