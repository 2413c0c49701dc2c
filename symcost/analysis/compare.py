"""Comparing two costs symbolically: their ratio in lowest terms, where they break even, and
:class:`Comparison`, both formulas side by side, which displays itself and renders to LaTeX and Markdown.

    >>> import symcost as sc
    >>> from symcost.symbols import C_in, C_out, K, W
    >>> sep = sc.SeparableConv2d(C_out, K, padding="same", bias=False)
    >>> std = sc.Conv2d(C_out, K, padding="same", bias=False)
    >>> sc.ratio(sep, std, "flops", sc.Shape(C_in, W, W), convention="macs")
    K**(-2) + 1/C_out
    >>> c = sc.comparison(sep, std, "flops", sc.Shape(C_in, W, W), convention="macs", solve_for=C_out)
    >>> c.ratio, c.break_even
    (K**(-2) + 1/C_out, (K**2/(K**2 - 1),))
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..core.conventions import get_convention
from ..core.cost import Cost
from ..core.display_hook import Displayable
from ..core.errors import InvalidArgumentError
from ..layers.base import Layer
from ..networks.report import Report
from ..core.shape import Shape

METRICS = ("params", "buffers", "macs", "flops", "activations")


def metric_of(subject: object, metric: str, shape: Shape | None = None, convention: object = "exact") -> sympy.Expr:
    """One metric of a layer (costed on ``shape``), a Cost, a Report's totals, or an expression as is."""
    if isinstance(subject, sympy.Expr):
        return subject
    if isinstance(subject, int) and not isinstance(subject, bool):
        return sympy.Integer(subject)
    if isinstance(subject, Layer):
        if shape is None:
            raise InvalidArgumentError("ratio", "shape", "is needed to cost a layer", None)
        subject = subject.cost(shape)
    if metric not in METRICS:
        raise InvalidArgumentError("ratio", "metric", f"must be one of {', '.join(METRICS)}", metric)
    if isinstance(subject, Report):
        total = subject.total
        return total.flops(convention) if metric == "flops" else getattr(total, metric)
    if not isinstance(subject, Cost):
        raise InvalidArgumentError("ratio", "a/b", "must be a layer, a Cost, a Report or a SymPy expression", subject)
    if metric == "flops":
        return subject.flops(convention)
    if metric == "params":
        return subject.params.total
    if metric == "buffers":
        return subject.params.buffer_total
    return getattr(subject, metric)


def reduced(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` in lowest terms: the shorter of its cancelled and expanded forms."""
    cancelled = sympy.cancel(expr)
    expanded = sympy.expand(cancelled)
    return expanded if sympy.count_ops(expanded) <= sympy.count_ops(cancelled) else cancelled


def ratio(a: object, b: object, metric: str = "flops", shape: Shape | None = None,
          *, convention: object = "exact") -> sympy.Expr:
    """``metric(a) / metric(b)`` in lowest terms; layers are costed on ``shape``.

    A ``b`` whose metric is 0 (a ReLU's parameters) has no ratio, and is refused.
    """
    return _divided(metric_of(a, metric, shape, convention), metric_of(b, metric, shape, convention), metric)


def _divided(first: sympy.Expr, second: sympy.Expr, metric: str) -> sympy.Expr:
    if second.is_zero:
        raise InvalidArgumentError("ratio", "b", f"must have a nonzero {metric}: A/B is undefined", second)
    return reduced(first / second)


#: Highest degree (in the solved symbol) of a cost difference ``break_even`` solves: general closed forms
#: stop at 4, and SymPy's attempts beyond can take minutes.
MAX_SOLVE_DEGREE = 4


def break_even(a: object, b: object, symbol: sympy.Symbol, metric: str = "flops", shape: Shape | None = None,
               *, convention: object = "exact") -> tuple[sympy.Expr, ...]:
    """The positive values of ``symbol`` where ``a`` and ``b`` cost the same, solved symbolically.

    ``symbol`` is treated as a positive real, so a crossing between two
    integers is found too (separable vs standard conv, both with bias)::

        >>> import symcost as sc
        >>> from symcost.symbols import C_in, C_out, K, W
        >>> sep = sc.SeparableConv2d(C_out, K, padding="same")
        >>> std = sc.Conv2d(C_out, K, padding="same")
        >>> break_even(sep, std, C_out, "flops", sc.Shape(C_in, W, W))
        (K**2/(K**2 - 1),)
    """
    if not isinstance(symbol, sympy.Symbol):
        raise InvalidArgumentError("break_even", "symbol", "must be a SymPy symbol", symbol)
    difference = metric_of(a, metric, shape, convention) - metric_of(b, metric, shape, convention)
    if difference.has(sympy.floor, sympy.ceiling, sympy.Piecewise):
        raise InvalidArgumentError("break_even", "a/b", "must be free of floors to solve; analyze with "
                                   "floor='divisible' or bind the sizes first", difference)
    x = sympy.Dummy(symbol.name, positive=True)
    numerator, _ = sympy.fraction(sympy.cancel(difference.xreplace({symbol: x})))
    if numerator == 0:
        raise InvalidArgumentError("break_even", "a/b", f"cost the same for every {symbol}: no break-even", 0)
    if not numerator.is_polynomial(x):
        raise InvalidArgumentError("break_even", "a/b", f"cost difference is not a polynomial in {symbol}", difference)
    degree = sympy.degree(numerator, x)
    if degree > MAX_SOLVE_DEGREE:
        raise InvalidArgumentError("break_even", "a/b", f"cost difference has degree {degree} in {symbol}; break-even "
                                   f"points are solved in closed form up to degree {MAX_SOLVE_DEGREE}", f"degree {degree}")
    try:
        solutions = sympy.solve(numerator, x)
    except NotImplementedError:
        raise InvalidArgumentError("break_even", "a/b", f"cost difference has no closed-form root in {symbol}",
                                   difference) from None
    return tuple(reduced(s) for s in solutions)

@dataclass(frozen=True)
class Comparison(Displayable):
    """``metric`` of ``a`` and of ``b``, ``ratio = a/b`` in lowest terms, and optionally
    the positive values of ``symbol`` where both cost the same (``break_even``)."""

    a: sympy.Expr
    b: sympy.Expr
    ratio: sympy.Expr
    metric: str = "flops"
    convention: str = "exact"
    labels: tuple[str, str] = ("a", "b")
    symbol: sympy.Symbol | None = None
    break_even: tuple[sympy.Expr, ...] = ()


def _label(subject: object, default: str) -> str:
    if isinstance(subject, Layer):
        return subject.label
    if isinstance(subject, Cost):
        return subject.kind
    return default


def comparison(a: object, b: object, metric: str = "flops", shape: Shape | None = None, *,
               convention: object = "exact", solve_for: sympy.Symbol | None = None,
               labels: tuple[str, str] | None = None) -> Comparison:
    """Compare ``metric`` of ``a`` and ``b`` (layers costed on ``shape``, costs, or expressions).

    ``solve_for`` asks for the break-even values of that symbol
    (:func:`break_even`); ``labels`` names the two sides
    (default: the layers' labels).
    """
    if metric not in METRICS:
        raise InvalidArgumentError("comparison", "metric", f"must be one of {', '.join(METRICS)}", metric)
    first = metric_of(a, metric, shape, convention)
    second = metric_of(b, metric, shape, convention)
    crossings: tuple[sympy.Expr, ...] = ()
    if solve_for is not None:
        crossings = break_even(first, second, solve_for, metric, shape, convention=convention)
    if labels is None:
        labels = (_label(a, "a"), _label(b, "b"))
    elif len(labels) != 2 or not all(isinstance(x, str) for x in labels):
        raise InvalidArgumentError("comparison", "labels", "must be two strings", labels)
    return Comparison(first, second, _divided(first, second, metric), metric, get_convention(convention).name,
                      tuple(labels), solve_for, crossings)
