"""Einsum: torch.einsum for any equation, read by a small parser of its own.

The equation holds letters (``a``-``z``, ``A``-``Z``), commas between the
operands, at most one ``->`` and at most one ``...`` per term (spaces are
ignored). Without ``->`` the output is the ellipsis entries, then the letters
seen once, in alphabetical order (upper case first), as torch does. A letter
repeated in one operand takes its diagonal; an entry of size 1 broadcasts.

Counts, as a naive kernel executes them: per output element with ``T``
combinations of the contracted indices and ``k`` operands, ``T*(k - 1)``
multiplies (labelled ``macs``) and ``T - 1`` adds::

    >>> import symcost as sc
    >>> from symcost.symbols import symbol
    >>> b, i, j, k = (symbol(n) for n in "bijk")
    >>> cost = sc.Einsum("bij,bjk->bik").cost(sc.Shape(b, i, j), sc.Shape(b, j, k))
    >>> cost.out_shape, cost.macs
    (Shape(b, i, k), b*i*j*k)
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..core.cost import Cost
from ..core.counts import OpCounts
from ..core.errors import ArgumentTypeError, InvalidArgumentError, ShapeError
from ..core.shape import MAX_RANK, Shape
from .base import Layer
from .matmul import same_size
from .registry import register

#: Longest equation read.
MAX_EQUATION = 256
#: Most operands of one equation.
MAX_OPERANDS = 64
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


@dataclass(frozen=True)
class Term:
    """One operand's (or the output's) subscripts: letters before and after an optional ``...``."""

    head: str
    ellipsis: bool = False
    tail: str = ""

    @property
    def letters(self) -> str:
        return self.head + self.tail


def _term(text: str, fail) -> Term:
    head, dots, tail = text.partition("...")
    if "." in head or "." in tail:
        raise fail("'.' may only appear as one '...' per term" if "..." in tail else "'.' only appears as '...'")
    for part in (head, tail):
        bad = next((ch for ch in part if ch not in _LETTERS), None)
        if bad is not None:
            raise fail(f"subscripts are letters a-z, A-Z, got {bad!r}")
    return Term(head, bool(dots), tail)


def parse_equation(equation: object, *, layer: str = "Einsum") -> tuple[tuple[Term, ...], Term | None]:
    """The operand terms and the output term (``None`` without ``->``) of ``equation``, checked."""
    if not isinstance(equation, str):
        raise ArgumentTypeError(f"{layer}: equation must be text such as 'ij,jk->ik', got {type(equation).__name__}")
    shown = equation if len(equation) <= 60 else equation[:57] + "..."

    def fail(rule: str) -> InvalidArgumentError:
        return InvalidArgumentError(layer, "equation", rule, shown)

    if len(equation) > MAX_EQUATION:
        raise fail(f"must be at most {MAX_EQUATION} characters long")
    eq = equation.replace(" ", "")
    if not eq:
        raise fail("must name at least one operand")
    if eq.count("->") > 1:
        raise fail("may hold at most one '->'")
    lhs, arrow, rhs = eq.partition("->")
    if "-" in lhs or ">" in lhs or "-" in rhs or ">" in rhs:
        raise fail("'-' and '>' only appear together as one '->'")
    if "," in rhs:
        raise fail("the output after '->' is one term (no ',')")
    texts = lhs.split(",")
    if len(texts) > MAX_OPERANDS:
        raise fail(f"may name at most {MAX_OPERANDS} operands")
    terms = tuple(_term(t, fail) for t in texts)
    for t in terms:
        if len(t.letters) > MAX_RANK:
            raise fail(f"an operand has at most {MAX_RANK} subscripts")
    if not arrow:
        return terms, None
    out = _term(rhs, fail)
    seen = set("".join(t.letters for t in terms))
    for ch in out.letters:
        if ch not in seen:
            raise fail(f"output subscript {ch!r} appears in no operand")
    if len(set(out.letters)) != len(out.letters):
        raise fail("output subscripts must not repeat")
    return terms, out


def einsum_cost(label: str, terms: tuple[Term, ...], out: Term | None,
                shapes: tuple[Shape, ...]) -> tuple[Shape, sympy.Expr, sympy.Expr]:
    """The output shape, the output elements and the contracted combinations per output element."""
    if len(shapes) != len(terms):
        raise ShapeError(f"{label}: the equation names {len(terms)} operand(s), got {len(shapes)} input shape(s)")
    n_ell = 0
    for i, (t, s) in enumerate(zip(terms, shapes)):
        fixed = len(t.letters)
        if (s.rank < fixed) if t.ellipsis else (s.rank != fixed):
            need = f"at least {fixed}" if t.ellipsis else str(fixed)
            raise ShapeError(f"{label}: operand {i} has {s.rank} entries {s}, its subscripts need {need}")
        if t.ellipsis:
            n_ell = max(n_ell, s.rank - fixed)
    ell = [("...", i) for i in range(n_ell)]
    sizes: dict[object, sympy.Expr] = {}
    for i, (t, s) in enumerate(zip(terms, shapes)):
        e = s.rank - len(t.letters)
        labels = [*t.head, *(ell[n_ell - e:] if t.ellipsis else ()), *t.tail]
        for lab, n in zip(labels, s.dims):
            have = sizes.get(lab)
            if have is None or have == 1:
                sizes[lab] = n
            elif n != 1:
                name = "an ellipsis entry" if isinstance(lab, tuple) else f"subscript {lab!r}"
                sizes[lab] = same_size(label, f"the sizes of {name} (operand {i})", have, n)
    if out is None:
        once = sorted(ch for ch in set("".join(t.letters for t in terms))
                      if sum(t.letters.count(ch) for t in terms) == 1)
        out_labels: list = [*ell, *once]
    else:
        out_labels = [*out.head, *(ell if out.ellipsis else ()), *out.tail]
    contracted = [lab for lab in sizes if lab not in out_labels]
    out_shape = Shape(*(sizes[lab] for lab in out_labels))
    return out_shape, out_shape.numel, sympy.Mul(*(sizes[lab] for lab in contracted))


@register
@dataclass(frozen=True)
class Einsum(Layer):
    """torch.einsum(equation, *operands): the operands are the inputs, in order."""

    equation: str

    def __post_init__(self) -> None:
        parse_equation(self.equation, layer=self.label)

    @property
    def arity(self) -> tuple[int, ...]:  # type: ignore[override]
        return (len(parse_equation(self.equation, layer=self.label)[0]),)

    def _cost(self, *shapes: Shape) -> Cost:
        terms, out = parse_equation(self.equation, layer=self.label)
        out_shape, outputs, combos = einsum_cost(self.label, terms, out, shapes)
        macs = outputs * combos * (len(terms) - 1)
        return Cost(self.kind, shapes, out_shape, ops=OpCounts(mul=macs, add=outputs * (combos - 1), macs=macs))
