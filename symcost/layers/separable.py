"""SeparableConv2d: a depthwise convolution then a pointwise (1x1) one.

Depthwise: ``C_in*depth_multiplier`` filters of ``K x K``, one per input
channel (``groups=C_in``); pointwise: a 1x1 conv to ``out_channels``. Both
carry a bias when ``bias`` is set. Without bias the weights are
``(K^2 + C_out)*C_in``; with bias the exact FLOPs are
``2*(K^2 + C_out)*H_out*W_out*C_in`` (seed 002)::

    >>> import symcost as sc
    >>> from symcost.symbols import C_in, C_out, K, W
    >>> sc.SeparableConv2d(C_out, K, padding="same", bias=False).cost(sc.Shape(C_in, W, W)).params.total
    C_in*C_out + C_in*K**2
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core import arguments as arg
from ..core.cost import Cost, chain
from ..core.errors import ArgumentTypeError, InvalidArgumentError
from .registry import register
from ..core.shape import Shape
from ..core.traffic import Traffic, default_traffic
from .base import Layer
from .conv import Conv2d


@register
@dataclass(frozen=True)
class SeparableConv2d(Layer):
    out_channels: object
    kernel_size: object
    stride: object = 1
    padding: object = 0
    dilation: object = 1
    bias: bool = True
    depth_multiplier: object = 1

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "depth_multiplier",
            arg.positive_int(self.depth_multiplier, layer=self.label, argument="depth_multiplier"),
        )
        # Validate the shared arguments once; an error names this layer, not the Conv2d parts.
        try:
            self._pointwise()
            Conv2d(1, self.kernel_size, self.stride, self.padding, self.dilation, bias=self.bias, name=self.name)
        except InvalidArgumentError as err:
            raise InvalidArgumentError(self.label, err.argument, err.rule, err.value) from None
        except ArgumentTypeError as err:
            raise ArgumentTypeError(f"{self.label}: {str(err).split(': ', 1)[-1]}") from None

    def _depthwise(self, in_channels: object) -> Conv2d:
        return Conv2d(
            in_channels * self.depth_multiplier, self.kernel_size, self.stride, self.padding,
            self.dilation, groups=in_channels, bias=self.bias, name=self._part("depthwise"),
        )

    def _pointwise(self) -> Conv2d:
        return Conv2d(self.out_channels, 1, bias=self.bias, name=self._part("pointwise"))

    def _part(self, part: str) -> str:
        return f"{self.name}.{part}" if self.name else part

    def _cost(self, shape: Shape) -> Cost:
        c_in = self._feature_map(shape).C
        depthwise = self._depthwise(c_in).cost(shape)
        pointwise = self._pointwise().cost(depthwise.out_shape)
        return chain(self.kind, [depthwise, pointwise])

    def traffic(self, cost: Cost, size: int) -> Traffic:
        """Two kernels: the depthwise output is written, then read back by the pointwise conv."""
        _, h, w = cost.out_shape.dims
        middle = cost.in_shape.C * self.depth_multiplier * h * w * size
        own = default_traffic(cost, size)
        return own + Traffic(inputs=middle, outputs=middle)
