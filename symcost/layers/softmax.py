"""Softmax and LogSoftmax along one dimension, as torch.nn.Softmax / LogSoftmax, computed stably.

Dimensions count as in torch, batch included (``dim=-1`` is the last). Per
line of ``n`` values along ``dim``:

* Softmax: ``m = max`` (n-1 cmp), ``x - m`` (n adds), ``exp`` (n specials),
  the sum (n-1 adds), ``e / sum`` (n divisions);
* LogSoftmax: ``x - m - log(sum exp(x - m))``: n-1 cmp, n adds, n exps,
  n-1 adds, 1 log, n adds (3n - 1 adds, n + 1 specials).

    >>> import symcost as sc
    >>> from symcost.symbols import L
    >>> c = sc.Softmax(-1).cost(sc.Shape(L, L))
    >>> c.ops.cmp, c.ops.add, c.ops.div, c.ops.special
    (L*(L - 1), L*(2*L - 1), L**2, L**2)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..core.cost import Cost
from ..core.counts import OpCounts
from ..core.shape import Shape
from .base import Layer
from .dims import axis, dim_int, nonbatch
from .registry import register


@dataclass(frozen=True)
class _Softmax(Layer):
    dim: object

    log: ClassVar[bool] = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "dim", nonbatch(dim_int(self.dim, layer=self.label, argument="dim"),
                                                 layer=self.label, argument="dim"))

    def _cost(self, shape: Shape) -> Cost:
        n = shape.dims[axis(self.dim, shape.rank, layer=self.label, argument="dim")]
        lines = shape.numel / n
        if self.log:
            ops = OpCounts(cmp=n - 1, add=3 * n - 1, special=n + 1)
        else:
            ops = OpCounts(cmp=n - 1, add=2 * n - 1, special=n, div=n)
        return Cost(self.kind, (shape,), shape, ops=ops.scaled(lines))


@register
@dataclass(frozen=True)
class Softmax(_Softmax):
    pass


@register
@dataclass(frozen=True)
class LogSoftmax(_Softmax):
    log = True
