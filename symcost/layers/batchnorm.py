"""BatchNorm2d, as torch.nn.BatchNorm2d: at inference (the default) or in training mode.

Folded into one scale and one shift per channel, it costs one multiply and
one add per element. ``weight`` and ``bias`` (when ``affine``) are learned;
``running_mean``, ``running_var`` and ``num_batches_tracked`` (when
``track_running_stats``) are buffers, not parameters::

    >>> import symcost as sc
    >>> from symcost.symbols import C, H, W
    >>> c = sc.BatchNorm2d().cost(sc.Shape(C, H, W))
    >>> c.params.total, c.params.buffer_total, c.flops()
    (2*C, 2*C + 1, 2*C*H*W)

``training=True`` counts training mode's forward pass instead: the statistics
of each channel computed now and the running statistics updated, as
:func:`~symcost.layers.normalization.batch_norm_training_ops` counts them (for
a batch of one sample, which needs more than one position per channel).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.counts import OpCounts, Params
from ..core.errors import ShapeError
from .normalization import batch_norm_training_ops, running_buffers
from .registry import register
from ..core.shape import Shape
from .base import Layer


@register
@dataclass(frozen=True)
class BatchNorm2d(Layer):
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
        c = self._feature_map(shape).C
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
