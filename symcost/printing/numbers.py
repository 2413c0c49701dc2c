"""Numbers for people: thousands separators, K/M/G units, exact values as text.

Formulas stay exact everywhere else; this is the one place that shortens a
number, and only when a person asks for it::

    >>> import sympy
    >>> thousands(sympy.Integer(4089184256))
    '4,089,184,256'
    >>> with_units(sympy.Integer(4089184256))
    '4.09G'
    >>> with_units(sympy.Integer(999))
    '999'
    >>> exact_value(sympy.Rational(6, 4)), exact_value(sympy.Integer(7)), exact_value(sympy.Symbol("H"))
    ('3/2', 7, None)
    >>> C_out, K = sympy.symbols("C_out K")
    >>> formula(1 / C_out + 1 / K**2)
    '1/C_out + 1/K**2'
"""

from __future__ import annotations

import sympy

from ..core.canonical import text as canonical_text

#: Decimal prefixes for ``with_units``, largest first.
UNITS = (("T", 10**12), ("G", 10**9), ("M", 10**6), ("K", 10**3))


def exact_value(expr: object) -> int | str | None:
    """An int, a reduced fraction ``"p/q"``, or ``None`` while symbols remain."""
    if isinstance(expr, int) and not isinstance(expr, bool):
        return expr
    if isinstance(expr, sympy.Integer):
        return int(expr)
    if isinstance(expr, sympy.Rational):
        return f"{expr.p}/{expr.q}"
    return None


def thousands(expr: object) -> str:
    """``4,089,184,256`` for an exact integer; fractions as ``p/q``; formulas as SymPy prints them."""
    value = exact_value(expr)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, str):
        p, q = value.split("/")
        return f"{int(p):,}/{int(q):,}"
    return canonical_text(expr)


def with_units(expr: object, digits: int = 3) -> str:
    """A rounded display with K/M/G/T (``4.09G``); small numbers and formulas unchanged."""
    value = exact_value(expr)
    if value is None:
        return canonical_text(expr)
    number = sympy.Rational(value) if isinstance(value, str) else sympy.Integer(value)
    for suffix, size in UNITS:
        if abs(number) >= size:
            shown = sympy.Float(number / size, 15)
            return f"{float(shown):.{digits}g}{suffix}"
    return thousands(expr)


def number(expr: object, units: bool = False) -> str:
    """``with_units`` when ``units`` is asked for, else ``thousands``."""
    return with_units(expr) if units else thousands(expr)


def formula(expr: object) -> str:
    """A formula as people read it, in the canonical form of :mod:`symcost.core.canonical`: ``1/C_out + 1/K**2``."""
    return canonical_text(expr)
