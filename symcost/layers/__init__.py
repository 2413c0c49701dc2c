"""Every layer kind, one class per kind, each registered under its class name in the registry;
``catalogue`` holds one worked example per kind for `symcost layers` and `symcost explain`."""

from .activations import GELU, Hardsigmoid, Hardswish, LeakyReLU, ReLU, ReLU6, SiLU, Sigmoid, Tanh
from .adaptive_pooling import (
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d,
)
from .base import Layer
from .batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from .cat import Cat
from .conv import Conv1d, Conv2d, Conv3d
from .conv_transpose import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .elementwise import Add, Mul, Scale
from .linear import Linear
from .mean import Mean
from .padding import Pad2d
from .passthrough import Dropout, Identity
from .pooling import AvgPool1d, AvgPool2d, AvgPool3d, MaxPool1d, MaxPool2d, MaxPool3d
from .reshape import Flatten
from .separable import SeparableConv2d
from .tensors import Constant, Parameter
from .upsample import Upsample
from .registry import kinds, layer_class  # after the kinds above registered themselves

__all__ = [
    "Layer",
    "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "SeparableConv2d",
    "Linear", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d",
    "ReLU", "ReLU6", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "SiLU", "Hardswish", "Hardsigmoid",
    "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "Flatten", "Dropout", "Identity", "Upsample", "Add", "Mul", "Scale",
    "Cat", "Mean", "Pad2d", "Parameter", "Constant",
]
