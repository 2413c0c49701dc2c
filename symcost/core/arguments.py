"""Turning layer arguments into SymPy expressions, and checking their rules.

Every check knows three answers: a rule that is provably broken raises
:class:`InvalidArgumentError`; a rule that provably holds, or that cannot be
decided for a symbolic value, passes. Numbers are checked at construction and
again, with the input's numbers, when a layer is costed::

    >>> positive_int(3, layer="Conv2d", argument="stride")
    3
    >>> positive_int(0, layer="Conv2d", argument="stride")
    Traceback (most recent call last):
    symcost.core.errors.InvalidArgumentError: Conv2d: stride must be a positive integer, got 0
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from fractions import Fraction
from functools import lru_cache
from typing import Union

import sympy

from .canonical import _size, fraction_of
from .errors import ArgumentTypeError, InvalidArgumentError

ExprLike = Union[int, sympy.Expr]
Pair = tuple[sympy.Expr, sympy.Expr]


def to_expr(value: object, *, layer: str, argument: str) -> sympy.Expr:
    """``value`` as an exact SymPy expression; floats, strings and bools are refused."""
    if isinstance(value, bool):
        raise ArgumentTypeError(f"{layer}: {argument} must be an int or a SymPy expression, got the bool {value}")
    if isinstance(value, int):
        return sympy.Integer(value)
    if isinstance(value, Fraction):
        return sympy.Rational(value.numerator, value.denominator)
    if isinstance(value, sympy.Expr):
        if value.has(sympy.Float):
            raise ArgumentTypeError(
                f"{layer}: {argument} must be exact, got the float {value}; use an int or sympy.Rational"
            )
        return value
    if isinstance(value, float):
        raise ArgumentTypeError(
            f"{layer}: {argument} must be exact, got the float {value!r}; use an int or sympy.Rational"
        )
    if isinstance(value, str):
        raise ArgumentTypeError(
            f"{layer}: {argument} must be an int or a SymPy expression, got the string {value!r}; "
            "make symbols with symcost.symbols.symbol(name)"
        )
    raise ArgumentTypeError(
        f"{layer}: {argument} must be an int or a SymPy expression, got {type(value).__name__} {value!r}"
    )


def _check(expr: sympy.Expr, ok: bool | None, *, layer: str, argument: str, rule: str) -> sympy.Expr:
    if ok is False:
        raise InvalidArgumentError(layer, argument, rule, _shown(expr))
    return expr


def _shown(expr: sympy.Expr) -> object:
    return int(expr) if expr.is_Integer else expr


def integer(value: object, *, layer: str, argument: str) -> sympy.Expr:
    expr = to_expr(value, layer=layer, argument=argument)
    return _check(expr, expr.is_integer, layer=layer, argument=argument, rule="must be an integer")


def positive_int(value: object, *, layer: str, argument: str) -> sympy.Expr:
    """An integer >= 1 (or a symbol not known to break that)."""
    expr = to_expr(value, layer=layer, argument=argument)
    ok = False if expr.is_integer is False or expr.is_positive is False else None
    return _check(expr, ok, layer=layer, argument=argument, rule="must be a positive integer")


def nonnegative_int(value: object, *, layer: str, argument: str) -> sympy.Expr:
    """An integer >= 0 (or a symbol not known to break that)."""
    expr = to_expr(value, layer=layer, argument=argument)
    ok = False if expr.is_integer is False or expr.is_nonnegative is False else None
    return _check(expr, ok, layer=layer, argument=argument, rule="must be an integer >= 0")


#: How errors name the spatial axes of a 1-, 2- and 3-D map (per-axis arguments follow this order).
AXES = {1: ("length",), 2: ("height", "width"), 3: ("time", "height", "width")}
_TUPLE_NAMES = {1: "a (length,) tuple", 2: "a (height, width) pair", 3: "a (time, height, width) triple"}


def ntuple(value: object, n: int, check, *, layer: str, argument: str) -> tuple[sympy.Expr, ...]:
    """A scalar or an ``n``-sequence, as an ``n``-tuple (one entry per spatial axis) each passed through ``check``."""
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise InvalidArgumentError(layer, argument, f"must be one value or {_TUPLE_NAMES[n]}", tuple(value))
        return tuple(check(v, layer=layer, argument=argument) for v in value)
    one = check(value, layer=layer, argument=argument)
    return (one,) * n


def pair(value: object, check, *, layer: str, argument: str) -> Pair:
    """A scalar or a 2-sequence, as an (height, width) pair each passed through ``check``."""
    return ntuple(value, 2, check, layer=layer, argument=argument)  # type: ignore[return-value]


def boolean(value: object, *, layer: str, argument: str) -> bool:
    if not isinstance(value, bool):
        raise ArgumentTypeError(f"{layer}: {argument} must be True or False, got {value!r}")
    return value


def choice(value: object, options: tuple[str, ...], *, layer: str, argument: str) -> str:
    if value not in options:
        raise InvalidArgumentError(layer, argument, f"must be one of {', '.join(map(repr, options))}", value)
    return value  # type: ignore[return-value]


def probability(value: object, *, layer: str, argument: str) -> object:
    """A number in [0, 1]; it enters no formula, so floats are accepted (torch's API)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction, sympy.Expr)):
        raise ArgumentTypeError(f"{layer}: {argument} must be a number in [0, 1], got {value!r}")
    if proven(value < 0) or proven(value > 1):
        raise InvalidArgumentError(layer, argument, "must be in [0, 1]", value)
    return value


#: Longest layer, container or model name accepted.
MAX_NAME = 200


def display_name(value: object, *, layer: str, argument: str = "name") -> str:
    r"""A name that is printed (a layer's, a row's, a model's): text without control characters.

    Names reach terminals, Markdown tables and LaTeX; an escape sequence
    (``\x1b[31m``) or a newline in one would recolour a terminal or break a
    table row, so they are refused here, where names enter::

        >>> display_name("conv\n1", layer="Conv2d")
        Traceback (most recent call last):
        symcost.core.errors.InvalidArgumentError: Conv2d: name must be printable text without control characters (newlines, escapes) of at most 200 characters, got 'conv\n1'
    """
    if not isinstance(value, str):
        raise ArgumentTypeError(f"{layer}: {argument} must be text, got {type(value).__name__} {value!r:.80}")
    if not _printable(value):
        raise InvalidArgumentError(layer, argument, "must be printable text without control characters "
                                   f"(newlines, escapes) of at most {MAX_NAME} characters", value[:80])
    return value


@lru_cache(maxsize=8192)  # every row of every report passes here: a network repeats its names
def _printable(value: str) -> bool:
    return len(value) <= MAX_NAME and not any(
        unicodedata.category(ch)[0] == "C" or unicodedata.category(ch) in ("Zl", "Zp") for ch in value)


def proven(condition: object) -> bool:
    """True only when a SymPy relation is decided true (numbers, or assumptions), or when it holds with each
    floor and ceiling of a sum replaced by the bound that makes it hardest (``ceil(y) >= y``): so
    ``7*ceil(W/7) >= W``, which SymPy leaves undecided, is proven::

        >>> from symcost.symbols import W
        >>> proven(7 * sympy.ceiling(W / 7) >= W), proven(7 * sympy.floor(W / 7) >= W)
        (True, False)
    """
    if condition is sympy.true or condition is True:
        return True
    if isinstance(condition, (sympy.GreaterThan, sympy.StrictGreaterThan, sympy.LessThan, sympy.StrictLessThan)) \
            and condition.has(sympy.floor, sympy.ceiling):
        big, small = (condition.lhs, condition.rhs) if isinstance(condition, (sympy.GreaterThan,
                                                                              sympy.StrictGreaterThan)) \
            else (condition.rhs, condition.lhs)
        strict = isinstance(condition, (sympy.StrictGreaterThan, sympy.StrictLessThan))
        low = big - small
        if _size(low, PROOF_SIZE) > PROOF_SIZE:  # bounded work: a relation this big stays undecided
            return False
        for _ in range(4):  # the outermost floors and ceilings first (7*ceil(f/7) - f with f = floor(H/4): 0)
            low = sympy.expand(_lower_bound(low))
            if (low > 0 if strict else low >= 0) is sympy.true:
                return True
            if not low.has(sympy.floor, sympy.ceiling):
                break
    return False


#: Largest difference (SymPy nodes) :func:`proven` bounds floors and ceilings in.
PROOF_SIZE = 2000


def _depth(expr: sympy.Basic) -> int:
    """How deep floors and ceilings nest in ``expr``."""
    inner = max((_depth(a) for a in expr.args), default=0)
    return inner + isinstance(expr, (sympy.floor, sympy.ceiling))


def _lower_bound(expr: sympy.Expr) -> sympy.Expr:
    """A lower bound of ``expr``: in a sum, each outermost floor or ceiling (nested deepest) times a number
    replaced by its bound on that side (``ceil(n/q) >= n/q``, ``floor(n/q) >= (n - q + 1)/q`` for an integer
    ``n``; upper bounds for a negative factor)."""
    terms = [term.as_coeff_Mul() for term in sympy.Add.make_args(expr)]
    rounded = [(c, t) for c, t in terms if isinstance(t, (sympy.floor, sympy.ceiling)) and c.is_Rational]
    deepest = max((_depth(t) for _, t in rounded), default=0)
    out = []
    for c, t in terms:
        if (c, t) not in rounded or _depth(t) < deepest:
            out.append(c * t)
            continue
        y = t.args[0]
        num, q = fraction_of(y)
        slack = (q - 1) / q if num.is_integer else sympy.Integer(1)
        if (c > 0) == isinstance(t, sympy.ceiling):
            out.append(c * y)  # ceil(y) >= y, floor(y) <= y
        else:
            out.append(c * (y - slack if c > 0 else y + slack))
    return sympy.Add(*out)


def refuted(condition: object) -> bool:
    """True when a SymPy relation is decided false; inside :func:`strict`, also when it is not decided true."""
    if condition is sympy.false or condition is False:
        return True
    return _STRICT.get() and not proven(condition)


#: Inside :func:`strict`: a rule between sizes (``in_features`` equals the input's features) must be proven.
_STRICT: ContextVar[bool] = ContextVar("symcost_strict", default=False)


@contextmanager
def strict() -> Iterator[None]:
    """Within this block a rule :func:`refuted` checks fails unless it provably holds: a formula whose sizes
    agree at some values only (a linear layer's 400 inputs after a flatten of ``16*(H//4)**2``) is refused.
    from_torch's fx reading, which never runs the model, analyzes its graph so."""
    token = _STRICT.set(True)
    try:
        yield
    finally:
        _STRICT.reset(token)


def is_strict() -> bool:
    """Whether the caller is inside :func:`strict`."""
    return _STRICT.get()


def number(value: object, *, layer: str, argument: str) -> object:
    """A number that enters no formula (eps, a fill value, a clamp bound, an exponent): floats are
    accepted as torch takes them; bools, strings and other objects are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction, sympy.Expr)):
        raise ArgumentTypeError(f"{layer}: {argument} must be a number, got {type(value).__name__} {value!r}")
    return value

