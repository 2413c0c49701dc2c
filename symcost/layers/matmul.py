"""Matrix products: MatMul (torch.matmul), Bmm, Baddbmm and Addmm.

Shapes are per sample and each product acts on them as torch does on those
tensors: ``MatMul`` follows every rule of torch.matmul (a 1-D operand is
promoted to a matrix and its entry removed again, batch entries broadcast).
Per output element an inner size ``n`` costs ``n`` multiplies (all labelled
``macs``) and ``n - 1`` adds::

    >>> import symcost as sc
    >>> from symcost.symbols import symbol
    >>> L, d = symbol("L"), symbol("d")
    >>> cost = sc.MatMul().cost(sc.Shape(L, d), sc.Shape(d, L))
    >>> cost.out_shape, cost.macs, cost.flops()
    (Shape(L, L), L**2*d, L**2*(2*d - 1))

``Baddbmm`` and ``Addmm`` compute ``beta*input + alpha*(a @ b)``: per output a
multiply by ``alpha`` unless it is 1, and, unless ``beta`` is 0 (torch then
ignores the input), a multiply by ``beta`` unless it is 1 and one add.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy

from ..core import arguments as arg
from ..core.cost import Cost
from ..core.counts import OpCounts
from ..core.errors import ArgumentTypeError, ShapeError
from ..core.shape import Shape
from .base import Layer
from .elementwise import broadcast
from .registry import register


def coefficient(value: object, *, layer: str, argument: str) -> object:
    """A number (int, float, Fraction or SymPy number): only whether it is 0 or 1 enters the counts."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction, sympy.Expr)):
        raise ArgumentTypeError(f"{layer}: {argument} must be a number, got {type(value).__name__} {value!r}")
    if isinstance(value, sympy.Expr) and not value.is_number:
        raise ArgumentTypeError(f"{layer}: {argument} must be a number (whether it is 0 or 1 sets the count), "
                                f"got the expression {value}")
    if isinstance(value, float) and value != value:
        raise ArgumentTypeError(f"{layer}: {argument} must be a number, got nan")
    return value


def same_size(label: str, what: str, a: sympy.Expr, b: sympy.Expr) -> sympy.Expr:
    """``a`` when ``a`` and ``b`` may be equal; a ShapeError when they provably differ."""
    if a != b and arg.refuted(sympy.Eq(a, b)):
        raise ShapeError(f"{label}: {what} differ ({a} vs {b})")
    return a


def batch_broadcast(label: str, a: Shape, b: Shape, a_full: Shape, b_full: Shape) -> Shape:
    """The broadcast of the batch entries ``a`` and ``b`` (of the operands ``a_full`` and ``b_full``)."""
    try:
        return broadcast(label, (a, b))
    except ShapeError:
        raise ShapeError(f"{label}: the batch entries {a} of {a_full} and {b} of {b_full} do not broadcast") from None


def matmul_shape(label: str, a: Shape, b: Shape) -> tuple[Shape, sympy.Expr]:
    """torch.matmul's output shape and inner size for operands ``a`` and ``b``."""
    if a.rank == 0 or b.rank == 0:
        raise ShapeError(f"{label}: both operands need at least one entry, got {a} and {b}")
    inner_a = a.dims[-1]
    inner_b = b.dims[0] if b.rank == 1 else b.dims[-2]
    inner = same_size(label, f"the inner sizes of {a} @ {b}", inner_a, inner_b)
    rows = a.dims[-2:-1]  # () for a 1-D operand
    cols = b.dims[-1:] if b.rank > 1 else ()
    batch = batch_broadcast(label, Shape(*a.dims[:-2]), Shape(*b.dims[:-2]), a, b)
    return Shape(*batch.dims, *rows, *cols), inner


def bmm_shape(label: str, a: Shape, b: Shape) -> tuple[Shape, sympy.Expr]:
    """torch.bmm's output shape and inner size: ``(B, n, k) @ (B, k, p) -> (B, n, p)``, no broadcasting."""
    if a.rank != 3 or b.rank != 3:
        raise ShapeError(f"{label}: takes two 3-D operands (B, n, k) and (B, k, p), got {a} and {b}")
    same_size(label, f"the batch sizes of {a} and {b}", a.dims[0], b.dims[0])
    inner = same_size(label, f"the inner sizes of {a} @ {b}", a.dims[2], b.dims[1])
    return Shape(a.dims[0], a.dims[1], b.dims[2]), inner


def product_ops(out: Shape, inner: sympy.Expr) -> OpCounts:
    macs = out.numel * inner
    return OpCounts(mul=macs, add=macs - out.numel, macs=macs)


def scaled_sum_ops(label: str, inp: Shape, out: Shape, beta: object, alpha: object) -> OpCounts:
    """``beta*input + alpha*product`` per output element, ``input`` broadcast to ``out``."""
    try:
        fits = broadcast(label, (inp, out)) == out
    except ShapeError:
        fits = False
    if not fits:
        raise ShapeError(f"{label}: input {inp} does not broadcast to the product's shape {out}")
    n = out.numel
    mul = (0 if alpha == 1 else n) + (0 if beta in (0, 1) else n)
    return OpCounts(mul=mul, add=0 if beta == 0 else n)


@register
@dataclass(frozen=True)
class MatMul(Layer):
    """torch.matmul (``a @ b``) of two inputs, with all its broadcasting rules."""

    arity = 2

    def _cost(self, a: Shape, b: Shape) -> Cost:
        out, inner = matmul_shape(self.label, a, b)
        return Cost(self.kind, (a, b), out, ops=product_ops(out, inner))


@register
@dataclass(frozen=True)
class Bmm(Layer):
    """torch.bmm: ``(B, n, k) @ (B, k, p) -> (B, n, p)``, no broadcasting."""

    arity = 2

    def _cost(self, a: Shape, b: Shape) -> Cost:
        out, inner = bmm_shape(self.label, a, b)
        return Cost(self.kind, (a, b), out, ops=product_ops(out, inner))


@dataclass(frozen=True)
class _AddProduct(Layer):
    beta: object = 1
    alpha: object = 1

    arity = 3

    def __post_init__(self) -> None:
        coefficient(self.beta, layer=self.label, argument="beta")
        coefficient(self.alpha, layer=self.label, argument="alpha")

    def _product(self, a: Shape, b: Shape) -> tuple[Shape, sympy.Expr]:
        raise NotImplementedError

    def _cost(self, inp: Shape, a: Shape, b: Shape) -> Cost:
        out, inner = self._product(a, b)
        ops = product_ops(out, inner) + scaled_sum_ops(self.label, inp, out, self.beta, self.alpha)
        return Cost(self.kind, (inp, a, b), out, ops=ops)


@register
@dataclass(frozen=True)
class Baddbmm(_AddProduct):
    """torch.baddbmm(input, batch1, batch2, beta=, alpha=): ``beta*input + alpha*(batch1 @ batch2)``."""

    def _product(self, a: Shape, b: Shape) -> tuple[Shape, sympy.Expr]:
        return bmm_shape(self.label, a, b)


@register
@dataclass(frozen=True)
class Addmm(_AddProduct):
    """torch.addmm(input, mat1, mat2, beta=, alpha=): ``beta*input + alpha*(mat1 @ mat2)`` on matrices."""

    def _product(self, a: Shape, b: Shape) -> tuple[Shape, sympy.Expr]:
        if a.rank != 2 or b.rank != 2:
            raise ShapeError(f"{self.label}: mat1 and mat2 must be 2-D matrices, got {a} and {b}")
        return matmul_shape(self.label, a, b)
