"""Upsample, as torch.nn.Upsample, in ``nearest`` and ``bilinear`` modes.

The output is ``size``, or ``floor(H*scale_factor)`` per axis. Nearest copies
and computes nothing. Bilinear computes each output element as torch's CPU
kernel does, ``h0*(w0*x00 + w1*x01) + h1*(w0*x10 + w1*x11)``: 6 multiplies
and 3 adds (the per-row and per-column weights are index arithmetic)::

    >>> import symcost as sc
    >>> from symcost.symbols import C, H, W
    >>> c = sc.Upsample(scale_factor=2, mode="bilinear").cost(sc.Shape(C, H, W))
    >>> c.out_shape, c.flops()
    (Shape(C, 2*H, 2*W), 36*C*H*W)
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.counts import OpCounts, RFStep
from ..core.errors import InvalidArgumentError
from .registry import register
from ..core.shape import Shape
from .base import Layer


def _positive(value: object, *, layer: str, argument: str) -> sympy.Expr:
    expr = arg.to_expr(value, layer=layer, argument=argument)
    if expr.is_positive is False:
        raise InvalidArgumentError(layer, argument, "must be positive", expr)
    return expr


@register
@dataclass(frozen=True)
class Upsample(Layer):
    size: object = None
    scale_factor: object = None
    mode: str = "nearest"
    align_corners: object = None

    def __post_init__(self) -> None:
        label = self.label
        arg.choice(self.mode, ("nearest", "bilinear"), layer=label, argument="mode")
        if (self.size is None) == (self.scale_factor is None):
            raise InvalidArgumentError(label, "size or scale_factor", "must be set, exactly one of them",
                                       (self.size, self.scale_factor))
        if self.size is not None:
            object.__setattr__(self, "size", arg.pair(self.size, arg.positive_int, layer=label, argument="size"))
        else:
            object.__setattr__(self, "scale_factor",
                               arg.pair(self.scale_factor, _positive, layer=label, argument="scale_factor"))
        if self.align_corners is not None:
            arg.boolean(self.align_corners, layer=label, argument="align_corners")
            if self.mode == "nearest":
                raise InvalidArgumentError(label, "align_corners", "only applies to mode 'bilinear'", True)

    def _cost(self, shape: Shape) -> Cost:
        c, h, w = self._feature_map(shape)
        if self.size is not None:
            out = self.size
        else:
            out = tuple(sympy.floor(n * f) for n, f in zip((h, w), self.scale_factor))
        for axis, o in zip(("height", "width"), out):
            if (o - 1).is_negative:
                raise InvalidArgumentError(self.label, "scale_factor", f"gives an output {axis} of {o}, must be >= 1",
                                           self.scale_factor)
        per_element = OpCounts(mul=6, add=3) if self.mode == "bilinear" else OpCounts()
        stride = (h / out[0], w / out[1])
        zero, one = sympy.Integer(0), sympy.Integer(1)
        rf = (RFStep(kernel=(one, one), stride=stride, padding=(zero, zero)),)
        if self.mode == "bilinear":  # each output reads a 2x2 neighbourhood
            rf = (RFStep(kernel=(2 * one, 2 * one), stride=(one, one), padding=(zero, zero)),) + rf
        return Cost(self.kind, (shape,), Shape(c, *out), ops=per_element.scaled(c * out[0] * out[1]), rf=rf)
