"""Shape-only layers that regroup a sample's entries: Flatten, Unflatten, Reshape, View, Squeeze, Unsqueeze.

They copy or relabel memory and compute nothing (0 operations, no
parameters). Dimensions count as in torch, batch included: the default
``start_dim=1`` flattens a sample ``(C, H, W)`` to ``(C*H*W,)``; negative dims
count from the end. Sizes may be symbols: a product must match the input's as
a formula, and a ``-1`` entry is the quotient (assumed whole when it is a
formula such as ``C*H*W/4``). For receptive fields a flattened map counts as
one position that sees the whole map, so the Linear layers after it see
everything::

    >>> import symcost as sc
    >>> from symcost.symbols import C, H, W
    >>> sc.Flatten().cost(sc.Shape(512, 7, 7)).out_shape
    Shape(25088)
    >>> sc.Reshape((H, -1)).cost(sc.Shape(C, H, W)).out_shape
    Shape(H, C*W)
    >>> sc.Unflatten(1, (C, -1)).cost(sc.Shape(C*H*W)).out_shape
    Shape(C, H*W)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.counts import RFStep
from ..core.errors import InvalidArgumentError, ShapeError
from ..core.shape import MAX_RANK, Shape
from .base import Layer
from .dims import axis, dim_int, dim_ints
from .registry import register


def same(a: sympy.Expr, b: sympy.Expr) -> bool:
    """Two sizes equal as formulas."""
    return a == b or sympy.expand(a - b) == 0


def is_one(size: sympy.Expr, label: str) -> bool:
    """Whether an entry is 1; a formula that may or may not be 1 is refused (torch's answer depends on it)."""
    if size == 1:
        return True
    if size.is_number or (size - 1).is_positive:
        return False
    raise ShapeError(f"{label}: whether size {size} is 1 depends on its value; analyze with numbers for it")


def sizes_argument(value: object, *, layer: str, argument: str, wildcard: bool = True) -> tuple[sympy.Expr, ...]:
    """A list of sizes (positive, or one ``-1`` when ``wildcard``) as SymPy expressions."""
    if not isinstance(value, (tuple, list)):
        value = (value,)
    if len(value) > MAX_RANK:
        raise InvalidArgumentError(layer, argument, f"must hold at most {MAX_RANK} sizes", len(value))
    out = []
    for v in value:
        e = arg.to_expr(v, layer=layer, argument=argument)
        if wildcard and e == -1:
            out.append(e)
            continue
        out.append(arg.positive_int(e, layer=layer, argument=argument))
    if sum(1 for e in out if e == -1) > 1:
        raise InvalidArgumentError(layer, argument, "may hold at most one -1", tuple(value))
    return tuple(out)


def resolve(label: str, argument: str, numel: sympy.Expr, sizes: tuple[sympy.Expr, ...]) -> tuple[sympy.Expr, ...]:
    """``sizes`` with the ``-1`` entry inferred, checked to hold ``numel`` elements."""
    known = sympy.Mul(*(s for s in sizes if s != -1))
    if any(s == -1 for s in sizes):
        rest = sympy.cancel(numel / known)
        if rest.is_integer is False or rest.is_positive is False:
            raise ShapeError(f"{label}: {argument} {_show(sizes)} cannot hold {numel} elements "
                             f"({numel} is not a multiple of {known})")
        return tuple(rest if s == -1 else s for s in sizes)
    if not same(known, numel):
        message = f"{label}: {argument} {_show(sizes)} holds {known} elements, the input {numel}"
        if (known - numel).free_symbols:
            message += " as formulas; if they agree on your input sizes, analyze on those numbers"
        raise ShapeError(message)
    return sizes


def _show(sizes: tuple) -> str:
    return "(" + ", ".join(str(s) for s in sizes) + ")"


@register
@dataclass(frozen=True)
class Flatten(Layer):
    aliases_input: ClassVar[bool] = True

    start_dim: int = 1
    end_dim: int = -1

    def __post_init__(self) -> None:
        for argument in ("start_dim", "end_dim"):
            object.__setattr__(self, argument, dim_int(getattr(self, argument), layer=self.label, argument=argument))
        if self.start_dim == 0:
            raise InvalidArgumentError(self.label, "start_dim", "must not flatten the batch dimension (0)", 0)

    def _cost(self, shape: Shape) -> Cost:
        start = axis(self.start_dim, shape.rank, layer=self.label, argument="start_dim")
        end = axis(self.end_dim, shape.rank, layer=self.label, argument="end_dim")
        if start > end:
            raise InvalidArgumentError(self.label, "start_dim", f"must not come after end_dim ({self.end_dim})",
                                       self.start_dim)
        dims = shape.dims
        merged = dims[:start] + (sympy.Mul(*dims[start : end + 1]),) + dims[end + 1 :]
        rf = ()
        if shape.is_feature_map and len(merged) == 1:
            h, w = shape.H, shape.W
            rf = (RFStep(kernel=(h, w), stride=(h, w), padding=(sympy.Integer(0), sympy.Integer(0))),)
        return Cost(self.kind, (shape,), Shape(*merged), rf=rf)


@register
@dataclass(frozen=True)
class Unflatten(Layer):
    """``dim`` split into ``sizes`` (one may be -1), as torch.nn.Unflatten."""
    aliases_input: ClassVar[bool] = True

    dim: int
    sizes: tuple

    def __post_init__(self) -> None:
        object.__setattr__(self, "dim", dim_int(self.dim, layer=self.label, argument="dim"))
        object.__setattr__(self, "sizes", sizes_argument(self.sizes, layer=self.label, argument="sizes"))

    def _cost(self, shape: Shape) -> Cost:
        a = axis(self.dim, shape.rank, layer=self.label, argument="dim")
        sizes = resolve(self.label, "sizes", shape.dims[a], self.sizes)
        return Cost(self.kind, (shape,), Shape(*shape.dims[:a], *sizes, *shape.dims[a + 1 :]))


@register
@dataclass(frozen=True)
class Reshape(Layer):
    """``x.reshape(N, *shape)``: ``shape`` is one sample's new shape (one entry may be -1)."""
    aliases_input: ClassVar[bool] = True

    shape: tuple

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", sizes_argument(self.shape, layer=self.label, argument="shape"))

    def _cost(self, shape: Shape) -> Cost:
        return Cost(self.kind, (shape,), Shape(*resolve(self.label, "shape", shape.numel, self.shape)))


@register
@dataclass(frozen=True)
class View(Reshape):
    """``x.view(N, *shape)``: as :class:`Reshape` (a view never copies; neither computes)."""


@register
@dataclass(frozen=True)
class Squeeze(Layer):
    """``x.squeeze(dim)``: drops the size-1 entries among ``dim`` (an int, a list, or None for all)."""
    aliases_input: ClassVar[bool] = True

    dim: object = None

    def __post_init__(self) -> None:
        if self.dim is not None:
            dims = dim_ints(self.dim, layer=self.label, argument="dim")
            object.__setattr__(self, "dim", dims if isinstance(self.dim, (tuple, list)) else dims[0])

    def _cost(self, shape: Shape) -> Cost:
        if self.dim is None:
            axes = range(shape.rank)
        else:
            dims = self.dim if isinstance(self.dim, tuple) else (self.dim,)
            axes = [axis(d, shape.rank, layer=self.label, argument="dim") for d in dims]
            if len(set(axes)) != len(axes):
                raise InvalidArgumentError(self.label, "dim", "must not name a dimension twice", self.dim)
        drop = {a for a in axes if is_one(shape.dims[a], self.label)}
        return Cost(self.kind, (shape,), Shape(*(d for a, d in enumerate(shape.dims) if a not in drop)))


@register
@dataclass(frozen=True)
class Unsqueeze(Layer):
    """``x.unsqueeze(dim)``: a new size-1 entry at ``dim`` of the result (batch counted)."""
    aliases_input: ClassVar[bool] = True

    dim: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "dim", dim_int(self.dim, layer=self.label, argument="dim"))

    def _cost(self, shape: Shape) -> Cost:
        a = axis(self.dim, shape.rank + 1, layer=self.label, argument="dim")
        return Cost(self.kind, (shape,), Shape(*shape.dims[:a], 1, *shape.dims[a:]))
