"""Normalisations that compute their statistics: LayerNorm, GroupNorm, InstanceNorm1d/2d/3d, RMSNorm.

Each standardises groups of ``n`` values with statistics computed now, as
torch's CPU kernels do (:func:`standardise_ops`, shared with batch norm in
training mode, :func:`batch_norm_training_ops`)::

    mean      = sum / n                 n-1 adds, 1 div
    d         = x - mean                n adds (reused for the output)
    var       = sum(d*d) / n            n muls, n-1 adds, 1 div   (biased)
    rstd      = 1 / sqrt(var + eps)     1 add, 1 special, 1 div
    y         = d * rstd                n muls

so ``2n`` muls, ``3n - 1`` adds, 3 divisions and 1 special per group; then
``* weight`` (1 mul) and ``+ bias`` (1 add) per element when affine. RMSNorm
is ``x * rsqrt(mean(x*x) + eps) [* weight]``: per group ``2n`` muls, ``n``
adds, 1 division, 1 special (torch.rsqrt), and ``n`` muls for the weight::

    >>> import symcost as sc
    >>> from symcost.symbols import L, D
    >>> c = sc.LayerNorm(D).cost(sc.Shape(L, D))
    >>> c.ops.mul, c.ops.add.expand(), c.ops.div, c.ops.special, c.params.total
    (3*D*L, 4*D*L - L, 3*L, L, 2*D)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.counts import OpCounts, Params
from ..core.errors import InvalidArgumentError, ShapeError
from ..core.shape import Shape
from .base import Layer
from .registry import register


def standardise_ops(groups: object, n: object) -> OpCounts:
    """``(x - mean) / sqrt(var + eps)`` over ``groups`` groups of ``n`` values, statistics computed now
    (biased variance; see the module docstring): per group 2n muls, 3n - 1 adds, 3 divisions, 1 special."""
    return OpCounts(mul=2 * n * groups, add=(3 * n - 1) * groups, div=3 * groups, special=groups)


def affine_ops(elements: object, weight: bool, bias: bool) -> OpCounts:
    """``* weight`` (1 mul) and ``+ bias`` (1 add) per element, each when present."""
    return OpCounts(mul=elements if weight else 0, add=elements if bias else 0)


def running_stats_ops(channels: object) -> OpCounts:
    """Training mode's update of the running statistics, per channel: the unbiased variance
    ``sum(d*d) / (n - 1)`` (1 div), then ``(1 - momentum)*old + momentum*new`` for the mean and the
    variance (2 muls and 1 add each)."""
    return OpCounts(mul=4 * channels, add=2 * channels, div=channels)


def batch_norm_training_ops(channels: object, per_channel: object, affine: bool,
                            track_running_stats: bool) -> OpCounts:
    """Batch norm in training mode on one sample ``(C, *spatial)``: per channel the statistics over
    its ``per_channel`` positions (:func:`standardise_ops`), the affine map per element, and the
    running statistics' update when tracked (:func:`running_stats_ops`). A batch of ``B`` samples
    shares one set of statistics per channel; these counts are those of a batch of one."""
    ops = standardise_ops(channels, per_channel) + affine_ops(channels * per_channel, affine, affine)
    return ops + running_stats_ops(channels) if track_running_stats else ops


def running_buffers(channels: object) -> tuple[tuple[str, object], ...]:
    """The buffers of ``track_running_stats``: running_mean, running_var, num_batches_tracked."""
    return (("running_mean", channels), ("running_var", channels), ("num_batches_tracked", 1))


def _normalized_shape(layer: Layer) -> tuple[sympy.Expr, ...]:
    value = layer.normalized_shape
    values = tuple(value) if isinstance(value, (tuple, list, Shape)) else (value,)
    if not 1 <= len(values) <= 16:
        raise InvalidArgumentError(layer.label, "normalized_shape", "must be one size or a sequence of 1 to 16",
                                   value)
    return tuple(arg.positive_int(v, layer=layer.label, argument="normalized_shape") for v in values)


def _trailing(layer: Layer, shape: Shape) -> sympy.Expr:
    """The number of elements per group: the input's last ``len(normalized_shape)`` entries, checked."""
    ns = layer.normalized_shape
    if shape.rank < len(ns):
        raise ShapeError(f"{layer.label}: normalized_shape {tuple(ns)} has more entries than the input {shape}")
    tail = shape.dims[shape.rank - len(ns):]
    for want, got in zip(ns, tail):
        if arg.refuted(sympy.Eq(want, got)):
            raise ShapeError(f"{layer.label}: normalized_shape {tuple(ns)} is not the end of the input {shape}")
    return sympy.Mul(*tail)


def _num_features(layer: Layer, argument: str, channels: sympy.Expr) -> None:
    given = getattr(layer, argument)
    if given is not None and arg.refuted(sympy.Eq(given, channels)):
        raise ShapeError(f"{layer.label}: {argument} is {given} but the input has {channels} channels")


@register
@dataclass(frozen=True)
class LayerNorm(Layer):
    """nn.LayerNorm over the last dimensions ``normalized_shape``; weight and bias of that shape."""

    normalized_shape: object
    eps: object = 1e-5
    elementwise_affine: bool = True
    bias: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "normalized_shape", _normalized_shape(self))
        arg.number(self.eps, layer=self.label, argument="eps")
        arg.boolean(self.elementwise_affine, layer=self.label, argument="elementwise_affine")
        arg.boolean(self.bias, layer=self.label, argument="bias")

    def _cost(self, shape: Shape) -> Cost:
        n = _trailing(self, shape)
        size = sympy.Mul(*self.normalized_shape)
        affine, bias = self.elementwise_affine, self.elementwise_affine and self.bias
        ops = standardise_ops(shape.numel / n, n) + affine_ops(shape.numel, affine, bias)
        return Cost(self.kind, (shape,), shape, params=Params(weight=size if affine else 0, bias=size if bias else 0),
                    ops=ops)


@register
@dataclass(frozen=True)
class RMSNorm(Layer):
    """nn.RMSNorm over the last dimensions ``normalized_shape``: ``x * rsqrt(mean(x*x) + eps) * weight``."""

    normalized_shape: object
    eps: object = None
    elementwise_affine: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "normalized_shape", _normalized_shape(self))
        if self.eps is not None:
            arg.number(self.eps, layer=self.label, argument="eps")
        arg.boolean(self.elementwise_affine, layer=self.label, argument="elementwise_affine")

    def _cost(self, shape: Shape) -> Cost:
        n = _trailing(self, shape)
        groups, elements = shape.numel / n, shape.numel
        ops = OpCounts(mul=2 * elements + (elements if self.elementwise_affine else 0), add=elements,
                       div=groups, special=groups)
        weight = sympy.Mul(*self.normalized_shape) if self.elementwise_affine else 0
        return Cost(self.kind, (shape,), shape, params=Params(weight=weight), ops=ops)


@register
@dataclass(frozen=True)
class GroupNorm(Layer):
    """nn.GroupNorm on ``(C, *spatial)``: statistics per group of ``C / num_groups`` channels."""

    num_groups: object
    num_channels: object = None
    eps: object = 1e-5
    affine: bool = True

    def __post_init__(self) -> None:
        label = self.label
        object.__setattr__(self, "num_groups", arg.positive_int(self.num_groups, layer=label, argument="num_groups"))
        if self.num_channels is not None:
            channels = arg.positive_int(self.num_channels, layer=label, argument="num_channels")
            if (channels / self.num_groups).is_integer is False:
                raise InvalidArgumentError(label, "num_channels", f"must be divisible by num_groups "
                                           f"({self.num_groups})", self.num_channels)
            object.__setattr__(self, "num_channels", channels)
        arg.number(self.eps, layer=label, argument="eps")
        arg.boolean(self.affine, layer=label, argument="affine")

    def _cost(self, shape: Shape) -> Cost:
        if shape.rank < 1:
            raise ShapeError(f"{self.label}: expects (C, *spatial), got the scalar {shape}")
        c = shape.dims[0]
        _num_features(self, "num_channels", c)
        if (c / self.num_groups).is_integer is False:
            raise ShapeError(f"{self.label}: num_groups {self.num_groups} does not divide the {c} channels of {shape}")
        n = shape.numel / self.num_groups
        if arg.proven(sympy.Eq(n, 1)):
            raise ShapeError(f"{self.label}: needs more than one value per group (torch refuses one), got {shape} "
                             f"in {self.num_groups} groups")
        ops = standardise_ops(self.num_groups, n)
        ops += affine_ops(shape.numel, self.affine, self.affine)
        return Cost(self.kind, (shape,), shape, params=Params(weight=c if self.affine else 0,
                                                              bias=c if self.affine else 0), ops=ops)


@dataclass(frozen=True)
class _InstanceNorm(Layer):
    """nn.InstanceNorm{1,2,3}d on ``(C, *spatial)``: statistics per channel; with
    ``track_running_stats`` inference reads the running statistics, folded as BatchNorm2d's
    (1 mul and 1 add per element)."""

    num_features: object = None
    eps: object = 1e-5
    momentum: object = 0.1
    affine: bool = False
    track_running_stats: bool = False

    spatial_axes: ClassVar[int] = 2

    def __post_init__(self) -> None:
        label = self.label
        if self.num_features is not None:
            object.__setattr__(self, "num_features",
                               arg.positive_int(self.num_features, layer=label, argument="num_features"))
        arg.number(self.eps, layer=label, argument="eps")
        if self.momentum is not None:
            arg.probability(self.momentum, layer=label, argument="momentum")
        arg.boolean(self.affine, layer=label, argument="affine")
        arg.boolean(self.track_running_stats, layer=label, argument="track_running_stats")

    def _cost(self, shape: Shape) -> Cost:
        want = ("(C, L)", "(C, H, W)", "(C, T, H, W)")[self.spatial_axes - 1]
        if shape.rank != self.spatial_axes + 1:
            raise ShapeError(f"{self.label}: expects {want}, got {shape}")
        c, elements = shape.dims[0], shape.numel
        _num_features(self, "num_features", c)
        if self.track_running_stats:
            ops = OpCounts(mul=elements, add=elements)
        elif arg.proven(sympy.Eq(elements / c, 1)):
            raise ShapeError(f"{self.label}: needs more than one spatial element to compute statistics "
                             f"(torch refuses one), got {shape}")
        else:
            ops = standardise_ops(c, elements / c) + affine_ops(elements, self.affine, self.affine)
        params = Params(weight=c if self.affine else 0, bias=c if self.affine else 0,
                        buffers=running_buffers(c) if self.track_running_stats else ())
        return Cost(self.kind, (shape,), shape, params=params, ops=ops)


@register
@dataclass(frozen=True)
class InstanceNorm1d(_InstanceNorm):
    spatial_axes = 1


@register
@dataclass(frozen=True)
class InstanceNorm2d(_InstanceNorm):
    spatial_axes = 2


@register
@dataclass(frozen=True)
class InstanceNorm3d(_InstanceNorm):
    spatial_axes = 3
