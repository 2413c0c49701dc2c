"""AdaptiveAvgPool2d and AdaptiveMaxPool2d, as torch.nn.

Output bin ``i`` of ``O`` over an input of length ``I`` spans
``[floor(i*I/O), ceil((i+1)*I/O))``. Along one axis the bins cover
``T = sum_i (ceil((i+1)*I/O) - floor(i*I/O))`` input positions (``T = I``
when ``O`` divides ``I``); a window's ops are those of a pool over its
size, so per channel: max ``T_h*T_w - O_h*O_w`` comparisons, average as many
adds plus ``O_h*O_w`` divisions::

    >>> import symcost as sc
    >>> from symcost.symbols import C, H, W
    >>> sc.AdaptiveAvgPool2d(1).cost(sc.Shape(C, H, W)).flops()
    C*H*W
"""

from __future__ import annotations

from dataclasses import dataclass

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
class _AdaptivePool2d(Layer):
    output_size: object

    def __post_init__(self) -> None:
        value = self.output_size
        if isinstance(value, (tuple, list)) and len(value) == 2:
            sizes = tuple(
                None if v is None else arg.positive_int(v, layer=self.label, argument="output_size") for v in value
            )
        else:
            sizes = arg.pair(value, arg.positive_int, layer=self.label, argument="output_size")
        object.__setattr__(self, "output_size", sizes)

    def _cost(self, shape: Shape) -> Cost:
        c, h, w = self._feature_map(shape)
        out = tuple(size if o is None else o for size, o in zip((h, w), self.output_size))
        covered = bin_coverage(h, out[0]) * bin_coverage(w, out[1])
        outputs = out[0] * out[1]
        return Cost(
            kind=self.kind,
            in_shapes=(shape,),
            out_shape=Shape(c, *out),
            ops=self.pool_ops(c * (covered - outputs), c * outputs),
            rf=(RFStep(
                kernel=(widest_bin(h, out[0]), widest_bin(w, out[1])),
                stride=(h / out[0], w / out[1]),
                padding=(sympy.Integer(0), sympy.Integer(0)),
            ),),
        )

    def pool_ops(self, reductions: sympy.Expr, outputs: sympy.Expr) -> OpCounts:
        raise NotImplementedError


@register
@dataclass(frozen=True)
class AdaptiveAvgPool2d(_AdaptivePool2d):
    def pool_ops(self, reductions: sympy.Expr, outputs: sympy.Expr) -> OpCounts:
        return OpCounts(add=reductions, div=outputs)


@register
@dataclass(frozen=True)
class AdaptiveMaxPool2d(_AdaptivePool2d):
    def pool_ops(self, reductions: sympy.Expr, outputs: sympy.Expr) -> OpCounts:
        return OpCounts(cmp=reductions)
