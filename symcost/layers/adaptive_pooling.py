"""AdaptiveAvgPool1d/2d/3d and AdaptiveMaxPool1d/2d/3d, as torch.nn.

Output bin ``i`` of ``O`` over an input of length ``I`` spans
``[floor(i*I/O), ceil((i+1)*I/O))``. Along one axis the bins cover
``T = sum_i (ceil((i+1)*I/O) - floor(i*I/O))`` input positions (``T = I``
when ``O`` divides ``I``); a window's ops are those of a pool over its
size, so per channel: max ``prod(T) - prod(O)`` comparisons (``T_h*T_w -
O_h*O_w`` in 2-D), average as many adds plus ``prod(O)`` divisions::

    >>> import symcost as sc
    >>> from symcost.symbols import C, H, W
    >>> sc.AdaptiveAvgPool2d(1).cost(sc.Shape(C, H, W)).flops()
    C*H*W
    >>> sc.AdaptiveMaxPool1d(2).cost(sc.Shape(4, 5)).ops.cmp
    12
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.counts import OpCounts, RFStep
from .registry import register
from ..core.shape import Shape
from .base import Layer

#: Up to this many bins, a symbolic input's coverage is written out term by term.
_EXPLICIT_BINS = 64


def bin_coverage(size: sympy.Expr, bins: sympy.Expr) -> sympy.Expr:
    """Input positions read along one axis, summed over the ``bins`` windows."""
    if bins == 1 or size == bins:
        return size
    if size.is_Integer and bins.is_Integer:  # closed form: the bins overlap by gcd-spaced steps
        return size + bins - sympy.igcd(size, bins)
    if bins.is_Integer and bins <= _EXPLICIT_BINS:
        terms = [sympy.ceiling((i + 1) * size / bins) - sympy.floor(i * size / bins) for i in range(int(bins))]
        return sympy.Add(*terms)
    i = sympy.Dummy("i", integer=True, nonnegative=True)
    return sympy.Sum(sympy.ceiling((i + 1) * size / bins) - sympy.floor(i * size / bins), (i, 0, bins - 1))


def widest_bin(size: sympy.Expr, bins: sympy.Expr) -> sympy.Expr:
    """The longest window: exact for numbers, ``ceil(I/O)`` (exact when O divides I) otherwise."""
    if size.is_Integer and bins.is_Integer:
        # a bin is ceil(I/O) long, or one more when some bin starts at a fraction past 1 - frac(I/O):
        # the starts' fractions reach (O - gcd)/O, so that happens exactly when I mod O > gcd(I, O)
        longer = size % bins > sympy.igcd(size, bins)
        return sympy.ceiling(size / bins) + (1 if longer else 0)
    return sympy.ceiling(size / bins)


@dataclass(frozen=True)
class _AdaptivePoolNd(Layer):
    """Shared bins; ``nd`` is the number of spatial axes, each subclass says what the bins cost."""

    output_size: object

    nd: ClassVar[int] = 2

    def __post_init__(self) -> None:
        value, label = self.output_size, self.label
        if isinstance(value, (tuple, list)) and len(value) == self.nd > 1:  # None keeps that axis's input size
            sizes = tuple(None if v is None else arg.positive_int(v, layer=label, argument="output_size")
                          for v in value)
        else:
            sizes = arg.ntuple(value, self.nd, arg.positive_int, layer=label, argument="output_size")
        object.__setattr__(self, "output_size", sizes)

    def _cost(self, shape: Shape) -> Cost:
        c, *spatial = self._spatial_map(shape, self.nd)
        out = tuple(size if o is None else o for size, o in zip(spatial, self.output_size))
        covered = sympy.Mul(*(bin_coverage(n, o) for n, o in zip(spatial, out)))
        outputs = sympy.Mul(*out)
        return Cost(
            kind=self.kind,
            in_shapes=(shape,),
            out_shape=Shape(c, *out),
            ops=self.pool_ops(c * (covered - outputs), c * outputs),
            rf=(RFStep(
                kernel=tuple(widest_bin(n, o) for n, o in zip(spatial, out)),
                stride=tuple(n / o for n, o in zip(spatial, out)),
                padding=(sympy.Integer(0),) * self.nd,
            ),),
        )

    def pool_ops(self, reductions: sympy.Expr, outputs: sympy.Expr) -> OpCounts:
        raise NotImplementedError


@dataclass(frozen=True)
class _AdaptiveAvgPoolNd(_AdaptivePoolNd):
    def pool_ops(self, reductions: sympy.Expr, outputs: sympy.Expr) -> OpCounts:
        return OpCounts(add=reductions, div=outputs)


@dataclass(frozen=True)
class _AdaptiveMaxPoolNd(_AdaptivePoolNd):
    def pool_ops(self, reductions: sympy.Expr, outputs: sympy.Expr) -> OpCounts:
        return OpCounts(cmp=reductions)


@register
@dataclass(frozen=True)
class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """torch.nn.AdaptiveAvgPool1d on a (C, L) map."""

    nd = 1


@register
@dataclass(frozen=True)
class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """torch.nn.AdaptiveAvgPool2d on a (C, H, W) map."""

    nd = 2


@register
@dataclass(frozen=True)
class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """torch.nn.AdaptiveAvgPool3d on a (C, T, H, W) map."""

    nd = 3


@register
@dataclass(frozen=True)
class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """torch.nn.AdaptiveMaxPool1d on a (C, L) map."""

    nd = 1


@register
@dataclass(frozen=True)
class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """torch.nn.AdaptiveMaxPool2d on a (C, H, W) map."""

    nd = 2


@register
@dataclass(frozen=True)
class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """torch.nn.AdaptiveMaxPool3d on a (C, T, H, W) map."""

    nd = 3
