"""MobileNet v1 (Howard et al. 2017) and v2 (torchvision).

``mobilenet_v1`` takes the width multiplier ``alpha`` and the input
``resolution`` as numbers or symbols. A number gives ``floor(c*alpha)``
channels, as torch code does with ``int(c*alpha)``; the symbol
:data:`symcost.symbols.alpha` gives the paper's ``alpha*M`` channels, so the
cost is a polynomial in alpha::

    >>> from symcost import zoo
    >>> from symcost.symbols import alpha
    >>> zoo.mobilenet_v1(alpha=0.75).analyze().total.params
    2585560
    >>> rep = zoo.mobilenet_v1(alpha=alpha).analyze()
    >>> rep.row("features.1.pw").cost.params.total
    2048*alpha**2
    >>> rep.subs(alpha=1).total.macs == zoo.mobilenet_v1().analyze().total.macs
    True
    >>> zoo.mobilenet_v2().analyze().total.params
    3504872
"""

from __future__ import annotations

from fractions import Fraction

import sympy

from ...networks.containers import Model, Residual, Sequential
from ...networks.base import Network
from ...core.errors import ArgumentTypeError, InvalidArgumentError
from ...layers import AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Dropout, Flatten, Linear, ReLU, ReLU6
from ...core.shape import Shape

#: (output channels, stride) of MobileNet v1's 13 depthwise-separable blocks (Table 1).
V1_BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
             (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]

#: MobileNet v2's bottleneck stages: expansion t, channels c, repeats n, first stride s (Table 2).
V2_SETTING = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
              (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


def _multiplier(value: object, *, model: str, argument: str) -> sympy.Expr | Fraction:
    """A width multiplier: an exact positive Fraction, or a SymPy expression with symbols."""
    if isinstance(value, sympy.Expr) and value.free_symbols:
        return value
    if isinstance(value, bool):
        raise ArgumentTypeError(f"{model}: {argument} must be a number or a SymPy expression, got {value!r}")
    if isinstance(value, (int, Fraction)):
        exact = Fraction(value)
    elif isinstance(value, float):
        exact = Fraction(str(value))  # 0.75 -> 3/4, not its binary approximation
    elif isinstance(value, sympy.Rational):
        exact = Fraction(int(value.p), int(value.q))
    elif isinstance(value, sympy.Float):
        exact = Fraction(str(float(value)))
    else:
        raise ArgumentTypeError(f"{model}: {argument} must be a number or a SymPy expression, "
                                f"got {type(value).__name__} {value!r}")
    if exact <= 0:
        raise InvalidArgumentError(model, argument, "must be positive", value)
    return exact


def _width(channels: int, alpha: sympy.Expr | Fraction) -> sympy.Expr | int:
    """``channels`` thinned by ``alpha``: ``floor(c*alpha)`` for a number, ``c*alpha`` for a symbol."""
    if isinstance(alpha, Fraction):
        return int(channels * alpha)
    return channels * alpha


def _conv_bn_act(out_channels: object, kernel_size: int, stride: int = 1, groups: object = 1,
                 act: type = ReLU, names: tuple = (None, None, None)) -> list:
    """A bias-free conv with 'same' padding, its BatchNorm and activation."""
    conv, bn, act_name = names
    return [Conv2d(out_channels, kernel_size, stride=stride, padding=(kernel_size - 1) // 2, groups=groups,
                   bias=False, name=conv),
            BatchNorm2d(name=bn), act(name=act_name)]


def _separable(in_channels: object, out_channels: object, stride: int) -> Sequential:
    """A depthwise 3x3 (``dw``) then a pointwise 1x1 (``pw``), each with BatchNorm and ReLU."""
    return Sequential(*_conv_bn_act(in_channels, 3, stride, groups=in_channels, names=("dw", "dw_bn", "dw_relu")),
                      *_conv_bn_act(out_channels, 1, names=("pw", "pw_bn", "pw_relu")))


def mobilenet_v1(alpha: object = 1, resolution: object = 224, num_classes: int = 1000) -> Model:
    """MobileNet v1 at width ``alpha`` on a ``resolution`` x ``resolution`` input."""
    alpha = _multiplier(alpha, model="mobilenet_v1", argument="alpha")
    channels = _width(32, alpha)
    blocks = [Sequential(*_conv_bn_act(channels, 3, 2, names=("conv", "bn", "relu")))]
    for out, stride in V1_BLOCKS:
        blocks.append(_separable(channels, _width(out, alpha), stride))
        channels = _width(out, alpha)
    body = Sequential(Sequential(*blocks, name="features"), AdaptiveAvgPool2d(1, name="avgpool"),
                      Flatten(name="flatten", origin="function"), Linear(num_classes, name="fc"))
    return Model(body, name="mobilenet_v1", input_shape=Shape(3, resolution, resolution))


def make_divisible(value: Fraction, divisor: int = 8) -> int:
    """torchvision's ``_make_divisible``: nearest multiple of ``divisor``, never 10% below ``value``."""
    rounded = max(divisor, int(value + Fraction(divisor, 2)) // divisor * divisor)
    return rounded + divisor if rounded < Fraction(9, 10) * value else rounded


def _inverted_residual(in_channels: int, out_channels: int, stride: int, expand: int) -> Network:
    """Expand 1x1, depthwise 3x3, project 1x1 (``conv``); plus the input when shapes allow."""
    hidden = in_channels * expand
    layers = [Sequential(*_conv_bn_act(hidden, 1, act=ReLU6))] if expand != 1 else []
    layers += [Sequential(*_conv_bn_act(hidden, 3, stride, groups=hidden, act=ReLU6)),
               Conv2d(out_channels, 1, bias=False), BatchNorm2d()]
    conv = Sequential(*layers, name="conv")
    return Residual(conv) if stride == 1 and in_channels == out_channels else Sequential(conv)


def mobilenet_v2(num_classes: int = 1000, width_mult: object = 1) -> Model:
    """torchvision's MobileNetV2 (channels rounded to multiples of 8) on a 224x224 input."""
    width = _multiplier(width_mult, model="mobilenet_v2", argument="width_mult")
    if not isinstance(width, Fraction):
        raise InvalidArgumentError("mobilenet_v2", "width_mult", "must be a number (channels are rounded)", width)
    channels = make_divisible(32 * width)
    last = make_divisible(1280 * max(Fraction(1), width))
    features: list = [Sequential(*_conv_bn_act(channels, 3, 2, act=ReLU6))]
    for expand, c, repeats, stride in V2_SETTING:
        out = make_divisible(c * width)
        for i in range(repeats):
            features.append(_inverted_residual(channels, out, stride if i == 0 else 1, expand))
            channels = out
    features.append(Sequential(*_conv_bn_act(last, 1, act=ReLU6)))
    body = Sequential(Sequential(*features, name="features"),  # torchvision pools and flattens functionally
                      AdaptiveAvgPool2d(1, name="adaptive_avg_pool2d", origin="function"),
                      Flatten(name="flatten", origin="function"),
                      Sequential(Dropout(0.2), Linear(num_classes), name="classifier"))
    return Model(body, name="mobilenet_v2", input_shape=Shape(3, 224, 224))
