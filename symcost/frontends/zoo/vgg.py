"""VGG-11/13/16/19 (configurations A, B, D, E), with or without BatchNorm, as torchvision.

One generic :func:`vgg` builds every depth from its configuration; the named
functions are thin wrappers::

    >>> from symcost import zoo
    >>> rep = zoo.vgg16().analyze()
    >>> rep.total.params, rep.total.macs
    (138357544, 15470264320)
    >>> rep.row("classifier.6").cost.out_shape
    Shape(1000)
"""

from __future__ import annotations

from ...networks.containers import Model, Sequential
from ...core.errors import InvalidArgumentError
from ...layers import AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU
from ...core.shape import Shape

#: Output channels of each 3x3 conv, "M" a 2x2 max pool (Simonyan & Zisserman, Table 1).
CONFIGS: dict[int, list] = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def _features(config: list, batch_norm: bool) -> Sequential:
    layers: list = []
    for v in config:
        if v == "M":
            layers.append(MaxPool2d(2, stride=2))
        else:
            layers += [Conv2d(v, 3, padding=1), *([BatchNorm2d()] if batch_norm else []), ReLU()]
    return Sequential(*layers, name="features")


def vgg(depth: int, batch_norm: bool = False, num_classes: int = 1000) -> Model:
    """VGG of ``depth`` 11, 13, 16 or 19, named ``vgg16`` or ``vgg16_bn``."""
    if depth not in CONFIGS:
        raise InvalidArgumentError("vgg", "depth", f"must be one of {', '.join(map(str, CONFIGS))}", depth)
    classifier = Sequential(
        Linear(4096), ReLU(), Dropout(0.5),
        Linear(4096), ReLU(), Dropout(0.5),
        Linear(num_classes),
        name="classifier",
    )
    body = Sequential(_features(CONFIGS[depth], batch_norm), AdaptiveAvgPool2d(7, name="avgpool"),
                      Flatten(name="flatten", origin="function"), classifier)
    name = f"vgg{depth}" + ("_bn" if batch_norm else "")
    return Model(body, name=name, input_shape=Shape(3, 224, 224))


def vgg11(num_classes: int = 1000) -> Model:
    return vgg(11, False, num_classes)


def vgg13(num_classes: int = 1000) -> Model:
    return vgg(13, False, num_classes)


def vgg16(num_classes: int = 1000) -> Model:
    return vgg(16, False, num_classes)


def vgg19(num_classes: int = 1000) -> Model:
    return vgg(19, False, num_classes)


def vgg11_bn(num_classes: int = 1000) -> Model:
    return vgg(11, True, num_classes)


def vgg13_bn(num_classes: int = 1000) -> Model:
    return vgg(13, True, num_classes)


def vgg16_bn(num_classes: int = 1000) -> Model:
    return vgg(16, True, num_classes)


def vgg19_bn(num_classes: int = 1000) -> Model:
    return vgg(19, True, num_classes)
