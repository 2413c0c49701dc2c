"""Cat and Stack: tensors joined along one dimension, as torch.cat and torch.stack; they compute nothing.

Dimensions count as in torch, batch included, and may be negative: the
default ``dim=1`` joins the channels of ``(C, H, W)`` maps (or the features
of vectors). Cat joins along an existing dimension, whose sizes add up, and
takes one tensor or more (a DenseNet block's first cat has one); Stack joins
tensors of one shape along a new dimension. Every other dimension must agree::

    >>> import symcost as sc
    >>> from symcost.symbols import H, W
    >>> sc.Cat().cost(sc.Shape(64, H, W), sc.Shape(32, H, W)).out_shape
    Shape(96, H, W)
    >>> sc.Stack(dim=-1).cost(sc.Shape(64, H), sc.Shape(64, H)).out_shape
    Shape(64, H, 2)
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..core.cost import Cost
from ..core.errors import ShapeError
from .registry import register
from ..core.shape import Shape
from .base import Layer
from .dims import axis, dim_int, nonbatch
from .reshape import same


def _mismatch(label: str, first: Shape, other: Shape, where: str) -> ShapeError:
    message = f"{label}: inputs {first} and {other} differ {where}"
    if (first.free_symbols | other.free_symbols) and other.rank == first.rank:
        message += (" as formulas; if they agree on your input sizes, analyze on those "
                    "(e.g. H = 16*h) or with floor='divisible'")
    return ShapeError(message)


@dataclass(frozen=True)
class _Join(Layer):
    """One or more inputs joined along ``dim`` (torch counts the batch as dimension 0)."""

    dim: int = 1

    arity = None
    min_inputs = 1

    def __post_init__(self) -> None:
        dim = dim_int(self.dim, layer=self.label, argument="dim")
        object.__setattr__(self, "dim", nonbatch(dim, layer=self.label, argument="dim"))


@register
@dataclass(frozen=True)
class Cat(_Join):
    def _cost(self, *shapes: Shape) -> Cost:
        first = shapes[0]
        a = axis(self.dim, first.rank, layer=self.label, argument="dim")
        for other in shapes[1:]:
            if other.rank != first.rank or not all(
                same(x, y) for i, (x, y) in enumerate(zip(first.dims, other.dims)) if i != a
            ):
                raise _mismatch(self.label, first, other, f"outside dimension {a + 1}")
        dims = list(first.dims)
        dims[a] = sympy.Add(*(s.dims[a] for s in shapes))
        return Cost(self.kind, shapes, Shape(*dims))


@register
@dataclass(frozen=True)
class Stack(_Join):
    """``torch.stack(tensors, dim)``: inputs of one shape joined along a new ``dim`` of the result."""

    def _cost(self, *shapes: Shape) -> Cost:
        first = shapes[0]
        a = axis(self.dim, first.rank + 1, layer=self.label, argument="dim")
        for other in shapes[1:]:
            if other.rank != first.rank or not all(same(x, y) for x, y in zip(first.dims, other.dims)):
                raise _mismatch(self.label, first, other, "in shape")
        return Cost(self.kind, shapes, Shape(*first.dims[:a], len(shapes), *first.dims[a:]))
