"""One canonical symbolic instance of every layer kind, for listings and docs.

    >>> cost = example("Conv2d").cost()
    >>> cost.out_shape
    Shape(C_out, floor((H - K + 2*P)/S) + 1, floor((-K + 2*P + W)/S) + 1)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .. import layers as L
from ..core.cost import Cost
from ..core.errors import UnknownLayerError
from .registry import kinds, layer_class
from ..core.shape import Shape
from ..core.symbols import C, C_in, C_out, D_in, D_out, H, K, L as L_, P, S, W, symbol


@dataclass(frozen=True)
class Example:
    """A layer built from symbols, and the input shape(s) it is shown on."""

    layer: L.Layer
    inputs: tuple[Shape, ...]

    def cost(self) -> Cost:
        return self.layer.cost(*self.inputs)


_MAP_IN, _MAP = Shape(C_in, H, W), Shape(C, H, W)
_T = symbol("T")  # frames of a clip
_SEQ_IN, _SEQ = Shape(C_in, L_), Shape(C, L_)
_CLIP_IN, _CLIP = Shape(C_in, _T, H, W), Shape(C, _T, H, W)
_BUILDERS: dict[str, Callable[[], Example]] = {
    "Conv1d": lambda: Example(L.Conv1d(C_out, K, stride=S, padding=P), (_SEQ_IN,)),
    "Conv2d": lambda: Example(L.Conv2d(C_out, K, stride=S, padding=P), (_MAP_IN,)),
    "Conv3d": lambda: Example(L.Conv3d(C_out, K, stride=S, padding=P), (_CLIP_IN,)),
    "ConvTranspose1d": lambda: Example(L.ConvTranspose1d(C_out, K, stride=S, padding=P), (_SEQ_IN,)),
    "ConvTranspose2d": lambda: Example(L.ConvTranspose2d(C_out, K, stride=S, padding=P), (_MAP_IN,)),
    "ConvTranspose3d": lambda: Example(L.ConvTranspose3d(C_out, K, stride=S, padding=P), (_CLIP_IN,)),
    "SeparableConv2d": lambda: Example(L.SeparableConv2d(C_out, K, stride=S, padding=P), (_MAP_IN,)),
    "Linear": lambda: Example(L.Linear(D_out), (Shape(D_in),)),
    "BatchNorm1d": lambda: Example(L.BatchNorm1d(), (_SEQ,)),
    "BatchNorm3d": lambda: Example(L.BatchNorm3d(), (_CLIP,)),
    "MaxPool1d": lambda: Example(L.MaxPool1d(K, stride=S, padding=P), (_SEQ,)),
    "MaxPool2d": lambda: Example(L.MaxPool2d(K, stride=S, padding=P), (_MAP,)),
    "MaxPool3d": lambda: Example(L.MaxPool3d(K, stride=S, padding=P), (_CLIP,)),
    "AvgPool1d": lambda: Example(L.AvgPool1d(K, stride=S, padding=P), (_SEQ,)),
    "AvgPool2d": lambda: Example(L.AvgPool2d(K, stride=S, padding=P), (_MAP,)),
    "AvgPool3d": lambda: Example(L.AvgPool3d(K, stride=S, padding=P), (_CLIP,)),
    "AdaptiveAvgPool1d": lambda: Example(L.AdaptiveAvgPool1d(1), (_SEQ,)),
    "AdaptiveAvgPool2d": lambda: Example(L.AdaptiveAvgPool2d(1), (_MAP,)),
    "AdaptiveAvgPool3d": lambda: Example(L.AdaptiveAvgPool3d(1), (_CLIP,)),
    "AdaptiveMaxPool1d": lambda: Example(L.AdaptiveMaxPool1d(1), (_SEQ,)),
    "AdaptiveMaxPool2d": lambda: Example(L.AdaptiveMaxPool2d(1), (_MAP,)),
    "AdaptiveMaxPool3d": lambda: Example(L.AdaptiveMaxPool3d(1), (_CLIP,)),
    "Upsample": lambda: Example(L.Upsample(scale_factor=symbol("s"), mode="bilinear"), (_MAP,)),
    "Add": lambda: Example(L.Add(), (_MAP, _MAP)),
    "Mul": lambda: Example(L.Mul(), (_MAP, _MAP)),
    "Scale": lambda: Example(L.Scale(2, divide=True), (_MAP,)),
    "Cat": lambda: Example(L.Cat(), (_MAP, _MAP)),
    "Mean": lambda: Example(L.Mean((2, 3)), (_MAP,)),
    "Pad2d": lambda: Example(L.Pad2d(P), (_MAP,)),
    "Parameter": lambda: Example(L.Parameter((C, H, W)), ()),
    "Constant": lambda: Example(L.Constant((C, H, W), buffer=True), ()),
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
