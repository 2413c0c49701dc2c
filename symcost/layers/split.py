"""Layers with several outputs: Chunk, Split and Unbind, as torch's tensor methods. They compute nothing.

The first output is ``Cost.out_shape``, the others ``Cost.more_outputs``; in a
``Graph`` a node reads output ``i`` as ``("node", i)``. ``dim`` counts the
batch as 0 (torch's default 0 would split the batch, so it is required).
Chunk follows torch: pieces of ``ceil(n / chunks)``, the last smaller, and
maybe fewer than ``chunks`` of them. A symbolic size must split evenly: Chunk
then assumes ``chunks`` divides it (as a GLU's halves), Split needs a number
of pieces that is a number, Unbind a number of entries::

    >>> import symcost as sc
    >>> from symcost.symbols import C, H, W
    >>> sc.Chunk(3, dim=1).cost(sc.Shape(8, H, W)).out_shapes
    (Shape(3, H, W), Shape(3, H, W), Shape(2, H, W))
    >>> sc.Chunk(2, dim=1).cost(sc.Shape(2*C, H, W)).out_shapes
    (Shape(C, H, W), Shape(C, H, W))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.errors import InvalidArgumentError, ShapeError
from ..core.shape import Shape
from .base import Layer
from .dims import axis, dim_int
from .registry import register
from .reshape import same

#: The most outputs one layer may return (bounds the work for huge counts).
MAX_OUTPUTS = 10_000


def _pieces(layer: Layer, shape: Shape, a: int, sizes: list[sympy.Expr], *, drop: bool = False) -> Cost:
    if len(sizes) > MAX_OUTPUTS:
        raise ShapeError(f"{layer.label}: would return {len(sizes)} outputs, more than {MAX_OUTPUTS}")
    before, after = shape.dims[:a], shape.dims[a + 1 :]
    outs = [Shape(*before, *(() if drop else (s,)), *after) for s in sizes]
    return Cost(layer.kind, (shape,), outs[0], more_outputs=tuple(outs[1:]))


def _even(label: str, size: int, step: int) -> list[sympy.Expr]:
    """torch's pieces of ``step`` entries out of ``size`` (the last smaller), bounded in number."""
    count = -(-size // step)
    if count > MAX_OUTPUTS:
        raise ShapeError(f"{label}: would return {count} outputs, more than {MAX_OUTPUTS}")
    return [sympy.Integer(min(step, size - s)) for s in range(0, size, step)]


def _count(label: str, n: sympy.Expr, what: str) -> int:
    if not n.is_Integer:
        raise ShapeError(f"{label}: {what} {n} is a formula; the number of outputs must be a number "
                         "(analyze with numbers for it)")
    return int(n)


@register
@dataclass(frozen=True)
class Chunk(Layer):
    aliases_input: ClassVar[bool] = True

    chunks: object
    dim: int

    def __post_init__(self) -> None:
        chunks = arg.positive_int(self.chunks, layer=self.label, argument="chunks")
        if not chunks.is_Integer:
            raise InvalidArgumentError(self.label, "chunks", "must be a number (it counts the outputs)", chunks)
        object.__setattr__(self, "chunks", chunks)
        object.__setattr__(self, "dim", dim_int(self.dim, layer=self.label, argument="dim"))

    def _cost(self, shape: Shape) -> Cost:
        a = axis(self.dim, shape.rank, layer=self.label, argument="dim")
        n, k = shape.dims[a], self.chunks
        if n.is_Integer:
            return _pieces(self, shape, a, _even(self.label, int(n), -(-int(n) // int(k))))
        if k > MAX_OUTPUTS:
            raise ShapeError(f"{self.label}: would return {k} outputs, more than {MAX_OUTPUTS}")
        piece = sympy.cancel(n / k)
        if piece.is_integer is False:
            raise ShapeError(f"{self.label}: {k} does not divide size {n}; chunks of a formula must be equal")
        return _pieces(self, shape, a, [piece] * int(k))


@register
@dataclass(frozen=True)
class Split(Layer):
    """``torch.split(x, split_size_or_sections, dim)``: pieces of one size (the last smaller), or given sizes."""
    aliases_input: ClassVar[bool] = True

    split_size_or_sections: object
    dim: int

    def __post_init__(self) -> None:
        label, value = self.label, self.split_size_or_sections
        if isinstance(value, (tuple, list)):
            if not value or len(value) > MAX_OUTPUTS:
                raise InvalidArgumentError(label, "split_size_or_sections", f"must list 1 to {MAX_OUTPUTS} sizes",
                                           len(value))
            value = tuple(arg.positive_int(v, layer=label, argument="split_size_or_sections") for v in value)
        else:
            value = arg.positive_int(value, layer=label, argument="split_size_or_sections")
        object.__setattr__(self, "split_size_or_sections", value)
        object.__setattr__(self, "dim", dim_int(self.dim, layer=label, argument="dim"))

    def _cost(self, shape: Shape) -> Cost:
        a = axis(self.dim, shape.rank, layer=self.label, argument="dim")
        n, value = shape.dims[a], self.split_size_or_sections
        if isinstance(value, tuple):
            total = sympy.Add(*value)
            if not same(total, n):
                raise ShapeError(f"{self.label}: sections {tuple(str(v) for v in value)} add up to {total}, "
                                 f"not to size {n} of dimension {self.dim}")
            return _pieces(self, shape, a, list(value))
        if n.is_Integer and value.is_Integer:
            return _pieces(self, shape, a, _even(self.label, int(n), int(value)))
        count = sympy.cancel(n / value)
        if count.is_Integer and count > 0:
            if count > MAX_OUTPUTS:
                raise ShapeError(f"{self.label}: would return {count} outputs, more than {MAX_OUTPUTS}")
            return _pieces(self, shape, a, [value] * int(count))
        raise ShapeError(f"{self.label}: size {n} in pieces of {value} gives {count} pieces; with formulas the "
                         "number of pieces must be a number (analyze with numbers for them)")


@register
@dataclass(frozen=True)
class Unbind(Layer):
    """``x.unbind(dim)``: one output per entry along ``dim``, which disappears."""
    aliases_input: ClassVar[bool] = True

    dim: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "dim", dim_int(self.dim, layer=self.label, argument="dim"))

    def _cost(self, shape: Shape) -> Cost:
        a = axis(self.dim, shape.rank, layer=self.label, argument="dim")
        n = _count(self.label, shape.dims[a], f"size of dimension {self.dim}")
        if n > MAX_OUTPUTS:
            raise ShapeError(f"{self.label}: would return {n} outputs, more than {MAX_OUTPUTS}")
        return _pieces(self, shape, a, [sympy.Integer(1)] * n, drop=True)
