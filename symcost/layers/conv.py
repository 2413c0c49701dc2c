"""Conv1d, Conv2d and Conv3d: N-d convolutions, as torch.nn, one implementation.

Inputs are (C, L), (C, H, W) and (C, T, H, W); with ``stacked=True``, ``N`` of them at once, (N, C, ...)
as torch reads a batch: the operations count ``N`` times, the weights once. Per output element it executes
``prod(K)*C_in/G`` multiplies and one fewer adds, plus one bias add; so exact
FLOPs are ``(2*C_in/G*prod(K) - 1 + bias) * C_out*prod(out)``::

    >>> import symcost as sc
    >>> from symcost.symbols import C_in, C_out, K, S, P, W
    >>> sc.Conv2d(C_out, K, stride=S, padding=P).cost(sc.Shape(C_in, W, W)).out_shape
    Shape(C_out, floor((W - K + 2*P)/S) + 1, floor((W - K + 2*P)/S) + 1)
    >>> sc.Conv3d(8, (1, 3, 3), padding=(0, 1, 1)).cost(sc.Shape(4, 16, 56, 56)).macs
    14450688
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import ClassVar

import sympy

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.counts import OpCounts, Params, RFStep
from ..core.errors import InvalidArgumentError, ShapeError
from ..core.geometry import check_output_fits, effective_kernel, window_out_size
from .registry import register
from ..core.shape import Shape
from .base import Layer


def check_groups(label: str, groups: sympy.Expr, **channels: sympy.Expr) -> None:
    """``groups`` must divide every channel count given (refused when provably not)."""
    for argument, count in channels.items():
        if (count / groups).is_integer is False:
            raise InvalidArgumentError(label, "groups", f"must divide {argument} ({count})", groups)


def normalize_conv_arguments(layer: Layer, nd: int = 2) -> None:
    """Check and store, as SymPy tuples of ``nd`` entries, the arguments every convolution shares."""
    label = layer.label
    set_ = lambda name, value: object.__setattr__(layer, name, value)  # noqa: E731
    set_("out_channels", arg.positive_int(layer.out_channels, layer=label, argument="out_channels"))
    for name in ("kernel_size", "stride", "dilation"):
        set_(name, arg.ntuple(getattr(layer, name), nd, arg.positive_int, layer=label, argument=name))
    set_("groups", arg.positive_int(layer.groups, layer=label, argument="groups"))
    set_("bias", arg.boolean(layer.bias, layer=label, argument="bias"))
    check_groups(label, layer.groups, out_channels=layer.out_channels)


@dataclass(frozen=True)
class _ConvNd(Layer):
    """The one convolution; Conv1d, Conv2d and Conv3d only fix ``nd``, the number of spatial axes."""

    out_channels: object
    kernel_size: object
    stride: object = 1
    padding: object = 0
    dilation: object = 1
    groups: object = 1
    bias: bool = True
    #: the input stacks N maps, (N, C, ...), as torch reads a batch: operations N times, weights once
    stacked: bool = field(default=False, kw_only=True)

    nd: ClassVar[int] = 2

    def __post_init__(self) -> None:
        label = self.label
        normalize_conv_arguments(self, self.nd)
        object.__setattr__(self, "stacked", arg.boolean(self.stacked, layer=label, argument="stacked"))
        if isinstance(self.padding, str):
            arg.choice(self.padding, ("same", "valid"), layer=label, argument="padding")
            if self.padding == "same" and any((s - 1).is_nonzero for s in self.stride):
                raise InvalidArgumentError(label, "padding='same'", "needs stride 1, as in torch", self.stride)
        else:
            padding = arg.ntuple(self.padding, self.nd, arg.nonnegative_int, layer=label, argument="padding")
            object.__setattr__(self, "padding", padding)

    def pads(self) -> tuple[tuple[sympy.Expr, sympy.Expr], ...]:
        """Per spatial axis: (total padding, padding before)."""
        if self.padding == "valid":
            return ((sympy.Integer(0),) * 2,) * self.nd
        if self.padding == "same":  # torch puts the odd extra pixel after
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            return tuple((t, sympy.floor(t / 2)) for t in totals)
        return tuple((2 * p, p) for p in self.padding)

    def _cost(self, shape: Shape) -> Cost:
        if self.stacked:  # (N, C, ...): N maps in one sample, as torch reads a batch (mvit's pools)
            if shape.rank != self.nd + 2:
                axes = ("L",) if self.nd == 1 else ("T", "H", "W")[3 - self.nd:]
                raise ShapeError(f"{self.label}: with stacked=True expects N maps (N, C, {', '.join(axes)}), "
                                 f"got {shape}")
            n, one = shape.dims[0], replace(self, stacked=False)._cost(Shape(*shape.dims[1:]))
            return replace(one, in_shapes=(shape,), out_shape=Shape(n, *one.out_shape.dims), ops=one.ops.scaled(n))
        c_in, *spatial = self._spatial_map(shape, self.nd)
        check_groups(self.label, self.groups, in_channels=c_in, out_channels=self.out_channels)
        out = []
        for axis, size, k, s, d, (pad_total, _) in zip(
            arg.AXES[self.nd], spatial, self.kernel_size, self.stride, self.dilation, self.pads()
        ):
            o = window_out_size(size, k, s, d, pad_total)
            check_output_fits(
                o, label=self.label, axis=axis,
                detail=lambda: f"input {size}, padding {pad_total}, effective kernel {effective_kernel(k, d)}",
            )
            out.append(o)
        c_out = self.out_channels
        outputs = c_out * sympy.Mul(*out)
        per_output = sympy.Mul(*self.kernel_size) * c_in / self.groups
        macs = per_output * outputs
        bias_adds = outputs if self.bias else 0
        return Cost(
            kind=self.kind,
            in_shapes=(shape,),
            out_shape=Shape(c_out, *out),
            params=Params(weight=per_output * c_out, bias=c_out if self.bias else 0),
            ops=OpCounts(mul=macs, add=macs - outputs + bias_adds, macs=macs, bias=bias_adds),
            rf=(
                RFStep(
                    kernel=tuple(effective_kernel(k, d) for k, d in zip(self.kernel_size, self.dilation)),
                    stride=self.stride,
                    padding=tuple(before for _, before in self.pads()),
                ),
            ),
        )


@register
@dataclass(frozen=True)
class Conv1d(_ConvNd):
    """torch.nn.Conv1d on a (C, L) map."""

    nd = 1


@register
@dataclass(frozen=True)
class Conv2d(_ConvNd):
    """torch.nn.Conv2d on a (C, H, W) map."""

    nd = 2


@register
@dataclass(frozen=True)
class Conv3d(_ConvNd):
    """torch.nn.Conv3d on a (C, T, H, W) map."""

    nd = 3
