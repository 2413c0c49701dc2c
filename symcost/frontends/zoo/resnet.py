"""ResNet-18/34 (basic blocks) and 50/101/152 (bottlenecks), as torchvision (v1.5).

In the bottleneck the stride sits on the 3x3 conv (torchvision's "v1.5").
Rows are named as torch names the modules: ``layer1.0.conv1``,
``layer1.0.downsample.0``; each block's sum is ``layer1.0.add``::

    >>> from symcost import zoo
    >>> rep = zoo.resnet18().analyze()
    >>> rep.total.params, rep.total.macs
    (11689512, 1814073344)
    >>> [row.name for row in rep.rows][4:9]
    ['layer1.0.conv1', 'layer1.0.bn1', 'layer1.0.relu', 'layer1.0.conv2', 'layer1.0.bn2']
"""

from __future__ import annotations

from ...networks.containers import Model, Residual, Sequential
from ...core.errors import InvalidArgumentError
from ...layers import AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU
from ...core.shape import Shape

#: Blocks per stage and the block kind of each depth (He et al. 2016, Table 1).
CONFIGS: dict[int, tuple[str, tuple[int, int, int, int]]] = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}
EXPANSION = {"basic": 1, "bottleneck": 4}


def _conv_bn(index: int, out_channels: int, kernel_size: int, stride: int = 1, relu: bool = True) -> list:
    """``conv{i}``, ``bn{i}`` (and ``relu``): a bias-free conv, 'same' padding for odd kernels."""
    layers = [Conv2d(out_channels, kernel_size, stride=stride, padding=kernel_size // 2, bias=False,
                     name=f"conv{index}"),
              BatchNorm2d(name=f"bn{index}")]
    return layers + [ReLU(name="relu")] if relu else layers


def _body(kind: str, planes: int, stride: int) -> Sequential:
    if kind == "basic":
        layers = _conv_bn(1, planes, 3, stride) + _conv_bn(2, planes, 3, relu=False)
    else:
        layers = _conv_bn(1, planes, 1) + _conv_bn(2, planes, 3, stride) + _conv_bn(3, 4 * planes, 1, relu=False)
    return Sequential(*layers, name="")


def _block(kind: str, in_channels: int, planes: int, stride: int) -> Sequential:
    """``relu(body(x) + shortcut(x))``; the shortcut projects when the shape changes."""
    out_channels = planes * EXPANSION[kind]
    shortcut = None
    if stride != 1 or in_channels != out_channels:
        shortcut = Sequential(Conv2d(out_channels, 1, stride=stride, bias=False), BatchNorm2d(), name="downsample")
    return Sequential(Residual(_body(kind, planes, stride), shortcut, name=""), ReLU(name="relu"))


def _stage(index: int, kind: str, in_channels: int, planes: int, blocks: int, stride: int) -> Sequential:
    out_channels = planes * EXPANSION[kind]
    first = _block(kind, in_channels, planes, stride)
    rest = [_block(kind, out_channels, planes, 1) for _ in range(blocks - 1)]
    return Sequential(first, *rest, name=f"layer{index}")


def resnet(depth: int, num_classes: int = 1000) -> Model:
    """ResNet of ``depth`` 18, 34, 50, 101 or 152 on a 224x224 input."""
    if depth not in CONFIGS:
        raise InvalidArgumentError("resnet", "depth", f"must be one of {', '.join(map(str, CONFIGS))}", depth)
    kind, blocks = CONFIGS[depth]
    stages, channels = [], 64
    for index, (planes, count) in enumerate(zip((64, 128, 256, 512), blocks), start=1):
        stages.append(_stage(index, kind, channels, planes, count, 1 if index == 1 else 2))
        channels = planes * EXPANSION[kind]
    body = Sequential(
        Conv2d(64, 7, stride=2, padding=3, bias=False, name="conv1"), BatchNorm2d(name="bn1"), ReLU(name="relu"),
        MaxPool2d(3, stride=2, padding=1, name="maxpool"),
        *stages,
        AdaptiveAvgPool2d(1, name="avgpool"), Flatten(name="flatten", origin="function"), Linear(num_classes, name="fc"),
    )
    return Model(body, name=f"resnet{depth}", input_shape=Shape(3, 224, 224))


def resnet18(num_classes: int = 1000) -> Model:
    return resnet(18, num_classes)


def resnet34(num_classes: int = 1000) -> Model:
    return resnet(34, num_classes)


def resnet50(num_classes: int = 1000) -> Model:
    return resnet(50, num_classes)


def resnet101(num_classes: int = 1000) -> Model:
    return resnet(101, num_classes)


def resnet152(num_classes: int = 1000) -> Model:
    return resnet(152, num_classes)
