"""MaxPool1d/2d/3d and AvgPool1d/2d/3d, as torch.nn, with ``ceil_mode`` and torch's edge rule.

Inputs are (C, L), (C, H, W) and (C, T, H, W). Counted densely: every output
window covers ``prod(K)`` taps, padding included (``-inf`` for max, zeros for
average). Max pool: ``prod(K) - 1`` comparisons per output. Average pool:
``prod(K) - 1`` adds and one division per output, ``prod(K)`` in all;
``count_include_pad`` and ``divisor_override`` change the divisor, not the
count::

    >>> import symcost as sc
    >>> c = sc.MaxPool2d(3, stride=2, ceil_mode=True).cost(sc.Shape(64, 112, 112))
    >>> c.out_shape, c.ops.cmp
    (Shape(64, 56, 56), 1605632)
    >>> sc.AvgPool3d((1, 2, 2)).cost(sc.Shape(8, 4, 6, 6)).flops()
    1152
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.counts import OpCounts, RFStep
from ..core.errors import InvalidArgumentError, ShapeError
from ..core.geometry import check_output_fits, effective_kernel, window_out_size
from .registry import register
from ..core.shape import Shape
from .base import Layer


@dataclass(frozen=True)
class _PoolNd(Layer):
    """Shared window geometry of the pools; ``nd`` is the number of spatial axes, each subclass says what a
    window costs."""

    nd: ClassVar[int] = 2
    has_dilation: ClassVar[bool] = True
    #: torch's avg_pool3d also wants the unpadded input to hold the kernel on every axis
    kernel_within_input: ClassVar[bool] = False

    def _check_arguments(self) -> None:
        label, nd = self.label, self.nd
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731
        set_("kernel_size", arg.ntuple(self.kernel_size, nd, arg.positive_int, layer=label, argument="kernel_size"))
        stride = self.kernel_size if self.stride is None else self.stride
        set_("stride", arg.ntuple(stride, nd, arg.positive_int, layer=label, argument="stride"))
        set_("padding", arg.ntuple(self.padding, nd, arg.nonnegative_int, layer=label, argument="padding"))
        if self.has_dilation:
            set_("dilation", arg.ntuple(self.dilation, nd, arg.positive_int, layer=label, argument="dilation"))
        arg.boolean(self.ceil_mode, layer=label, argument="ceil_mode")
        for p, k in zip(self.padding, self.kernel_size):
            limit = k / 2  # of the undilated kernel, for max pools too (torch's pool2d_shape_check)
            if arg.proven(p > limit):
                raise InvalidArgumentError(
                    label, "padding", f"must be at most half the kernel size ({limit}), as torch requires", p
                )

    def _cost(self, shape: Shape) -> Cost:
        c, *spatial = self._spatial_map(shape, self.nd)
        out = []
        for axis, size, k, s, p, d in zip(
            arg.AXES[self.nd], spatial, self.kernel_size, self.stride, self.padding, self.dilation
        ):
            if self.kernel_within_input and arg.proven(size < k):
                raise ShapeError(f"{self.label}: kernel_size {k} is larger than the input {axis} {size}; torch's "
                                 "avg_pool3d needs the unpadded input to hold the kernel")
            o = window_out_size(size, k, s, d, 2 * p, ceil_mode=self.ceil_mode, pad_left=p)
            check_output_fits(o, label=self.label, axis=axis,
                              detail=lambda: f"input {size}, padding {2 * p}, effective kernel {effective_kernel(k, d)}")
            out.append(o)
        outputs = c * sympy.Mul(*out)
        taps = sympy.Mul(*self.kernel_size)
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


@dataclass(frozen=True)
class _MaxPoolNd(_PoolNd):
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
class MaxPool1d(_MaxPoolNd):
    """torch.nn.MaxPool1d on a (C, L) map."""

    nd = 1


@register
@dataclass(frozen=True)
class MaxPool2d(_MaxPoolNd):
    """torch.nn.MaxPool2d on a (C, H, W) map."""

    nd = 2


@register
@dataclass(frozen=True)
class MaxPool3d(_MaxPoolNd):
    """torch.nn.MaxPool3d on a (C, T, H, W) map."""

    nd = 3


@dataclass(frozen=True)
class _AvgPoolNd(_PoolNd):
    has_dilation = False

    @property
    def dilation(self) -> tuple[sympy.Expr, ...]:
        return (sympy.Integer(1),) * self.nd

    def __post_init__(self) -> None:
        arg.boolean(self.count_include_pad, layer=self.label, argument="count_include_pad")
        divisor = getattr(self, "divisor_override", None)
        if divisor is not None:
            value = arg.integer(divisor, layer=self.label, argument="divisor_override")
            if value.is_zero:
                raise InvalidArgumentError(self.label, "divisor_override", "must not be zero, as torch requires", 0)
            object.__setattr__(self, "divisor_override", value)
        self._check_arguments()

    def window_ops(self, taps: sympy.Expr) -> OpCounts:
        return OpCounts(add=taps - 1, div=1)


@register
@dataclass(frozen=True)
class AvgPool1d(_AvgPoolNd):
    """torch.nn.AvgPool1d on a (C, L) map (torch has no divisor_override here)."""

    kernel_size: object
    stride: object = None
    padding: object = 0
    ceil_mode: bool = False
    count_include_pad: bool = True

    nd = 1


@register
@dataclass(frozen=True)
class AvgPool2d(_AvgPoolNd):
    """torch.nn.AvgPool2d on a (C, H, W) map."""

    kernel_size: object
    stride: object = None
    padding: object = 0
    ceil_mode: bool = False
    count_include_pad: bool = True
    divisor_override: object = None

    nd = 2


@register
@dataclass(frozen=True)
class AvgPool3d(_AvgPoolNd):
    """torch.nn.AvgPool3d on a (C, T, H, W) map."""

    kernel_size: object
    stride: object = None
    padding: object = 0
    ceil_mode: bool = False
    count_include_pad: bool = True
    divisor_override: object = None

    nd = 3
    kernel_within_input = True
