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

#: Most digits of any number a substitution may produce (Python prints ints of at most 4,300 digits).
MAX_DIGITS = 4_000
#: Most terms of a sum (an adaptive pool over a symbolic size) evaluated once its bounds are numbers.
MAX_SUM_TERMS = 100_000
_MAX_BITS = int(MAX_DIGITS * 3.3219280948873626)  # log2(10)


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
        result = result.replace(lambda e: isinstance(e, sympy.Sum) and not e.free_symbols, bounded_sum)
    return _bounded_size(result, mapping)


def bounded_sum(total: sympy.Sum) -> sympy.Expr:
    """``total.doit()``, refused past :data:`MAX_SUM_TERMS` terms."""
    terms = sympy.Integer(1)
    for _, low, high in total.limits:
        terms *= high - low + 1
    if terms > MAX_SUM_TERMS:
        raise InvalidArgumentError("substitute", "values", f"make a sum of {terms} terms (an adaptive pool's bins "
                                   f"over a symbolic size); at most {MAX_SUM_TERMS:,} are evaluated, so analyze "
                                   "on the numbers directly", total)
    return total.doit()


def _bounded_size(result: sympy.Expr, mapping: dict) -> sympy.Expr:
    """Refuse a number of more than ``MAX_DIGITS`` digits: it could not be printed, and costs nothing real."""
    if isinstance(result, sympy.Rational):
        numbers = (result,)
    elif isinstance(result, sympy.Basic) and not result.free_symbols:
        numbers = result.atoms(sympy.Rational)
    else:
        return result  # still a formula: its numbers come from bounded expressions
    for number in numbers:
        if max(abs(number.p).bit_length(), number.q.bit_length()) > _MAX_BITS:
            given = ", ".join(f"{k}={v}" for k, v in mapping.items())[:120]
            raise InvalidArgumentError("substitute", "values", f"make a number of more than {MAX_DIGITS:,} digits; "
                                       "use smaller sizes", given)
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
