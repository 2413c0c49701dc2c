"""Layers with several outputs: Chunk, Split, TensorSplit and Unbind, as torch's functions. They compute nothing.

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

TensorSplit follows ``torch.tensor_split``: ``n`` sections (the first
``size % n`` one entry longer, always ``n`` of them) or cuts at indices, read
as slice bounds (``x[:i0], x[i0:i1], ..., x[ik:]``)::

    >>> sc.TensorSplit(3, dim=1).cost(sc.Shape(7, H, W)).out_shapes
    (Shape(3, H, W), Shape(2, H, W), Shape(2, H, W))
    >>> sc.TensorSplit((1,), dim=2).cost(sc.Shape(C, H, W)).out_shapes
    (Shape(C, 1, W), Shape(C, H - 1, W))
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
from .layout import slice_bound
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
class TensorSplit(Layer):
    """``torch.tensor_split(x, indices_or_sections, dim)``: ``n`` sections (a number), or cuts at a list of
    indices (numbers or formulas, negative ones counted from the end, clamped as slice bounds)."""
    aliases_input: ClassVar[bool] = True

    indices_or_sections: object
    dim: int

    def __post_init__(self) -> None:
        label, value = self.label, self.indices_or_sections
        if isinstance(value, (tuple, list)):
            if len(value) >= MAX_OUTPUTS:
                raise InvalidArgumentError(label, "indices_or_sections", f"must list at most {MAX_OUTPUTS - 1} "
                                           "indices", len(value))
            value = tuple(arg.integer(v, layer=label, argument="indices_or_sections") for v in value)
        else:
            value = arg.positive_int(value, layer=label, argument="indices_or_sections")
            if not value.is_Integer:
                raise InvalidArgumentError(label, "indices_or_sections", "must be a number of sections or a list "
                                           "of indices (the number of outputs must be a number)", value)
            if value > MAX_OUTPUTS:
                raise InvalidArgumentError(label, "indices_or_sections", f"must be at most {MAX_OUTPUTS} sections",
                                           value)
        object.__setattr__(self, "indices_or_sections", value)
        object.__setattr__(self, "dim", dim_int(self.dim, layer=label, argument="dim"))

    def _cost(self, shape: Shape) -> Cost:
        a = axis(self.dim, shape.rank, layer=self.label, argument="dim")
        n, value = shape.dims[a], self.indices_or_sections
        if isinstance(value, tuple):
            cuts = [sympy.Integer(0), *(slice_bound(self.label, "indices_or_sections", i, n) for i in value), n]
            # a later cut before an earlier one leaves an empty piece, as x[5:3] is
            sizes = [sympy.Max(end - start, 0) if not arg.proven(end >= start) else end - start
                     for start, end in zip(cuts, cuts[1:])]
        else:
            k = int(value)
            sizes = [sympy.floor((n + k - 1 - i) / k) for i in range(k)]  # the first n % k one longer
        for i, size in enumerate(sizes):
            if arg.proven(size <= 0):
                raise ShapeError(f"{self.label}: piece {i} of {len(sizes)} of size {n} along dimension {self.dim} "
                                 "is empty (torch returns an empty tensor; symcost sizes are positive)")
        return _pieces(self, shape, a, sizes)


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
