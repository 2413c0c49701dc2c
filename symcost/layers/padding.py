"""Pad (N-d, as ``F.pad``) and Pad2d (a ``(C, H, W)`` map's four sides, as ``nn.ZeroPad2d``).

``Pad.pad`` lists ``(before, after)`` pairs from the last dimension backwards,
as ``F.pad`` does: ``(left, right, top, bottom, front, back)``. Pad2d's
``padding`` is one int for every side or ``(left, right, top, bottom)``.
Padding writes constants (``constant`` mode, whose negative pads crop) or
copies entries (``reflect``, ``replicate``, ``circular``: 1 to 3 trailing
dimensions, torch's rule) and computes nothing. On a map it moves the
receptive field's effective padding by the pads before each spatial axis::

    >>> import symcost as sc
    >>> from symcost.symbols import C, H, W
    >>> c = sc.Pad2d((0, 1, 0, 1)).cost(sc.Shape(C, H, W))
    >>> c.out_shape, c.flops()
    (Shape(C, H + 1, W + 1), 0)
    >>> sc.Pad((1, 1, -1, 0)).cost(sc.Shape(C, H, W)).out_shape
    Shape(C, H - 1, W + 2)
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.counts import RFStep
from ..core.errors import InvalidArgumentError, ShapeError
from .registry import register
from ..core.shape import MAX_RANK, Shape
from .base import Layer

MODES = ("constant", "reflect", "replicate", "circular")
_AXIS_NAMES = {1: "width", 2: "height", 3: "depth"}


def padded(layer: Layer, shape: Shape, pairs: tuple, mode: str) -> Cost:
    """The cost of padding ``shape`` by ``pairs`` (``(before, after)`` from the last entry backwards)."""
    label = layer.label
    if len(pairs) > shape.rank:
        raise ShapeError(f"{label}: pad gives {len(pairs)} (before, after) pairs, more than the {shape.rank} "
                         f"entries of {shape}")
    if mode != "constant" and not (1 <= len(pairs) <= 3 and shape.rank in (len(pairs), len(pairs) + 1)):
        raise ShapeError(f"{label}: {mode} padding pads 1 to 3 trailing dimensions of an input with one or two "
                         f"more (torch's rule); got {len(pairs)} pair(s) for {shape}")
    before = [sympy.Integer(0)] * shape.rank
    after = list(before)
    for k, (b, a) in enumerate(pairs):
        before[shape.rank - 1 - k], after[shape.rank - 1 - k] = b, a
    dims = []
    for i, (n, b, a) in enumerate(zip(shape.dims, before, after)):
        where = _AXIS_NAMES.get(shape.rank - i, f"dimension {i + 1}")
        if mode == "reflect" and (arg.proven(sympy.Ge(b, n)) or arg.proven(sympy.Ge(a, n))):
            raise ShapeError(f"{label}: reflect padding must be smaller than the input {where} ({n})")
        if mode == "circular" and (arg.proven(sympy.Gt(b, n)) or arg.proven(sympy.Gt(a, n))):
            raise ShapeError(f"{label}: circular padding must not exceed the input {where} ({n})")
        size = n + b + a
        if arg.proven(sympy.Le(size, 0)):
            raise ShapeError(f"{label}: padding by ({b}, {a}) leaves nothing of the input {where} ({n})")
        dims.append(size)
    rf = ()
    if shape.rank >= 2:
        one = sympy.Integer(1)
        spatial = shape.rank - 1
        rf = (RFStep(kernel=(one,) * spatial, stride=(one,) * spatial, padding=tuple(before[1:])),)
    return Cost(layer.kind, (shape,), Shape(*dims), rf=rf)


@register
@dataclass(frozen=True)
class Pad(Layer):
    pad: tuple
    mode: str = "constant"
    value: object = 0

    def __post_init__(self) -> None:
        label, value = self.label, self.pad
        if not isinstance(value, (tuple, list)) or not value or len(value) % 2 or len(value) > 2 * MAX_RANK:
            raise InvalidArgumentError(label, "pad", f"must list (before, after) pairs, 2 to {2 * MAX_RANK} values",
                                       value)
        pads = tuple(arg.integer(v, layer=label, argument="pad") for v in value)
        object.__setattr__(self, "pad", pads)
        arg.choice(self.mode, MODES, layer=label, argument="mode")
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float, sympy.Expr)):
            raise InvalidArgumentError(label, "value", "must be a number (the fill)", self.value)

    def _cost(self, shape: Shape) -> Cost:
        pairs = tuple(zip(self.pad[0::2], self.pad[1::2]))
        return padded(self, shape, pairs, self.mode)


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
        self._feature_map(shape)
        left, right, top, bottom = self.padding
        return padded(self, shape, ((left, right), (top, bottom)), self.mode)
