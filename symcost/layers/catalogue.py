"""One canonical symbolic instance of every layer kind, for listings and docs.

    >>> cost = example("Conv2d").cost()
    >>> cost.out_shape
    Shape(C_out, floor((H - K + 2*P)/S) + 1, floor((W - K + 2*P)/S) + 1)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy

from .. import layers as L
from ..core.cost import Cost
from ..core.errors import UnknownLayerError
from .registry import kinds, layer_class
from ..core.shape import Shape
from ..core.symbols import C, C_in, C_out, D, D_in, D_out, G, H, K, P, S, W, symbol


@dataclass(frozen=True)
class Example:
    """A layer built from symbols, and the input shape(s) it is shown on."""

    layer: L.Layer
    inputs: tuple[Shape, ...]

    def cost(self) -> Cost:
        return self.layer.cost(*self.inputs)


_MAP_IN, _MAP = Shape(C_in, H, W), Shape(C, H, W)
_SEQ = symbol("L")
_TOKENS = Shape(_SEQ, D)
_T = symbol("T")  # frames of a clip
_LINE_IN, _LINE = Shape(C_in, _SEQ), Shape(C, _SEQ)  # 1-D maps
_CLIP_IN, _CLIP = Shape(C_in, _T, H, W), Shape(C, _T, H, W)
_BUILDERS: dict[str, Callable[[], Example]] = {
    "Conv1d": lambda: Example(L.Conv1d(C_out, K, stride=S, padding=P), (_LINE_IN,)),
    "Conv2d": lambda: Example(L.Conv2d(C_out, K, stride=S, padding=P), (_MAP_IN,)),
    "Conv3d": lambda: Example(L.Conv3d(C_out, K, stride=S, padding=P), (_CLIP_IN,)),
    "ConvTranspose1d": lambda: Example(L.ConvTranspose1d(C_out, K, stride=S, padding=P), (_LINE_IN,)),
    "ConvTranspose2d": lambda: Example(L.ConvTranspose2d(C_out, K, stride=S, padding=P), (_MAP_IN,)),
    "ConvTranspose3d": lambda: Example(L.ConvTranspose3d(C_out, K, stride=S, padding=P), (_CLIP_IN,)),
    "SeparableConv2d": lambda: Example(L.SeparableConv2d(C_out, K, stride=S, padding=P), (_MAP_IN,)),
    "Linear": lambda: Example(L.Linear(D_out), (Shape(D_in),)),
    "BatchNorm1d": lambda: Example(L.BatchNorm1d(), (_LINE,)),
    "BatchNorm3d": lambda: Example(L.BatchNorm3d(), (_CLIP,)),
    "MaxPool1d": lambda: Example(L.MaxPool1d(K, stride=S, padding=P), (_LINE,)),
    "MaxPool2d": lambda: Example(L.MaxPool2d(K, stride=S, padding=P), (_MAP,)),
    "MaxPool3d": lambda: Example(L.MaxPool3d(K, stride=S, padding=P), (_CLIP,)),
    "AvgPool1d": lambda: Example(L.AvgPool1d(K, stride=S, padding=P), (_LINE,)),
    "AvgPool2d": lambda: Example(L.AvgPool2d(K, stride=S, padding=P), (_MAP,)),
    "AvgPool3d": lambda: Example(L.AvgPool3d(K, stride=S, padding=P), (_CLIP,)),
    "AdaptiveAvgPool1d": lambda: Example(L.AdaptiveAvgPool1d(1), (_LINE,)),
    "AdaptiveAvgPool2d": lambda: Example(L.AdaptiveAvgPool2d(1), (_MAP,)),
    "AdaptiveAvgPool3d": lambda: Example(L.AdaptiveAvgPool3d(1), (_CLIP,)),
    "AdaptiveMaxPool1d": lambda: Example(L.AdaptiveMaxPool1d(1), (_LINE,)),
    "AdaptiveMaxPool2d": lambda: Example(L.AdaptiveMaxPool2d(1), (_MAP,)),
    "AdaptiveMaxPool3d": lambda: Example(L.AdaptiveMaxPool3d(1), (_CLIP,)),
    "Upsample": lambda: Example(L.Upsample(scale_factor=symbol("s"), mode="bilinear"), (_MAP,)),
    "Add": lambda: Example(L.Add(), (_MAP, _MAP)),
    "Mul": lambda: Example(L.Mul(), (_MAP, _MAP)),
    "Div": lambda: Example(L.Div(), (_MAP, _MAP)),
    "Scale": lambda: Example(L.Scale(2, divide=True), (_MAP,)),
    "Cat": lambda: Example(L.Cat(), (_MAP, _MAP)),
    "Mean": lambda: Example(L.Mean((2, 3)), (_MAP,)),
    "Pad2d": lambda: Example(L.Pad2d(P), (_MAP,)),
    "Pad": lambda: Example(L.Pad((P, P, P, P)), (_MAP,)),
    "Reshape": lambda: Example(L.Reshape((C, -1)), (_MAP,)),
    "View": lambda: Example(L.View((-1,)), (_MAP,)),
    "Permute": lambda: Example(L.Permute((0, 2, 3, 1)), (_MAP,)),
    "Transpose": lambda: Example(L.Transpose(1, 2), (_MAP,)),
    "Unflatten": lambda: Example(L.Unflatten(1, (symbol("g"), -1)), (Shape(symbol("g") * C, H, W),)),
    "Squeeze": lambda: Example(L.Squeeze(2), (Shape(C, 1, W),)),
    "Unsqueeze": lambda: Example(L.Unsqueeze(1), (_MAP,)),
    "Expand": lambda: Example(L.Expand((C, H, W)), (Shape(C, 1, 1),)),
    "Chunk": lambda: Example(L.Chunk(2, dim=1), (Shape(2 * C, H, W),)),
    "Split": lambda: Example(L.Split((C, C_out), dim=1), (Shape(C + C_out, H, W),)),
    "TensorSplit": lambda: Example(L.TensorSplit((1,), dim=2), (_MAP,)),
    "Unbind": lambda: Example(L.Unbind(dim=1), (Shape(3, H, W),)),
    "Select": lambda: Example(L.Select(1, 0), (_MAP,)),
    "Slice": lambda: Example(L.Slice(2, start=1, step=S), (_MAP,)),
    "IndexSelect": lambda: Example(L.IndexSelect(1, K), (_MAP,)),
    "Roll": lambda: Example(L.Roll((S, S), dims=(2, 3)), (_MAP,)),
    "Stack": lambda: Example(L.Stack(dim=1), (_MAP, _MAP)),
    "Dropout1d": lambda: Example(L.Dropout1d(), (Shape(C, symbol("L")),)),
    "StochasticDepth": lambda: Example(L.StochasticDepth(sympy.Rational(1, 5), "row"), (_MAP,)),
    "Parameter": lambda: Example(L.Parameter((C, H, W)), ()),
    "Constant": lambda: Example(L.Constant((C, H, W), buffer=True), ()),
    "LayerNorm": lambda: Example(L.LayerNorm(D), (_TOKENS,)),
    "RMSNorm": lambda: Example(L.RMSNorm(D), (_TOKENS,)),
    "GroupNorm": lambda: Example(L.GroupNorm(G), (_MAP,)),
    "InstanceNorm1d": lambda: Example(L.InstanceNorm1d(), (Shape(C, _SEQ),)),
    "InstanceNorm3d": lambda: Example(L.InstanceNorm3d(), (Shape(C, symbol("T"), H, W),)),
    "Embedding": lambda: Example(L.Embedding(symbol("V"), D), (Shape(_SEQ),)),
    "EmbeddingBag": lambda: Example(L.EmbeddingBag(symbol("V"), D), (Shape(_SEQ),)),
    "Softmax": lambda: Example(L.Softmax(-1), (_TOKENS,)),
    "LogSoftmax": lambda: Example(L.LogSoftmax(-1), (_TOKENS,)),
    "Pow": lambda: Example(L.Pow(2), (_MAP,)),
    "Clamp": lambda: Example(L.Clamp(0, 6), (_MAP,)),
    "Where": lambda: Example(L.Where(), (Shape(_SEQ, 1), _TOKENS, Shape())),
    "MaskedFill": lambda: Example(L.MaskedFill(), (_TOKENS, Shape(_SEQ, 1))),
    "Sum": lambda: Example(L.Sum((2, 3)), (_MAP,)),
    "Var": lambda: Example(L.Var((2, 3)), (_MAP,)),
    "Amax": lambda: Example(L.Amax((2, 3)), (_MAP,)),
    "Amin": lambda: Example(L.Amin((2, 3)), (_MAP,)),
    "Norm": lambda: Example(L.Norm(-1, keepdim=True), (_TOKENS,)),
    "GLU": lambda: Example(L.GLU(), (Shape(_SEQ, 2 * D),)),
    "SwiGLU": lambda: Example(L.SwiGLU(), (Shape(_SEQ, 2 * D),)),
    "MatMul": lambda: Example(L.MatMul(), (Shape(symbol("L"), D_in), Shape(D_in, D_out))),
    "Bmm": lambda: Example(L.Bmm(), (Shape(C, symbol("n"), symbol("k")), Shape(C, symbol("k"), symbol("m")))),
    "Baddbmm": lambda: Example(L.Baddbmm(beta=1, alpha=2), (Shape(C, symbol("n"), symbol("m")),
                                                            Shape(C, symbol("n"), symbol("k")),
                                                            Shape(C, symbol("k"), symbol("m")))),
    "Addmm": lambda: Example(L.Addmm(), (Shape(D_out), Shape(symbol("L"), D_in), Shape(D_in, D_out))),
    "Einsum": lambda: Example(L.Einsum("bij,bjk->bik"), (Shape(C, symbol("i"), symbol("j")),
                                                          Shape(C, symbol("j"), symbol("k")))),
    "ScaledDotProductAttention": lambda: Example(
        L.ScaledDotProductAttention(is_causal=True),
        (Shape(symbol("h"), symbol("T"), symbol("d")),) * 3),
    "MultiheadAttention": lambda: Example(
        L.MultiheadAttention(symbol("d_model"), symbol("n_head")), (Shape(symbol("T"), symbol("d_model")),)),
    "LSTM": lambda: Example(L.LSTM(D_in, symbol("d_h")), (Shape(symbol("L"), D_in),)),
    "GRU": lambda: Example(L.GRU(D_in, symbol("d_h")), (Shape(symbol("L"), D_in),)),
}


def example(kind: str) -> Example:
    """The canonical instance of ``kind``; kinds without arguments act on ``(C, H, W)``."""
    cls = layer_class(kind)
    builder = _BUILDERS.get(cls.__name__)
    if builder is not None:
        return builder()
    try:
        return Example(cls(), (_MAP,))
    except TypeError:
        raise UnknownLayerError(f"layer kind {cls.__name__!r} has no catalogue example; add one") from None


def examples() -> list[Example]:
    """Canonical instances of every registered kind, sorted by kind."""
    return [example(kind) for kind in kinds()]
