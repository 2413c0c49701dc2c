"""Asymptotics and sensitivities of cost formulas, as SymPy objects.

    >>> from symcost.symbols import C, H, W
    >>> macs = 9 * C**2 * H * W + 1000 * C
    >>> leading_term(macs, H)
    9*C**2*H*W
    >>> big_o(macs, H)
    O(H, (H, oo))
    >>> elasticity(macs, H)
    9*C*H*W/(9*C*H*W + 1000)
    >>> limit(elasticity(macs, H), H)
    1

Floors are asymptotically harmless (``floor(x) = x + O(1)``), so
``leading_term`` and ``big_o`` drop them; ``elasticity`` differentiates and
needs a floor-free formula (``analyze(..., floor="divisible")``).
"""

from __future__ import annotations

import sympy

from ..core.arguments import to_expr
from ..core.errors import InvalidArgumentError


def _symbol(symbol: object, helper: str) -> sympy.Symbol:
    if not isinstance(symbol, sympy.Symbol):
        raise InvalidArgumentError(helper, "symbol", "must be a SymPy symbol", symbol)
    return symbol


def _floor_free(expr: sympy.Expr) -> sympy.Expr:
    return expr.replace(lambda e: isinstance(e, (sympy.floor, sympy.ceiling)), lambda e: e.args[0])


def limit(expr: sympy.Expr, symbol: sympy.Symbol, to: object = sympy.oo) -> sympy.Expr:
    """``lim expr`` as ``symbol -> to`` (default: infinity)."""
    return sympy.limit(expr, _symbol(symbol, "limit"), to)


def leading_term(expr: sympy.Expr, symbol: sympy.Symbol) -> sympy.Expr:
    """The term of ``expr`` that dominates as ``symbol`` grows, with its coefficient."""
    symbol = _symbol(symbol, "leading_term")
    numerator, denominator = sympy.fraction(sympy.cancel(_floor_free(to_expr(expr, layer="leading_term", argument="expr"))))
    if not (numerator.is_polynomial(symbol) and denominator.is_polynomial(symbol)):
        raise InvalidArgumentError("leading_term", "expr", f"must be a rational function of {symbol}", expr)
    top, bottom = sympy.Poly(numerator, symbol), sympy.Poly(denominator, symbol)
    return sympy.cancel(top.LC() / bottom.LC()) * symbol ** (top.degree() - bottom.degree())


def big_o(expr: sympy.Expr, symbol: sympy.Symbol) -> sympy.Order:
    """The growth class of ``expr`` as ``symbol -> oo``, e.g. ``O(H**2)``."""
    _, power = leading_term(expr, symbol).as_coeff_exponent(symbol)
    return sympy.Order(symbol**power, (symbol, sympy.oo))


def elasticity(expr: sympy.Expr, symbol: sympy.Symbol) -> sympy.Expr:
    """``d log(expr) / d log(symbol)``: the % change of the cost per 1 % change of ``symbol``.

    A cost ``c*H*W`` has elasticity 1 in ``H``; on a square input ``c*H**2``, 2.
    """
    symbol = _symbol(symbol, "elasticity")
    expr = to_expr(expr, layer="elasticity", argument="expr")
    if expr.is_zero:
        raise InvalidArgumentError("elasticity", "expr", "must not be zero (its logarithm is undefined)", expr)
    if expr.has(sympy.floor, sympy.ceiling, sympy.Piecewise):
        raise InvalidArgumentError("elasticity", "expr", "must be free of floors to differentiate; "
                                   "analyze with floor='divisible'", expr)
    return sympy.cancel(symbol * sympy.diff(expr, symbol) / expr)
