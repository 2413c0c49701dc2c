"""Layout layers: they move, pick or repeat entries and compute nothing (0 operations, no parameters).

``Permute``, ``Transpose``, ``Expand``, ``Contiguous``, ``Select``, ``Slice``,
``IndexSelect`` and ``Roll``, as the torch tensor methods of the same names.
Dimensions count as in torch, batch included (``dim=1`` is a map's channels),
and may be negative; the batch itself never moves. Sizes, indices and bounds
may be symbols; a rule that a formula may break is checked when numbers are
put in::

    >>> import symcost as sc
    >>> from symcost.symbols import C, H, W
    >>> sc.Permute((0, 2, 3, 1)).cost(sc.Shape(C, H, W)).out_shape
    Shape(H, W, C)
    >>> c = sc.Slice(dim=2, start=1).cost(sc.Shape(C, H, W))
    >>> c.out_shape, c.flops()
    (Shape(C, H - 1, W), 0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.errors import InvalidArgumentError, ShapeError
from ..core.shape import Shape
from ..core.traffic import INDEX_BYTES, Traffic
from .base import Layer
from .dims import axis, dim_int, dim_ints
from .registry import register
from .reshape import is_one, same


@register
@dataclass(frozen=True)
class Permute(Layer):
    """``x.permute(*dims)``: ``dims`` names every dimension of the batched tensor, the batch (0) first."""
    aliases_input: ClassVar[bool] = True

    dims: tuple

    def __post_init__(self) -> None:
        object.__setattr__(self, "dims", dim_ints(self.dims, layer=self.label, argument="dims", allow_one=False))

    def _cost(self, shape: Shape) -> Cost:
        rank = shape.rank + 1
        if len(self.dims) != rank or any(not -rank <= d < rank for d in self.dims):
            raise InvalidArgumentError(self.label, "dims", f"must be a permutation of the {rank} dimensions of "
                                       f"the batched input (batch + {shape})", self.dims)
        full = [d % rank for d in self.dims]
        if sorted(full) != list(range(rank)):
            raise InvalidArgumentError(self.label, "dims", f"must name each of the {rank} dimensions once", self.dims)
        if full[0] != 0:
            raise InvalidArgumentError(self.label, "dims", "must keep the batch (0) first", self.dims)
        return Cost(self.kind, (shape,), Shape(*(shape.dims[d - 1] for d in full[1:])))


@register
@dataclass(frozen=True)
class Transpose(Layer):
    """``x.transpose(dim0, dim1)``: two dimensions swapped (neither the batch)."""
    aliases_input: ClassVar[bool] = True

    dim0: int
    dim1: int

    def __post_init__(self) -> None:
        for argument in ("dim0", "dim1"):
            object.__setattr__(self, argument, dim_int(getattr(self, argument), layer=self.label, argument=argument))

    def _cost(self, shape: Shape) -> Cost:
        a = axis(self.dim0, shape.rank, layer=self.label, argument="dim0")
        b = axis(self.dim1, shape.rank, layer=self.label, argument="dim1")
        dims = list(shape.dims)
        dims[a], dims[b] = dims[b], dims[a]
        return Cost(self.kind, (shape,), Shape(*dims))


@register
@dataclass(frozen=True)
class Expand(Layer):
    """``x.expand(N, *sizes)``: ``sizes`` per sample, of the input's rank; -1 keeps an entry, size-1 entries repeat.

    It returns a view with stride 0 along repeated entries: no copy, no operation.
    """
    aliases_input: ClassVar[bool] = True

    sizes: tuple

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", self._sizes())

    def _sizes(self) -> tuple:
        values = self.sizes if isinstance(self.sizes, (tuple, list)) else (self.sizes,)
        out = []
        for v in values:
            e = arg.to_expr(v, layer=self.label, argument="sizes")
            out.append(e if e == -1 else arg.positive_int(e, layer=self.label, argument="sizes"))
        return tuple(out)

    def _cost(self, shape: Shape) -> Cost:
        if len(self.sizes) != shape.rank:
            raise ShapeError(f"{self.label}: sizes {self.sizes} must give one size per entry of {shape} "
                             f"(batch excluded)")
        dims = []
        for n, t in zip(shape.dims, self.sizes):
            if t == -1 or same(n, t):
                dims.append(n)
            elif is_one(n, self.label):
                dims.append(t)
            else:
                raise ShapeError(f"{self.label}: cannot expand size {n} of {shape} to {t}: only size-1 entries repeat")
        return Cost(self.kind, (shape,), Shape(*dims))


@register
@dataclass(frozen=True)
class Contiguous(Layer):
    """``x.contiguous()``: a copy in row-major order when the memory is not (a permute's output); no arithmetic."""

    def _cost(self, shape: Shape) -> Cost:
        return Cost(self.kind, (shape,), shape)


def _index_in(label: str, argument: str, index: sympy.Expr, size: sympy.Expr) -> None:
    if arg.proven(index >= size) or arg.proven(index < -size):
        raise ShapeError(f"{label}: {argument} {index} is out of range for a dimension of size {size}")


@register
@dataclass(frozen=True)
class Select(Layer):
    """``x.select(dim, index)``: one entry along ``dim``, which disappears (negative ``index`` counts back)."""
    aliases_input: ClassVar[bool] = True

    dim: int
    index: object

    def __post_init__(self) -> None:
        object.__setattr__(self, "dim", dim_int(self.dim, layer=self.label, argument="dim"))
        object.__setattr__(self, "index", arg.integer(self.index, layer=self.label, argument="index"))

    def _cost(self, shape: Shape) -> Cost:
        a = axis(self.dim, shape.rank, layer=self.label, argument="dim")
        _index_in(self.label, "index", self.index, shape.dims[a])
        return Cost(self.kind, (shape,), Shape(*shape.dims[:a], *shape.dims[a + 1 :]))


def slice_bound(label: str, argument: str, value: sympy.Expr, size: sympy.Expr) -> sympy.Expr:
    """A slice bound as Python reads it: negative counts from the end, then clamped to 0..size."""
    if arg.proven(value < 0):
        value = value + size
    elif not arg.proven(value >= 0):
        raise ShapeError(f"{label}: the sign of {argument} {value} is unknown; a slice reads it from the end "
                         "when negative")
    if arg.proven(value <= 0):
        return sympy.Integer(0)
    if arg.proven(value >= size):
        return size
    if arg.proven(value <= size) or arg.proven(value <= 1):  # a dimension holds at least one entry
        return value
    return sympy.Min(value, size)


@register
@dataclass(frozen=True)
class Slice(Layer):
    """``x[..., start:end:step, ...]`` along ``dim``, with Python's clamping of the bounds (as torch)."""
    aliases_input: ClassVar[bool] = True

    dim: int
    start: object = None
    end: object = None
    step: object = 1

    def __post_init__(self) -> None:
        label = self.label
        object.__setattr__(self, "dim", dim_int(self.dim, layer=label, argument="dim"))
        for argument in ("start", "end"):
            value = getattr(self, argument)
            if value is not None:
                object.__setattr__(self, argument, arg.integer(value, layer=label, argument=argument))
        object.__setattr__(self, "step", arg.positive_int(self.step, layer=label, argument="step"))

    def _cost(self, shape: Shape) -> Cost:
        a = axis(self.dim, shape.rank, layer=self.label, argument="dim")
        n = shape.dims[a]
        start = sympy.Integer(0) if self.start is None else slice_bound(self.label, "start", self.start, n)
        end = n if self.end is None else slice_bound(self.label, "end", self.end, n)
        if arg.proven(end - start <= 0):
            raise ShapeError(f"{self.label}: slice {self.start}:{self.end} of a dimension of size {n} is empty")
        length = sympy.ceiling((end - start) / self.step)
        return Cost(self.kind, (shape,), Shape(*shape.dims[:a], length, *shape.dims[a + 1 :]))


@register
@dataclass(frozen=True)
class IndexSelect(Layer):
    """``torch.index_select(x, dim, index)`` with ``index_count`` indices: a gather, no arithmetic."""

    dim: int
    index_count: object

    def __post_init__(self) -> None:
        object.__setattr__(self, "dim", dim_int(self.dim, layer=self.label, argument="dim"))
        object.__setattr__(self, "index_count",
                           arg.positive_int(self.index_count, layer=self.label, argument="index_count"))

    def _cost(self, shape: Shape) -> Cost:
        a = axis(self.dim, shape.rank, layer=self.label, argument="dim")
        return Cost(self.kind, (shape,), Shape(*shape.dims[:a], self.index_count, *shape.dims[a + 1 :]))

    def traffic(self, cost: Cost, size: int) -> Traffic:
        """A gather: the int64 index and the selected entries (the output's size) read, the output written."""
        out = cost.activations * size
        return Traffic(inputs=out + self.index_count * INDEX_BYTES, outputs=out)


@register
@dataclass(frozen=True)
class Roll(Layer):
    """``torch.roll(x, shifts, dims)``: entries shifted cyclically; ``dims`` is required (torch's default
    rolls the flattened tensor, batch included)."""

    shifts: object
    dims: object

    def __post_init__(self) -> None:
        label = self.label
        shifts = self.shifts if isinstance(self.shifts, (tuple, list)) else (self.shifts,)
        dims = dim_ints(self.dims, layer=label, argument="dims")
        if len(shifts) != len(dims) or not dims:
            raise InvalidArgumentError(label, "shifts", f"must give one shift per dim ({len(dims)})", self.shifts)
        object.__setattr__(self, "shifts", tuple(arg.integer(s, layer=label, argument="shifts") for s in shifts))
        object.__setattr__(self, "dims", dims)

    def _cost(self, shape: Shape) -> Cost:
        for d in self.dims:
            axis(d, shape.rank, layer=self.label, argument="dims")
        return Cost(self.kind, (shape,), shape)
