"""Reductions over some dimensions, as torch's ``x.sum / mean / var / amax / amin(dim, keepdim)``.

Dimensions count as in torch, batch included: ``Sum((2, 3))`` sums a
``(C, H, W)`` map over its height and width; ``dim=None`` reduces every
dimension of the sample (the batch is kept: torch's ``x.sum()`` would fold it
in too), leaving a scalar ``Shape()`` unless ``keepdim``. Per output, of the
``n`` values it reduces:

=====  ==========================================  =========================
kind   computed                                    per output
=====  ==========================================  =========================
Sum    x0 + x1 + ...                               n-1 adds
Mean   the sum / n                                 n-1 adds, 1 div
Var    two-pass: mean, d = x - mean, sum(d*d)      3n-2 adds, n muls, 2 divs
       / (n - correction)
Amax   max                                         n-1 cmp
Amin   min                                         n-1 cmp
Norm   sqrt(x0*x0 + x1*x1 + ...)                   n muls, n-1 adds, 1 sqrt
=====  ==========================================  =========================

Reducing the height or width of a ``(C, H, W)`` map is a window over the
whole map for the receptive field, as a global pool::

    >>> import symcost as sc
    >>> from symcost.symbols import C, H, W
    >>> c = sc.Var((2, 3), keepdim=True).cost(sc.Shape(C, H, W))
    >>> c.out_shape, c.ops.add, c.ops.mul, c.ops.div
    (Shape(C, 1, 1), C*(3*H*W - 2), C*H*W, 2*C)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.counts import OpCounts, RFStep
from ..core.errors import InvalidArgumentError
from ..core.shape import Shape
from .base import Layer
from .dims import dim_ints
from .registry import register


@dataclass(frozen=True)
class Reduction(Layer):
    """A reduction over the dimensions ``dim`` (an int, a tuple, or ``None`` for all of the sample's)."""

    dim: object = None
    keepdim: bool = False

    #: what the reduction does, for error messages ("sum over ...")
    verb: ClassVar[str] = "reduce"

    def __post_init__(self) -> None:
        self._check_dim()
        arg.boolean(self.keepdim, layer=self.label, argument="keepdim")

    def _check_dim(self) -> None:
        if self.dim is None:
            return
        dims = dim_ints(self.dim, layer=self.label, argument="dim")
        if not dims:
            raise InvalidArgumentError(self.label, "dim", "must name at least one dimension (or be None)", self.dim)
        if 0 in dims:
            raise InvalidArgumentError(self.label, "dim", f"must not {self.verb} over the batch dimension (0)",
                                       self.dim)
        object.__setattr__(self, "dim", dims)

    def per_output(self, n: sympy.Expr) -> OpCounts:
        """The operations of one output that reduces ``n`` values."""
        raise NotImplementedError

    def _axes(self, shape: Shape) -> list[int]:
        if self.dim is None:
            return list(range(shape.rank))
        rank = shape.rank + 1  # torch counts the batch dimension
        if any(not -rank < d < rank for d in self.dim):
            raise InvalidArgumentError(self.label, "dim", f"must select dimensions 1..{rank - 1} of {shape}",
                                       self.dim)
        axes = sorted({d % rank - 1 for d in self.dim})
        if len(axes) != len(self.dim) or -1 in axes:
            raise InvalidArgumentError(self.label, "dim", f"must name distinct dimensions 1..{rank - 1}", self.dim)
        return axes

    def _cost(self, shape: Shape) -> Cost:
        axes = self._axes(shape)
        reduced = sympy.Mul(*(shape.dims[i] for i in axes))
        kept = [d for i, d in enumerate(shape.dims) if i not in axes]
        outputs = sympy.Mul(*kept)
        out = Shape(*(1 if i in axes else d for i, d in enumerate(shape.dims))) if self.keepdim else Shape(*kept)
        rf = ()
        if shape.is_feature_map and {1, 2} & set(axes):
            one, zero = sympy.Integer(1), sympy.Integer(0)
            window = (shape.H if 1 in axes else one, shape.W if 2 in axes else one)
            rf = (RFStep(kernel=window, stride=window, padding=(zero, zero)),)
        return Cost(self.kind, (shape,), out, ops=self.per_output(reduced).scaled(outputs), rf=rf)


@register
@dataclass(frozen=True)
class Sum(Reduction):
    verb = "sum"

    def per_output(self, n: sympy.Expr) -> OpCounts:
        return OpCounts(add=n - 1)


@register
@dataclass(frozen=True)
class Var(Reduction):
    """The variance with ``correction`` (torch's default 1, Bessel's): the sum of squared deviations
    divided by ``n - correction``."""

    correction: object = 1
    verb = "take the variance"

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "correction",
                           arg.nonnegative_int(self.correction, layer=self.label, argument="correction"))

    def per_output(self, n: sympy.Expr) -> OpCounts:
        return OpCounts(add=3 * n - 2, mul=n, div=2)


@register
@dataclass(frozen=True)
class Norm(Reduction):
    """The Euclidean norm, ``torch.linalg.vector_norm(x, 2, dim)`` (``F.normalize`` divides by it): per output,
    ``n`` squares, ``n - 1`` adds and one square root."""

    verb = "take the norm"

    def per_output(self, n: sympy.Expr) -> OpCounts:
        return OpCounts(mul=n, add=n - 1, special=1)


@register
@dataclass(frozen=True)
class Amax(Reduction):
    verb = "take the maximum"

    def per_output(self, n: sympy.Expr) -> OpCounts:
        return OpCounts(cmp=n - 1)


@register
@dataclass(frozen=True)
class Amin(Reduction):
    verb = "take the minimum"

    def per_output(self, n: sympy.Expr) -> OpCounts:
        return OpCounts(cmp=n - 1)
