"""Exact substitution of numbers into formulas, and evaluation to one exact number.

``substitute`` replaces symbols (given as symbols or by name) with ints or
expressions through ``xreplace``, so floors and piecewise rules evaluate to
exact Integers and Rationals, never floats::

    >>> from symcost.symbols import W, K
    >>> substitute(sympy.floor((W - K) / 2) + 1, W=224, K=3)
    111
"""

from __future__ import annotations

import sympy

from .arguments import to_expr
from .errors import InvalidArgumentError


def substitute(expr: object, values: dict | None = None, /, **by_name: object) -> sympy.Expr:
    """``expr`` with symbols replaced; keys are symbols or symbol names."""
    if isinstance(expr, int):
        return sympy.Integer(expr)
    if not isinstance(expr, sympy.Basic):
        return expr
    mapping = dict(values or {})
    mapping.update(by_name)
    if not mapping:
        return expr
    names = {s.name: s for s in expr.free_symbols}
    replace: dict[sympy.Basic, sympy.Expr] = {}
    for key, value in mapping.items():
        target = names.get(key) if isinstance(key, str) else key
        if target is None:
            continue
        replace[target] = to_expr(value, layer="substitute", argument=str(key))
    result = expr.xreplace(replace)
    if result.has(sympy.Sum):  # adaptive pools over symbolic sizes: sum once bound
        result = result.replace(lambda e: isinstance(e, sympy.Sum) and not e.free_symbols, lambda e: e.doit())
    return result


def evaluate(expr: object, values: dict | None = None, /, **by_name: object) -> sympy.Expr:
    """``expr`` with every symbol bound: an exact Integer or Rational, never a float.

        >>> from symcost.symbols import W, K
        >>> evaluate((W - K) / 2, W=224, K=3)
        221/2

    A symbol left without a value is an error that names it.
    """
    result = substitute(expr, values, **by_name)
    left = sorted(str(s) for s in getattr(result, "free_symbols", ()))
    if left:
        given = {str(k): v for k, v in {**(values or {}), **by_name}.items()}
        verb = "has" if len(left) == 1 else "have"
        raise InvalidArgumentError("evaluate", "values", f"must bind every symbol, but {', '.join(left)} {verb} none",
                                   given)
    return result
