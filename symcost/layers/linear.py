"""Linear: a fully connected layer, as torch.nn.Linear.

Acts on the last entry of any shape ``(..., D_in) -> (..., D_out)``, as
torch.nn.Linear does: a vector, tokens ``(L, D_in)``, or every row of a map.
Per output: ``D_in`` multiplies and ``D_in - 1`` adds, plus a bias add, so exact FLOPs are ``(2*D_in - 1)*D_out``, or ``2*D_in*D_out``
with bias (seed 000)::

    >>> import symcost as sc
    >>> from symcost.symbols import D_in, D_out
    >>> sc.Linear(D_out, bias=False).cost(sc.Shape(D_in)).flops()
    D_out*(2*D_in - 1)
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.counts import OpCounts, Params
from ..core.errors import ShapeError
from .registry import register
from ..core.shape import Shape
from .base import Layer


@register
@dataclass(frozen=True)
class Linear(Layer):
    out_features: object
    bias: bool = True
    in_features: object = None

    def __post_init__(self) -> None:
        label = self.label
        object.__setattr__(self, "out_features", arg.positive_int(self.out_features, layer=label, argument="out_features"))
        object.__setattr__(self, "bias", arg.boolean(self.bias, layer=label, argument="bias"))
        if self.in_features is not None:
            object.__setattr__(
                self, "in_features", arg.positive_int(self.in_features, layer=label, argument="in_features")
            )

    def _cost(self, shape: Shape) -> Cost:
        if shape.rank == 0:
            raise ShapeError(f"{self.label}: expects an input with a feature entry (..., D), got the scalar {shape}")
        d_in, out = shape.dims[-1], self.out_features
        if self.in_features is not None and arg.refuted(sympy.Eq(self.in_features, d_in)):
            raise ShapeError(f"{self.label}: in_features is {self.in_features} but the input has {d_in} features")
        tokens = shape.numel / d_in
        outputs = tokens * out
        macs = tokens * d_in * out
        bias_adds = outputs if self.bias else 0
        return Cost(
            kind=self.kind,
            in_shapes=(shape,),
            out_shape=Shape(*shape.dims[:-1], out),
            params=Params(weight=d_in * out, bias=out if self.bias else 0),
            ops=OpCounts(mul=macs, add=macs - outputs + bias_adds, macs=macs, bias=bias_adds),
        )
