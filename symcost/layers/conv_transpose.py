"""ConvTranspose1d/2d/3d: transposed (fractionally strided) convolutions, as torch.nn, one implementation.

Output ``(W-1)*S - 2P + D*(K-1) + output_padding + 1``. It is counted on the
input side, as it executes: every input element is multiplied by every kernel
tap of its group and scattered (added) into the output, so
``MACs = prod(in)*C_in*(C_out/G)*prod(K)`` (ptflops >= 0.7.5, fvcore and
torch agree; thop 0.1.1 and torchinfo overcount by S^2). Exact FLOPs are one
multiply and one add per MAC, plus one bias add per output element::

    >>> import symcost as sc
    >>> c = sc.ConvTranspose2d(4, 3, stride=2, padding=1, output_padding=1).cost(sc.Shape(8, 16, 16))
    >>> c.out_shape, c.macs
    (Shape(4, 32, 32), 73728)
    >>> sc.ConvTranspose1d(4, 4, stride=2, padding=1).cost(sc.Shape(8, 16)).out_shape
    Shape(4, 32)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.counts import OpCounts, Params, RFStep
from ..core.errors import InvalidArgumentError
from ..core.geometry import check_output_fits, effective_kernel
from .registry import register
from ..core.shape import Shape
from .base import Layer
from .conv import check_groups, normalize_conv_arguments


@dataclass(frozen=True)
class _ConvTransposeNd(Layer):
    """The one transposed convolution; the 1-, 2- and 3-D kinds only fix ``nd``."""

    out_channels: object
    kernel_size: object
    stride: object = 1
    padding: object = 0
    output_padding: object = 0
    groups: object = 1
    bias: bool = True
    dilation: object = 1

    nd: ClassVar[int] = 2

    def __post_init__(self) -> None:
        label = self.label
        normalize_conv_arguments(self, self.nd)
        for argument in ("padding", "output_padding"):
            value = arg.ntuple(getattr(self, argument), self.nd, arg.nonnegative_int, layer=label, argument=argument)
            object.__setattr__(self, argument, value)
        for op, s, d in zip(self.output_padding, self.stride, self.dilation):
            if arg.proven(op >= s) and arg.proven(op >= d):
                raise InvalidArgumentError(
                    label, "output_padding", f"must be smaller than the stride ({s}) or the dilation ({d})", op
                )

    def _cost(self, shape: Shape) -> Cost:
        c_in, *spatial = self._spatial_map(shape, self.nd)
        check_groups(self.label, self.groups, in_channels=c_in, out_channels=self.out_channels)
        out = []
        for axis, size, k, s, p, op, d in zip(
            arg.AXES[self.nd], spatial, self.kernel_size, self.stride, self.padding,
            self.output_padding, self.dilation,
        ):
            o = (size - 1) * s - 2 * p + d * (k - 1) + op + 1
            check_output_fits(o, label=self.label, axis=axis, detail=lambda: f"input {size}, padding {p}")
            out.append(o)
        c_out = self.out_channels
        taps = sympy.Mul(*self.kernel_size) * c_out / self.groups
        macs = sympy.Mul(*spatial) * c_in * taps
        outputs = c_out * sympy.Mul(*out)
        bias_adds = outputs if self.bias else 0
        # Receptive field: zero-insertion upsampling by S, then a stride-1
        # convolution padded by D*(K-1) - P.
        one, zero = sympy.Integer(1), sympy.Integer(0)
        return Cost(
            kind=self.kind,
            in_shapes=(shape,),
            out_shape=Shape(c_out, *out),
            params=Params(weight=c_in * taps, bias=c_out if self.bias else 0),
            ops=OpCounts(mul=macs, add=macs + bias_adds, macs=macs, bias=bias_adds),
            rf=(
                RFStep(kernel=(one,) * self.nd, stride=tuple(1 / s for s in self.stride), padding=(zero,) * self.nd),
                RFStep(
                    kernel=tuple(effective_kernel(k, d) for k, d in zip(self.kernel_size, self.dilation)),
                    stride=(one,) * self.nd,
                    padding=tuple(
                        effective_kernel(k, d) - 1 - p
                        for k, d, p in zip(self.kernel_size, self.dilation, self.padding)
                    ),
                ),
            ),
        )


@register
@dataclass(frozen=True)
class ConvTranspose1d(_ConvTransposeNd):
    """torch.nn.ConvTranspose1d on a (C, L) map."""

    nd = 1


@register
@dataclass(frozen=True)
class ConvTranspose2d(_ConvTransposeNd):
    """torch.nn.ConvTranspose2d on a (C, H, W) map."""

    nd = 2


@register
@dataclass(frozen=True)
class ConvTranspose3d(_ConvTransposeNd):
    """torch.nn.ConvTranspose3d on a (C, T, H, W) map."""

    nd = 3
