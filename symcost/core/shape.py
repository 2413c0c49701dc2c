"""The shape of one sample flowing between layers (batch excluded), of any rank.

``Shape(L)`` holds token ids, ``Shape(D)`` a flat vector, ``Shape(L, D)`` a
sequence of tokens, ``Shape(C, L)`` a 1-D map, ``Shape(C, H, W)`` a feature
map, ``Shape(C, T, H, W)`` a video clip; ``Shape()`` is a scalar (a loss).
Each layer reads the entries as its torch counterpart does. Entries are ints
or SymPy expressions::

    >>> from symcost.symbols import C_in, W
    >>> s = Shape(C_in, W, W)
    >>> s.numel
    C_in*W**2
    >>> s.subs(C_in=3, W=224)
    Shape(3, 224, 224)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import sympy

from .arguments import to_expr
from .canonical import text
from .errors import ShapeError
from .evaluate import substitute


#: The most entries a shape may have (torch allows 64 dimensions; no network uses more than a handful).
MAX_RANK = 16


@dataclass(frozen=True, init=False)
class Shape:
    dims: tuple[sympy.Expr, ...]

    def __init__(self, *dims: object):
        if len(dims) == 1 and isinstance(dims[0], (tuple, list, Shape)):
            dims = tuple(dims[0])
        if len(dims) > MAX_RANK:
            raise ShapeError(f"Shape takes at most {MAX_RANK} entries (as torch tensors do), got {len(dims)}")
        exprs = tuple(to_expr(d, layer="Shape", argument=f"entry {i}") for i, d in enumerate(dims))
        for i, e in enumerate(exprs):
            if e.is_integer is False or e.is_positive is False:
                raise ShapeError(f"Shape: entry {i} must be a positive integer, got {e}")
        object.__setattr__(self, "dims", exprs)

    # -- access ------------------------------------------------------------
    def __iter__(self) -> Iterator[sympy.Expr]:
        return iter(self.dims)

    def __len__(self) -> int:
        return len(self.dims)

    def __getitem__(self, index: int) -> sympy.Expr:
        return self.dims[index]

    @property
    def rank(self) -> int:
        return len(self.dims)

    @property
    def is_feature_map(self) -> bool:
        return self.rank == 3

    @property
    def numel(self) -> sympy.Expr:
        """Number of elements: the product of all entries."""
        return sympy.Mul(*self.dims)

    @property
    def C(self) -> sympy.Expr:
        return self._map_dims()[0]

    @property
    def H(self) -> sympy.Expr:
        return self._map_dims()[1]

    @property
    def W(self) -> sympy.Expr:
        return self._map_dims()[2]

    def _map_dims(self) -> tuple[sympy.Expr, ...]:
        if self.rank != 3:
            raise ShapeError(f"shape {self} is not a (C, H, W) feature map")
        return self.dims

    @property
    def free_symbols(self) -> set[sympy.Symbol]:
        return set().union(*(d.free_symbols for d in self.dims))

    def map_exprs(self, fn) -> "Shape":
        """The shape with ``fn`` applied to every entry (checked again)."""
        return Shape(*(fn(d) for d in self.dims))

    def subs(self, values: dict | None = None, /, **by_name: object) -> "Shape":
        """Substitute numbers (or expressions) for symbols, by symbol or by name."""
        return self.map_exprs(lambda e: substitute(e, values, **by_name))

    @property
    def spatial(self) -> tuple[sympy.Expr, ...]:
        """The entries after the channels: ``(L,)``, ``(H, W)`` or ``(T, H, W)`` of a map."""
        return self.dims[1:]

    def __str__(self) -> str:
        return "(" + ", ".join(text(d) for d in self.dims) + ("," if self.rank == 1 else "") + ")"

    def __repr__(self) -> str:
        return "Shape(" + ", ".join(text(d) for d in self.dims) + ")"
