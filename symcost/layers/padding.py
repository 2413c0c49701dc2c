"""Pad2d: a ``(C, H, W)`` map padded on its four sides, as ``F.pad`` or ``nn.ZeroPad2d``.

``padding`` is one int for every side or ``(left, right, top, bottom)``, in
torch's order. Padding writes constants (or copies edge pixels, in the
``reflect``, ``replicate`` and ``circular`` modes) and computes nothing; it
moves the receptive field's effective padding by ``top`` and ``left``::

    >>> import symcost as sc
    >>> from symcost.symbols import C, H, W
    >>> c = sc.Pad2d((0, 1, 0, 1)).cost(sc.Shape(C, H, W))
    >>> c.out_shape, c.flops()
    (Shape(C, H + 1, W + 1), 0)
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.counts import RFStep
from ..core.errors import InvalidArgumentError, ShapeError
from .registry import register
from ..core.shape import Shape
from .base import Layer

MODES = ("constant", "reflect", "replicate", "circular")


@register
@dataclass(frozen=True)
class Pad2d(Layer):
    padding: object
    mode: str = "constant"

    def __post_init__(self) -> None:
        label = self.label
        value = self.padding
        if isinstance(value, (tuple, list)):
            if len(value) != 4:
                raise InvalidArgumentError(label, "padding", "must be one value or (left, right, top, bottom)",
                                           tuple(value))
            sides = tuple(arg.nonnegative_int(v, layer=label, argument="padding") for v in value)
        else:
            sides = (arg.nonnegative_int(value, layer=label, argument="padding"),) * 4
        object.__setattr__(self, "padding", sides)
        arg.choice(self.mode, MODES, layer=label, argument="mode")

    def _cost(self, shape: Shape) -> Cost:
        c, h, w = self._feature_map(shape)
        left, right, top, bottom = self.padding
        if self.mode == "reflect":
            for axis, size, pads in (("height", h, (top, bottom)), ("width", w, (left, right))):
                if any(arg.proven(sympy.Ge(p, size)) for p in pads):
                    raise ShapeError(f"{self.label}: reflect padding must be smaller than the input {axis} ({size})")
        one, zero = sympy.Integer(1), sympy.Integer(0)
        rf = (RFStep(kernel=(one, one), stride=(one, one), padding=(top + zero, left + zero)),)
        return Cost(self.kind, (shape,), Shape(c, h + top + bottom, w + left + right), rf=rf)
