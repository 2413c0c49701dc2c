"""Dropout in all its flavours, StochasticDepth and Identity: at inference they pass their input through.

They execute no operation and hold no parameter; they are listed so a
network's structure matches torch's, never as a way to skip a cost.
``Dropout1d`` checks the input's rank as torch does (``(C, L)``, or torch's
unbatched reading of ``(L,)``)::

    >>> import symcost as sc
    >>> sc.Dropout(0.5).cost(sc.Shape(4096)).flops()
    0
    >>> sc.StochasticDepth(0.2, "row").cost(sc.Shape(64, 8, 8)).out_shape
    Shape(64, 8, 8)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.errors import ShapeError
from .registry import register
from ..core.shape import Shape
from .base import Layer


@register
@dataclass(frozen=True)
class Dropout(Layer):
    aliases_input: ClassVar[bool] = True  # in eval, torch returns the input itself

    p: object = 0.5

    #: the per-sample ranks torch accepts (None: any)
    ranks: ClassVar[tuple[int, ...] | None] = None

    def __post_init__(self) -> None:
        arg.probability(self.p, layer=self.label, argument="p")

    def _cost(self, shape: Shape) -> Cost:
        if self.ranks is not None and shape.rank not in self.ranks:
            raise ShapeError(f"{self.label}: expects a sample of {' or '.join(map(str, self.ranks))} entries "
                             f"(channels first), got {shape}")
        return Cost(self.kind, (shape,), shape)


@register
@dataclass(frozen=True)
class Dropout1d(Dropout):
    ranks = (1, 2)


@register
@dataclass(frozen=True)
class Dropout2d(Dropout):
    """Any rank, as torch (which warns but accepts ranks other than (C, H, W) and (C, L))."""


@register
@dataclass(frozen=True)
class Dropout3d(Dropout):
    """Any rank, as torch (which warns but accepts ranks other than (C, T, H, W) and (C, H, W))."""


@register
@dataclass(frozen=True)
class AlphaDropout(Dropout):
    pass


@register
@dataclass(frozen=True)
class FeatureAlphaDropout(Dropout):
    pass


@register
@dataclass(frozen=True)
class StochasticDepth(Layer):
    """torchvision.ops.StochasticDepth: drops whole residual branches in training, the identity at inference."""

    p: object
    mode: str

    def __post_init__(self) -> None:
        arg.probability(self.p, layer=self.label, argument="p")
        arg.choice(self.mode, ("row", "batch"), layer=self.label, argument="mode")

    def _cost(self, shape: Shape) -> Cost:
        return Cost(self.kind, (shape,), shape)


@register
@dataclass(frozen=True)
class Identity(Layer):
    aliases_input: ClassVar[bool] = True  # torch returns the input itself

    def _cost(self, shape: Shape) -> Cost:
        return Cost(self.kind, (shape,), shape)
