"""Gated linear units: GLU (``a * sigmoid(b)``, torch.nn.GLU) and SwiGLU (``silu(a) * b``, LLaMA's gate).

The input's dimension ``dim`` (batch included, default the last) splits into
halves ``a | b``; the output has half of it. Per output element: the sigmoid
or SiLU (1 exp, 1 add, 1 division) and the product (1 mul)::

    >>> import symcost as sc
    >>> from symcost.symbols import L, D
    >>> c = sc.SwiGLU().cost(sc.Shape(L, 2*D))
    >>> c.out_shape, c.flops()
    (Shape(L, D), 4*D*L)
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.cost import Cost
from ..core.counts import OpCounts
from ..core.errors import ShapeError
from ..core.shape import Shape
from .base import Layer
from .dims import axis, dim_int, nonbatch
from .registry import register


@dataclass(frozen=True)
class _Gated(Layer):
    dim: int = -1

    def __post_init__(self) -> None:
        object.__setattr__(self, "dim", nonbatch(dim_int(self.dim, layer=self.label, argument="dim"),
                                                 layer=self.label, argument="dim"))

    def _cost(self, shape: Shape) -> Cost:
        a = axis(self.dim, shape.rank, layer=self.label, argument="dim")
        half = shape.dims[a] / 2
        if half.is_integer is False:
            raise ShapeError(f"{self.label}: dimension {self.dim} of {shape} ({shape.dims[a]}) must be even "
                             "to split in halves")
        out = Shape(*shape.dims[:a], half, *shape.dims[a + 1:])
        return Cost(self.kind, (shape,), out, ops=OpCounts(mul=1, add=1, div=1, special=1).scaled(out.numel))


@register
@dataclass(frozen=True)
class GLU(_Gated):
    pass


@register
@dataclass(frozen=True)
class SwiGLU(_Gated):
    pass
