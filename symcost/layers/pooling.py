"""MaxPool2d and AvgPool2d, as torch.nn, with ``ceil_mode`` and torch's edge rule.

Counted densely: every output window covers ``K_h*K_w`` taps, padding
included (``-inf`` for max, zeros for average). Max pool: ``K^2 - 1``
comparisons per output. Average pool: ``K^2 - 1`` adds and one division per
output, ``K^2`` in all; ``count_include_pad`` changes the divisor, not the
count::

    >>> import symcost as sc
    >>> c = sc.MaxPool2d(3, stride=2, ceil_mode=True).cost(sc.Shape(64, 112, 112))
    >>> c.out_shape, c.ops.cmp
    (Shape(64, 56, 56), 1605632)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.counts import OpCounts, RFStep
from ..core.errors import InvalidArgumentError
from ..core.geometry import check_output_fits, effective_kernel, window_out_size
from .registry import register
from ..core.shape import Shape
from .base import Layer


@dataclass(frozen=True)
class _Pool2d(Layer):
    """Shared window geometry of the two pools; each subclass says what a window costs."""

    has_dilation: ClassVar[bool] = True

    def _check_arguments(self) -> None:
        label = self.label
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731
        set_("kernel_size", arg.pair(self.kernel_size, arg.positive_int, layer=label, argument="kernel_size"))
        stride = self.kernel_size if self.stride is None else self.stride
        set_("stride", arg.pair(stride, arg.positive_int, layer=label, argument="stride"))
        set_("padding", arg.pair(self.padding, arg.nonnegative_int, layer=label, argument="padding"))
        if self.has_dilation:
            set_("dilation", arg.pair(self.dilation, arg.positive_int, layer=label, argument="dilation"))
        arg.boolean(self.ceil_mode, layer=label, argument="ceil_mode")
        for p, k in zip(self.padding, self.kernel_size):
            limit = k / 2  # of the undilated kernel, for max pools too (torch's pool2d_shape_check)
            if arg.proven(p > limit):
                raise InvalidArgumentError(
                    label, "padding", f"must be at most half the kernel size ({limit}), as torch requires", p
                )

    def _cost(self, shape: Shape) -> Cost:
        c, h, w = self._feature_map(shape)
        out = []
        for axis, size, k, s, p, d in zip(
            ("height", "width"), (h, w), self.kernel_size, self.stride, self.padding, self.dilation
        ):
            o = window_out_size(size, k, s, d, 2 * p, ceil_mode=self.ceil_mode, pad_left=p)
            check_output_fits(o, label=self.label, axis=axis,
                              detail=f"input {size}, padding {2 * p}, effective kernel {effective_kernel(k, d)}")
            out.append(o)
        outputs = c * out[0] * out[1]
        taps = self.kernel_size[0] * self.kernel_size[1]
        return Cost(
            kind=self.kind,
            in_shapes=(shape,),
            out_shape=Shape(c, *out),
            ops=self.window_ops(taps).scaled(outputs),
            rf=(RFStep(
                kernel=tuple(effective_kernel(k, d) for k, d in zip(self.kernel_size, self.dilation)),
                stride=self.stride,
                padding=self.padding,
            ),),
        )

    def window_ops(self, taps: sympy.Expr) -> OpCounts:
        raise NotImplementedError


@register
@dataclass(frozen=True)
class MaxPool2d(_Pool2d):
    kernel_size: object
    stride: object = None
    padding: object = 0
    dilation: object = 1
    ceil_mode: bool = False

    def __post_init__(self) -> None:
        self._check_arguments()

    def window_ops(self, taps: sympy.Expr) -> OpCounts:
        return OpCounts(cmp=taps - 1)


@register
@dataclass(frozen=True)
class AvgPool2d(_Pool2d):
    kernel_size: object
    stride: object = None
    padding: object = 0
    ceil_mode: bool = False
    count_include_pad: bool = True

    has_dilation = False

    @property
    def dilation(self) -> tuple[sympy.Expr, sympy.Expr]:
        return (sympy.Integer(1), sympy.Integer(1))

    def __post_init__(self) -> None:
        arg.boolean(self.count_include_pad, layer=self.label, argument="count_include_pad")
        self._check_arguments()

    def window_ops(self, taps: sympy.Expr) -> OpCounts:
        return OpCounts(add=taps - 1, div=1)
