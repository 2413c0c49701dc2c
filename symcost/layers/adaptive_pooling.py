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
    >>> sc.AdaptiveMaxPool1d(2).cost(sc.Shape(4, 5)).ops.cmp  # bins [0, 3) and [2, 5): 2 + 2 per channel
    16
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
    if size.is_Integer and bins.is_Integer:  # window i reads ceil((r_i + I)/O) positions, r_i = i*I mod O: I + O - gcd
        return size + bins - sympy.igcd(size, bins)
    if bins.is_Integer and bins <= _EXPLICIT_BINS:
        terms = [sympy.ceiling((i + 1) * size / bins) - sympy.floor(i * size / bins) for i in range(int(bins))]
        return sympy.Add(*terms)
    i = sympy.Dummy("i", integer=True, nonnegative=True)
    return sympy.Sum(sympy.ceiling((i + 1) * size / bins) - sympy.floor(i * size / bins), (i, 0, bins - 1))


def widest_bin(size: sympy.Expr, bins: sympy.Expr) -> sympy.Expr:
    """The longest window, exactly: with ``I = q*O + r``, ``q`` if ``r = 0``, ``q + 1`` if ``r`` divides ``O``, else ``q + 2``.

    Bin ``i`` has length ``q + ceil((a + r)/O)`` with ``a = i*r mod O``, and ``a``
    reaches ``O - gcd(r, O)``; so a bin of ``q + 2`` exists exactly when
    ``gcd(r, O) < r``. For symbols the rule stays a ``Piecewise`` that numbers decide::

        >>> widest_bin(sympy.Integer(9), sympy.Integer(7)), widest_bin(sympy.Integer(8), sympy.Integer(6))
        (3, 2)
    """
    if size.is_Integer and bins.is_Integer:  # the largest i*I mod O is O - gcd(I, O): no loop over 10**18 bins
        return sympy.ceiling((size + bins - sympy.igcd(size, bins)) / bins)
    rest = sympy.Mod(size, bins)
    if rest == 0:
        return size / bins
    # r = 0 or r | O: no bin longer than ceil(I/O); Max(r, 1) keeps the Mod defined when r = 0
    extra = sympy.Piecewise((0, sympy.Eq(sympy.Mod(bins, sympy.Max(rest, 1)), 0)), (1, True))
    return sympy.ceiling(size / bins) + extra


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
