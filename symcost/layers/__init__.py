"""Every layer kind, one class per kind, each registered under its class name in the registry;
``catalogue`` holds one worked example per kind for `symcost layers` and `symcost explain`."""

from .activations import GELU, Hardsigmoid, Hardswish, LeakyReLU, ReLU, ReLU6, SiLU, Sigmoid, Tanh
from .attention import MultiheadAttention, ScaledDotProductAttention
from .adaptive_pooling import (
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d,
)
from .base import Layer
from .batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from .cat import Cat, Stack
from .conv import Conv1d, Conv2d, Conv3d
from .conv_transpose import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .einsum import Einsum
from .elementwise import Add, Div, Mul, Scale
from .elementwise_math import Abs, Clamp, Erf, Exp, Log, MaskedFill, Neg, Pow, Rsqrt, Sqrt, Where
from .embedding import Embedding, EmbeddingBag
from .gated import GLU, SwiGLU
from .linear import Linear
from .matmul import Addmm, Baddbmm, Bmm, MatMul
from .mean import Mean
from .normalization import GroupNorm, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, LayerNorm, RMSNorm
from .padding import Pad, Pad2d
from .layout import Contiguous, Expand, IndexSelect, Permute, Roll, Select, Slice, Transpose
from .passthrough import (AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d, FeatureAlphaDropout, Identity,
                          StochasticDepth)
from .recurrent import GRU, LSTM
from .pooling import AvgPool1d, AvgPool2d, AvgPool3d, MaxPool1d, MaxPool2d, MaxPool3d
from .reshape import Flatten, Reshape, Squeeze, Unflatten, Unsqueeze, View
from .separable import SeparableConv2d
from .reductions import Amax, Amin, Norm, Sum, Var
from .softmax import LogSoftmax, Softmax
from .split import Chunk, Split, TensorSplit, Unbind
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
    "Flatten", "Dropout", "Identity", "Upsample", "Add", "Mul", "Div", "Scale",
    "Cat", "Mean", "Pad2d", "Parameter", "Constant",
    "LayerNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "RMSNorm",
    "Embedding", "EmbeddingBag", "Softmax", "LogSoftmax",
    "Pow", "Sqrt", "Rsqrt", "Exp", "Log", "Erf", "Clamp", "Where", "MaskedFill", "Abs", "Neg",
    "Sum", "Var", "Amax", "Amin", "Norm", "GLU", "SwiGLU",
    "Reshape", "View", "Permute", "Transpose", "Unflatten", "Squeeze", "Unsqueeze", "Expand", "Contiguous",
    "Chunk", "Split", "TensorSplit", "Unbind", "Select", "Slice", "IndexSelect", "Roll", "Stack", "Pad",
    "StochasticDepth", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout",
    "MatMul", "Bmm", "Baddbmm", "Addmm", "Einsum", "ScaledDotProductAttention", "MultiheadAttention",
    "LSTM", "GRU",
]
