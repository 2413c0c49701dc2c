"""Mean: the average over some dimensions, as ``x.mean(dim, keepdim)`` in torch.

Dimensions count as in torch, batch included: ``Mean((2, 3))`` averages a
``(C, H, W)`` map over its height and width; any rank, and ``dim=None``
averages the whole sample into a scalar ``Shape()`` (see
:mod:`~symcost.layers.reductions`, which Mean shares with Sum, Var, Amax and
Amin). Each output sums the ``R`` values it reduces and divides once:
``R - 1`` adds and one division, as a full-window average pool. It is its own
kind, apart from :class:`~symcost.layers.adaptive_pooling.AdaptiveAvgPool2d`,
because peer tools count the two differently::

    >>> import symcost as sc
    >>> from symcost.symbols import C, H, W
    >>> c = sc.Mean((2, 3)).cost(sc.Shape(C, H, W))
    >>> c.out_shape, c.ops.add, c.ops.div
    (Shape(C), C*(H*W - 1), C)
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..core.counts import OpCounts
from .reductions import Reduction
from .registry import register


@register
@dataclass(frozen=True)
class Mean(Reduction):
    verb = "average"

    def per_output(self, n: sympy.Expr) -> OpCounts:
        return OpCounts(add=n - 1, div=1)
