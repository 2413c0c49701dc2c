"""Upsample, as torch.nn.Upsample / F.interpolate, on (C, L), (C, H, W) and (C, T, H, W) maps.

The output is ``size``, or ``floor(n*scale_factor)`` per axis. ``nearest`` and
``nearest-exact`` copy and compute nothing, in every rank. The interpolating
modes (``linear`` on (C, L), ``bilinear`` and ``bicubic`` on (C, H, W),
``trilinear`` on (C, T, H, W)) compute each output as torch's CPU kernels do,
nested per axis, ``w0*t0 + w1*t1 (+ w2*t2 + w3*t3)`` with each ``t`` the
interpolation along the next axes (the weights are index arithmetic). With
``T`` taps per axis (2 linear, 4 cubic) over ``N`` axes that is
``T + T^2 + ... + T^N`` multiplies and ``(T-1)(1 + T + ... + T^(N-1))`` adds per
output: linear 2 + 1, bilinear 6 + 3, bicubic 20 + 15, trilinear 14 + 7::

    >>> import symcost as sc
    >>> from symcost.symbols import C, H, W
    >>> c = sc.Upsample(scale_factor=2, mode="bilinear").cost(sc.Shape(C, H, W))
    >>> c.out_shape, c.flops()
    (Shape(C, 2*H, 2*W), 36*C*H*W)
    >>> sc.Upsample(size=(4, 8, 8), mode="trilinear").cost(sc.Shape(1, 2, 4, 4)).ops.mul
    3584
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.counts import OpCounts, RFStep
from ..core.errors import InvalidArgumentError, ShapeError
from .registry import register
from ..core.shape import Shape
from .base import Layer

#: Interpolating modes: (spatial axes, taps per axis).
_INTERPOLATING = {"linear": (1, 2), "bilinear": (2, 2), "bicubic": (2, 4), "trilinear": (3, 2)}
_NEAREST = ("nearest", "nearest-exact")
MODES = _NEAREST + tuple(_INTERPOLATING)
#: The spatial ranks nearest resampling takes (torch: 3-D to 5-D batched inputs).
_NEAREST_RANKS = (1, 2, 3)


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
        arg.choice(self.mode, MODES, layer=label, argument="mode")
        if (self.size is None) == (self.scale_factor is None):
            raise InvalidArgumentError(label, "size or scale_factor", "must be set, exactly one of them",
                                       (self.size, self.scale_factor))
        nd = _INTERPOLATING[self.mode][0] if self.mode in _INTERPOLATING else None
        for argument, check in (("size", arg.positive_int), ("scale_factor", _positive)):
            value = getattr(self, argument)
            if value is None:
                continue
            if isinstance(value, (tuple, list)) or nd is not None:
                # one entry per spatial axis; a scalar in a fixed-rank mode becomes that many
                axes = nd if nd is not None else len(value)  # type: ignore[arg-type]
                if axes not in _NEAREST_RANKS:
                    raise InvalidArgumentError(label, argument, "must be one value or 1 to 3 per-axis values",
                                               tuple(value))  # type: ignore[arg-type]
                value = arg.ntuple(value, axes, check, layer=label, argument=argument)
            else:
                value = check(value, layer=label, argument=argument)
            object.__setattr__(self, argument, value)
        if self.align_corners is not None:
            arg.boolean(self.align_corners, layer=label, argument="align_corners")
            if self.mode in _NEAREST:
                raise InvalidArgumentError(label, "align_corners", "only applies to modes "
                                           + ", ".join(map(repr, _INTERPOLATING)), self.align_corners)

    def _cost(self, shape: Shape) -> Cost:
        spatial = shape.dims[1:]
        nd = len(spatial)
        if self.mode in _INTERPOLATING:
            self._spatial_map(shape, _INTERPOLATING[self.mode][0])
        elif nd not in _NEAREST_RANKS:
            raise ShapeError(f"{self.label}: expects a (C, L), (C, H, W) or (C, T, H, W) map, got {shape}")
        argument = "size" if self.size is not None else "scale_factor"
        given = getattr(self, argument)
        if isinstance(given, tuple) and len(given) != nd:
            raise ShapeError(f"{self.label}: {argument} has {len(given)} entries but the input {shape} has "
                             f"{nd} spatial axes")
        per_axis = given if isinstance(given, tuple) else (given,) * nd
        out = per_axis if self.size is not None else tuple(sympy.floor(n * f) for n, f in zip(spatial, per_axis))
        for axis, o in zip(arg.AXES[nd], out):
            if (o - 1).is_negative:
                raise InvalidArgumentError(self.label, "scale_factor", f"gives an output {axis} of {o}, must be >= 1",
                                           self.scale_factor)
        zero, one = sympy.Integer(0), sympy.Integer(1)
        rf = (RFStep(kernel=(one,) * nd, stride=tuple(n / o for n, o in zip(spatial, out)), padding=(zero,) * nd),)
        per_output = OpCounts()
        if self.mode in _INTERPOLATING:
            taps = _INTERPOLATING[self.mode][1]
            per_output = OpCounts(mul=sum(taps ** i for i in range(1, nd + 1)),
                                  add=(taps - 1) * sum(taps ** i for i in range(nd)))
            # each output reads a T^N neighbourhood (bicubic's starts one pixel before)
            window = RFStep(kernel=(taps * one,) * nd, stride=(one,) * nd, padding=((taps - 2) // 2 * one,) * nd)
            rf = (window,) + rf
        return Cost(self.kind, (shape,), Shape(shape[0], *out), ops=per_output.scaled(shape[0] * sympy.Mul(*out)),
                    rf=rf)
