"""Conv2d: a 2-D convolution, as torch.nn.Conv2d.

Per output element it executes ``K_h*K_w*C_in/G`` multiplies and one fewer
adds, plus one bias add; so exact FLOPs are
``(2*C_in/G*K_h*K_w - 1 + bias) * C_out*H_out*W_out``::

    >>> import symcost as sc
    >>> from symcost.symbols import C_in, C_out, K, S, P, W
    >>> sc.Conv2d(C_out, K, stride=S, padding=P).cost(sc.Shape(C_in, W, W)).out_shape
    Shape(C_out, floor((-K + 2*P + W)/S) + 1, floor((-K + 2*P + W)/S) + 1)
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.counts import OpCounts, Params, RFStep
from ..core.errors import InvalidArgumentError
from ..core.geometry import check_output_fits, effective_kernel, window_out_size
from .registry import register
from ..core.shape import Shape
from .base import Layer


def check_groups(label: str, groups: sympy.Expr, **channels: sympy.Expr) -> None:
    """``groups`` must divide every channel count given (refused when provably not)."""
    for argument, count in channels.items():
        if (count / groups).is_integer is False:
            raise InvalidArgumentError(label, "groups", f"must divide {argument} ({count})", groups)


def normalize_conv_arguments(layer: Layer) -> None:
    """Check and store, as SymPy pairs, the arguments every convolution shares."""
    label = layer.label
    set_ = lambda name, value: object.__setattr__(layer, name, value)  # noqa: E731
    set_("out_channels", arg.positive_int(layer.out_channels, layer=label, argument="out_channels"))
    set_("kernel_size", arg.pair(layer.kernel_size, arg.positive_int, layer=label, argument="kernel_size"))
    set_("stride", arg.pair(layer.stride, arg.positive_int, layer=label, argument="stride"))
    set_("dilation", arg.pair(layer.dilation, arg.positive_int, layer=label, argument="dilation"))
    set_("groups", arg.positive_int(layer.groups, layer=label, argument="groups"))
    set_("bias", arg.boolean(layer.bias, layer=label, argument="bias"))
    check_groups(label, layer.groups, out_channels=layer.out_channels)


@register
@dataclass(frozen=True)
class Conv2d(Layer):
    out_channels: object
    kernel_size: object
    stride: object = 1
    padding: object = 0
    dilation: object = 1
    groups: object = 1
    bias: bool = True

    def __post_init__(self) -> None:
        label = self.label
        normalize_conv_arguments(self)
        if isinstance(self.padding, str):
            arg.choice(self.padding, ("same", "valid"), layer=label, argument="padding")
            if self.padding == "same" and any((s - 1).is_nonzero for s in self.stride):
                raise InvalidArgumentError(label, "padding='same'", "needs stride 1, as in torch", self.stride)
        else:
            padding = arg.pair(self.padding, arg.nonnegative_int, layer=label, argument="padding")
            object.__setattr__(self, "padding", padding)

    def pads(self) -> tuple[tuple[sympy.Expr, sympy.Expr], tuple[sympy.Expr, sympy.Expr]]:
        """Per axis (height, width): (total padding, padding before)."""
        if self.padding == "valid":
            return ((sympy.Integer(0),) * 2,) * 2
        if self.padding == "same":  # torch puts the odd extra pixel after
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            return tuple((t, sympy.floor(t / 2)) for t in totals)  # type: ignore[return-value]
        return tuple((2 * p, p) for p in self.padding)  # type: ignore[return-value]

    def _cost(self, shape: Shape) -> Cost:
        c_in, h, w = self._feature_map(shape)
        check_groups(self.label, self.groups, in_channels=c_in, out_channels=self.out_channels)
        out = []
        for axis, size, k, s, d, (pad_total, _) in zip(
            ("height", "width"), (h, w), self.kernel_size, self.stride, self.dilation, self.pads()
        ):
            o = window_out_size(size, k, s, d, pad_total)
            check_output_fits(
                o, label=self.label, axis=axis,
                detail=f"input {size}, padding {pad_total}, effective kernel {effective_kernel(k, d)}",
            )
            out.append(o)
        c_out = self.out_channels
        outputs = c_out * out[0] * out[1]
        per_output = self.kernel_size[0] * self.kernel_size[1] * c_in / self.groups
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
