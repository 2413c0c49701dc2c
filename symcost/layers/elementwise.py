"""Add and Mul: elementwise sums and products of two or more inputs; Scale by a constant.

Inputs broadcast as in torch (an entry of 1 stretches), so a squeeze-and-
excitation gate ``(C, 1, 1) * (C, H, W)`` is a Mul. ``n`` inputs cost
``n - 1`` adds (or multiplies) per output element::

    >>> import symcost as sc
    >>> from symcost.symbols import C, H, W
    >>> sc.Add().cost(sc.Shape(C, H, W), sc.Shape(C, H, W)).flops()
    C*H*W
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.counts import OpCounts
from ..core.errors import InvalidArgumentError, ShapeError
from .registry import register
from ..core.shape import Shape
from .base import Layer


def broadcast(label: str, shapes: tuple[Shape, ...]) -> Shape:
    """The broadcast shape, or a ShapeError naming both disagreeing shapes."""
    rank = max(s.rank for s in shapes)
    padded = [(sympy.Integer(1),) * (rank - s.rank) + s.dims for s in shapes]
    out = list(padded[0])
    for shape, dims in zip(shapes[1:], padded[1:]):
        for i, d in enumerate(dims):
            if d == out[i] or d == 1:
                continue
            if out[i] == 1:
                out[i] = d
                continue
            raise ShapeError(
                f"{label}: input shapes {shapes[0]} and {shape} do not match (dimension {i}: {out[i]} vs {d})"
            )
    return Shape(*out)


@dataclass(frozen=True)
class _Elementwise(Layer):
    arity = None
    op: ClassVar[str] = "add"

    def _cost(self, *shapes: Shape) -> Cost:
        out = broadcast(self.label, shapes)
        count = (len(shapes) - 1) * out.numel
        return Cost(self.kind, shapes, out, ops=OpCounts(**{self.op: count}))


@register
@dataclass(frozen=True)
class Add(_Elementwise):
    op = "add"


@register
@dataclass(frozen=True)
class Mul(_Elementwise):
    op = "mul"


@register
@dataclass(frozen=True)
class Div(_Elementwise):
    """``a / b`` of two tensors (broadcast): one division per output element (a number divisor is a
    :class:`Scale`)."""
    op = "div"


@register
@dataclass(frozen=True)
class Scale(Layer):
    """Every element times a constant ``factor``, or divided by it (``divide=True``, as ``x / 2``).

    One multiply (or division) per element::

        >>> import symcost as sc
        >>> sc.Scale(2, divide=True).cost(sc.Shape(4, 8, 8)).ops.div
        256
    """

    factor: object
    divide: bool = False

    def __post_init__(self) -> None:
        factor = arg.to_expr(self.factor, layer=self.label, argument="factor")
        if factor.is_zero:
            raise InvalidArgumentError(self.label, "factor", "must not be zero", 0)
        object.__setattr__(self, "factor", factor)
        arg.boolean(self.divide, layer=self.label, argument="divide")

    def _cost(self, shape: Shape) -> Cost:
        return Cost(self.kind, (shape,), shape, ops=OpCounts(**{"div" if self.divide else "mul": shape.numel}))
