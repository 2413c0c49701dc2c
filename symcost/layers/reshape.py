"""Flatten, as torch.nn.Flatten: merges dimensions, computes nothing.

Dimensions count as in torch, batch included: the default ``start_dim=1``
flattens a sample ``(C, H, W)`` to ``(C*H*W,)``. For receptive fields the
flattened map counts as one position that sees the whole map, so the
Linear layers after it see everything::

    >>> import symcost as sc
    >>> sc.Flatten().cost(sc.Shape(512, 7, 7)).out_shape
    Shape(25088)
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..core.cost import Cost
from ..core.counts import RFStep
from ..core.errors import InvalidArgumentError
from .registry import register
from ..core.shape import Shape
from .base import Layer


@register
@dataclass(frozen=True)
class Flatten(Layer):
    start_dim: int = 1
    end_dim: int = -1

    def __post_init__(self) -> None:
        for argument in ("start_dim", "end_dim"):
            value = getattr(self, argument)
            if isinstance(value, sympy.Integer):  # a spec's -1 arrives as an expression
                value = int(value)
                object.__setattr__(self, argument, value)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidArgumentError(self.label, argument, "must be an integer dimension (negative counts "
                                           "from the end, as in torch)", value)
        if self.start_dim == 0:
            raise InvalidArgumentError(self.label, "start_dim", "must not flatten the batch dimension (0)", 0)

    def _cost(self, shape: Shape) -> Cost:
        rank = shape.rank + 1  # torch counts the batch dimension
        for argument in ("start_dim", "end_dim"):
            value = getattr(self, argument)
            if not -rank <= value < rank:
                raise InvalidArgumentError(
                    self.label, argument, f"must be a dimension of the {rank}-d input with its batch dimension, "
                    f"in [{-rank}, {rank - 1}] (torch's rule)", value,
                )
        start = self.start_dim % rank
        end = self.end_dim % rank
        if start == 0:
            raise InvalidArgumentError(self.label, "start_dim", f"must not flatten the batch dimension "
                                       f"({self.start_dim} is dimension 0 of a {rank}-d input)", self.start_dim)
        if not 1 <= start <= end < rank:
            raise InvalidArgumentError(
                self.label, "start_dim/end_dim", f"must select dimensions 1..{rank - 1} in order",
                (self.start_dim, self.end_dim),
            )
        dims = shape.dims
        merged = dims[: start - 1] + (sympy.Mul(*dims[start - 1 : end]),) + dims[end:]
        rf = ()
        if shape.is_feature_map and len(merged) == 1:
            h, w = shape.H, shape.W
            rf = (RFStep(kernel=(h, w), stride=(h, w), padding=(sympy.Integer(0), sympy.Integer(0))),)
        return Cost(self.kind, (shape,), Shape(*merged), rf=rf)
