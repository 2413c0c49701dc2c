"""BatchNorm1d, BatchNorm2d and BatchNorm3d, as torch.nn: at inference (the default) or in training mode.

BatchNorm1d takes (C,) or (C, L), BatchNorm2d (C, H, W), BatchNorm3d (C, T, H, W).
Folded into one scale and one shift per channel, it costs one multiply and
one add per element. ``weight`` and ``bias`` (when ``affine``) are learned;
``running_mean``, ``running_var`` and ``num_batches_tracked`` (when
``track_running_stats``) are buffers, not parameters::

    >>> import symcost as sc
    >>> from symcost.symbols import C, H, W
    >>> c = sc.BatchNorm2d().cost(sc.Shape(C, H, W))
    >>> c.params.total, c.params.buffer_total, c.flops()
    (2*C, 2*C + 1, 2*C*H*W)
    >>> sc.BatchNorm1d(affine=False).cost(sc.Shape(C)).flops()
    2*C

``training=True`` counts training mode's forward pass instead: the statistics
of each channel computed now and the running statistics updated, as
:func:`~symcost.layers.normalization.batch_norm_training_ops` counts them (for
a batch of one sample, which needs more than one position per channel).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.counts import OpCounts, Params
from ..core.errors import ShapeError
from .normalization import batch_norm_training_ops, running_buffers
from .registry import register
from ..core.shape import Shape
from .base import Layer


@dataclass(frozen=True)
class _BatchNormNd(Layer):
    """The batch norm; subclasses say which input ranks they take (``ranks``, per sample)."""

    num_features: object = None
    affine: bool = True
    track_running_stats: bool = True
    training: bool = False

    def __post_init__(self) -> None:
        label = self.label
        if self.num_features is not None:
            object.__setattr__(
                self, "num_features", arg.positive_int(self.num_features, layer=label, argument="num_features")
            )
        arg.boolean(self.affine, layer=label, argument="affine")
        arg.boolean(self.track_running_stats, layer=label, argument="track_running_stats")
        arg.boolean(self.training, layer=label, argument="training")

    def _cost(self, shape: Shape) -> Cost:
        if shape.rank not in self.ranks:
            raise ShapeError(f"{self.label}: expects {self.expects}, got {shape}")
        c = shape[0]
        if self.num_features is not None and arg.refuted(sympy.Eq(self.num_features, c)):
            raise ShapeError(f"{self.label}: num_features is {self.num_features} but the input has {c} channels")
        buffers = running_buffers(c)
        n = shape.numel
        ops = OpCounts(mul=n, add=n)
        if self.training:
            if arg.proven(sympy.Eq(n / c, 1)):
                raise ShapeError(f"{self.label}: training mode needs more than one value per channel, got {shape}")
            ops = batch_norm_training_ops(c, n / c, self.affine, self.track_running_stats)
        return Cost(
            kind=self.kind,
            in_shapes=(shape,),
            out_shape=shape,
            params=Params(
                weight=c if self.affine else 0,
                bias=c if self.affine else 0,
                buffers=buffers if self.track_running_stats else (),
            ),
            ops=ops,
        )


@register
@dataclass(frozen=True)
class BatchNorm1d(_BatchNormNd):
    """torch.nn.BatchNorm1d on a (C,) vector or a (C, L) map."""

    ranks: ClassVar[tuple[int, ...]] = (1, 2)
    expects: ClassVar[str] = "a (C,) vector or a (C, L) map"


@register
@dataclass(frozen=True)
class BatchNorm2d(_BatchNormNd):
    """torch.nn.BatchNorm2d on a (C, H, W) map."""

    ranks: ClassVar[tuple[int, ...]] = (3,)
    expects: ClassVar[str] = "a (C, H, W) feature map"


@register
@dataclass(frozen=True)
class BatchNorm3d(_BatchNormNd):
    """torch.nn.BatchNorm3d on a (C, T, H, W) map."""

    ranks: ClassVar[tuple[int, ...]] = (4,)
    expects: ClassVar[str] = "a (C, T, H, W) map"
