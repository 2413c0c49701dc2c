"""AlexNet: torchvision's single-tower variant and the original 2012 two-tower net.

``alexnet`` is torchvision's (224 input, adaptive 6x6 pool, 61,100,840
parameters); ``alexnet2012`` is Krizhevsky et al.'s 227x227 net with the
two-GPU split as ``groups=2`` and a fixed-size classifier (LRN omitted: no
parameters, no MACs)::

    >>> from symcost import zoo
    >>> rep = zoo.alexnet().analyze()
    >>> rep.total.params, rep.total.macs
    (61100840, 714188480)
    >>> zoo.alexnet2012().analyze().total.params
    60965224
"""

from __future__ import annotations

from ...networks.containers import Model, Sequential
from ...layers import AdaptiveAvgPool2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU
from ...core.shape import Shape


def _conv_relu(out_channels: int, kernel_size: int, **conv: object) -> tuple:
    return Conv2d(out_channels, kernel_size, **conv), ReLU()


def _pool() -> MaxPool2d:
    return MaxPool2d(3, stride=2)  # overlapping pooling


def alexnet(num_classes: int = 1000) -> Model:
    """torchvision.models.alexnet: 5 convs, max pools, adaptive 6x6 pool, 3 fully connected."""
    features = Sequential(
        *_conv_relu(64, 11, stride=4, padding=2), _pool(),
        *_conv_relu(192, 5, padding=2), _pool(),
        *_conv_relu(384, 3, padding=1),
        *_conv_relu(256, 3, padding=1),
        *_conv_relu(256, 3, padding=1), _pool(),
        name="features",
    )
    classifier = Sequential(
        Dropout(0.5), Linear(4096), ReLU(),
        Dropout(0.5), Linear(4096), ReLU(),
        Linear(num_classes),
        name="classifier",
    )
    body = Sequential(features, AdaptiveAvgPool2d(6, name="avgpool"), Flatten(name="flatten", origin="function"),
                      classifier)
    return Model(body, name="alexnet", input_shape=Shape(3, 224, 224))


def alexnet2012(num_classes: int = 1000) -> Model:
    """The 2012 AlexNet: 227x227 input; conv2, conv4, conv5 split over two towers (groups=2)."""
    features = Sequential(
        *_conv_relu(96, 11, stride=4), _pool(),
        *_conv_relu(256, 5, padding=2, groups=2), _pool(),
        *_conv_relu(384, 3, padding=1),
        *_conv_relu(384, 3, padding=1, groups=2),
        *_conv_relu(256, 3, padding=1, groups=2), _pool(),
        name="features",
    )
    classifier = Sequential(
        Linear(4096), ReLU(), Dropout(0.5),
        Linear(4096), ReLU(), Dropout(0.5),
        Linear(num_classes),
        name="classifier",
    )
    body = Sequential(features, Flatten(name="flatten", origin="function"), classifier)
    return Model(body, name="alexnet2012", input_shape=Shape(3, 227, 227))
