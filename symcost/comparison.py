"""Two costs side by side: both formulas, their ratio in lowest terms, where they break even.

:func:`comparison` returns an immutable :class:`Comparison` that displays
itself in Jupyter and renders to LaTeX and Markdown::

    >>> import symcost as sc
    >>> from symcost.symbols import C_in, C_out, K, W
    >>> sep = sc.SeparableConv2d(C_out, K, padding="same", bias=False)
    >>> std = sc.Conv2d(C_out, K, padding="same", bias=False)
    >>> c = sc.comparison(sep, std, "flops", sc.Shape(C_in, W, W), convention="macs", solve_for=C_out)
    >>> c.ratio, c.break_even
    (K**(-2) + 1/C_out, (K**2/(K**2 - 1),))
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from .compare import METRICS, break_even, metric_of, reduced
from .conventions import get_convention
from .cost import Cost
from .displayable import Displayable
from .errors import InvalidArgumentError
from .layers.base import Layer
from .shape import Shape


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
    (:func:`symcost.compare.break_even`); ``labels`` names the two sides
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
    return Comparison(first, second, reduced(first / second), metric, get_convention(convention).name,
                      tuple(labels), solve_for, crossings)
