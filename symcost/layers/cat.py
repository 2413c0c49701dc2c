"""Cat: tensors joined along one dimension, as torch.cat; it computes nothing.

Dimensions count as in torch, batch included: the default ``dim=1`` joins the
channels of ``(C, H, W)`` maps (or the features of vectors). Every other
dimension must agree; along ``dim`` the sizes add up::

    >>> import symcost as sc
    >>> from symcost.symbols import H, W
    >>> sc.Cat().cost(sc.Shape(64, H, W), sc.Shape(32, H, W)).out_shape
    Shape(96, H, W)
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..core.cost import Cost
from ..core.errors import InvalidArgumentError, ShapeError
from .registry import register
from ..core.shape import Shape
from .base import Layer


def _agree(a: sympy.Expr, b: sympy.Expr) -> bool:
    return a == b or sympy.expand(a - b) == 0


@register
@dataclass(frozen=True)
class Cat(Layer):
    dim: int = 1

    arity = None

    def __post_init__(self) -> None:
        if isinstance(self.dim, bool) or not isinstance(self.dim, int):
            raise InvalidArgumentError(self.label, "dim", "must be an int", self.dim)
        if self.dim == 0:
            raise InvalidArgumentError(self.label, "dim", "must not join along the batch dimension (0)", 0)

    def _cost(self, *shapes: Shape) -> Cost:
        first = shapes[0]
        rank = first.rank + 1  # torch counts the batch dimension
        if not -rank < self.dim < rank:
            raise InvalidArgumentError(self.label, "dim", f"must select a dimension 1..{rank - 1} of {first}",
                                       self.dim)
        axis = self.dim % rank - 1
        for other in shapes[1:]:
            if other.rank != first.rank or not all(
                _agree(a, b) for i, (a, b) in enumerate(zip(first.dims, other.dims)) if i != axis
            ):
                message = f"{self.label}: inputs {first} and {other} differ outside dimension {axis + 1}"
                if (first.free_symbols | other.free_symbols) and other.rank == first.rank:
                    message += (" as formulas; if they agree on your input sizes, analyze on those "
                                "(e.g. H = 16*h) or with floor='divisible'")
                raise ShapeError(message)
        dims = list(first.dims)
        dims[axis] = sympy.Add(*(s.dims[axis] for s in shapes))
        return Cost(self.kind, shapes, Shape(*dims))
