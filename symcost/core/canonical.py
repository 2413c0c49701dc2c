r"""One canonical form for every printed expression.

Every printer of symcost (text, LaTeX, Markdown, HTML, JSON) shows an
expression through :func:`canonical` and prints its sums in :data:`ORDER`,
so one size reads the same in every column and every format:

- nested floors collapse: for a positive integer ``b``, an integer ``c`` and any ``y``,
  ``floor((floor(y) + c)/b) = floor((y + c)/b)`` (so ``floor(floor(x/a)/b) = floor(x/(a*b))``),
  and the same for ceilings;
- ``floor(n/b) + 1`` becomes ``ceil((n + 1)/b)`` for an integer ``n`` where that is shorter
  (``floor((H - 1)/2) + 1 = ceil(H/2)``);
- a floor's argument prints as one fraction: ``floor((H - 1)/2)``, never ``floor(H/2 - 1/2)``;
- the terms of a sum are in SymPy's ``grlex`` order (higher degree first), except that a sum
  never starts with a minus sign while it has a positive term: ``H - K + 2*P`` and ``W - K + 2*P``.

Totals follow one rule, :func:`collected`: a polynomial in the sizes, expanded into one term per
product of sizes, where a size is a symbol or a floor/ceiling (with its added constant) treated as
one factor::

    >>> from symcost.symbols import H, W, K, P
    >>> import sympy
    >>> text(canonical(sympy.floor(sympy.floor(H / 2 - sympy.Rational(1, 2)) / 2)))
    'floor((H - 1)/4)'
    >>> text(canonical(sympy.floor(sympy.floor(H / 2 - sympy.Rational(1, 2)) / 2) + 1))
    'ceil(H/4)'
    >>> text(canonical(sympy.floor((H - 1) / 2) + 1))
    'ceil(H/2)'
    >>> text(W - K + 2 * P), text(H - K + 2 * P)
    ('W - K + 2*P', 'H - K + 2*P')
"""

from __future__ import annotations

import functools

import sympy
from sympy.printing.str import StrPrinter

__all__ = ["ORDER", "canonical", "collected", "text", "OrderedTerms", "fraction_of", "floor_div", "ceil_div", "mod"]

#: Term order of every printer: higher degree first, as papers write ``1/C_out + 1/K**2``.
ORDER = "grlex"
#: Expressions bigger than this (SymPy operations) are printed as they are: canonical form is bounded work.
MAX_OPS = 20_000


def fraction_of(arg: sympy.Expr) -> tuple[sympy.Expr, sympy.Integer]:
    """``arg`` as ``numerator / d`` with ``d`` a positive integer (1 when it has no such denominator)."""
    terms = sympy.Add.make_args(arg)
    coefficients = [t.as_coeff_Mul()[0] for t in terms]
    if not all(c.is_Rational for c in coefficients):
        return arg, sympy.Integer(1)
    d = sympy.Integer(sympy.ilcm(1, 1, *[c.q for c in coefficients]))
    if d == 1:
        return arg, d
    return sympy.Add(*[t * d for t in terms]), d


def _number_or_expr(value: object) -> sympy.Expr:
    """An int or a SymPy expression as a SymPy expression (nothing parsed: text is refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, sympy.Expr)):
        raise TypeError(f"expected an integer or a SymPy expression, got {type(value).__name__}")
    return sympy.Integer(value) if isinstance(value, int) else value


def floor_div(a: object, n: object, *, ties_down: bool = False) -> sympy.Expr:
    """``a // n`` (``floor(a/n)``) with whole multiples of ``n`` taken out, for a positive integer ``n``.

    Each term ``c*t`` of ``a`` with ``t`` integer-valued and ``c`` an integer leaves ``(c - r)/n * t`` outside
    the floor, ``r`` the remainder of ``c`` nearest zero (``-n/2 < r <= n/2``, or ``-n/2 <= r < n/2`` with
    ``ties_down``); a floor of only negative terms is written as minus a ceiling. So
    ``floor(6*W/7) = W - ceil(W/7)``, and sizes torch writes with ``Mod`` come out in one form (see :func:`mod`)::

        >>> from symcost.symbols import W
        >>> floor_div(6 * W, 7), floor_div(W - 1, 2)
        (W - ceiling(W/7), floor(W/2 - 1/2))
    """
    a, n = _number_or_expr(a), _number_or_expr(n)
    if not (n.is_Integer and n > 0):
        return sympy.floor(a / n)
    outside, inside, changed = [], [], False
    for term in sympy.Add.make_args(a):
        c, t = term.as_coeff_Mul()
        if c.is_Integer and t is not sympy.S.One and t.is_integer:
            q, r = divmod(int(c), int(n))
            if 2 * r > n or ties_down and 2 * r == n:
                q, r = q + 1, r - int(n)
            if q:
                outside.append(q * t)
                changed = True
            inside.append(r * t)
        else:
            inside.append(term)
    rest = sympy.Add(*inside)
    symbolic = [t.as_coeff_Mul()[0] for t in sympy.Add.make_args(rest) if t.free_symbols]
    if symbolic and all(c.is_negative for c in symbolic):
        return sympy.Add(*outside) - sympy.ceiling(-rest / n)
    return sympy.Add(*outside) + sympy.floor(rest / n) if changed else sympy.floor(a / n)


def ceil_div(a: object, n: object) -> sympy.Expr:
    """``ceil(a/n)`` in the form of :func:`floor_div` (``ceil(x) = -floor(-x)``)."""
    return -floor_div(-_number_or_expr(a), n)


def mod(a: object, n: object) -> sympy.Expr:
    """``a % n`` (Python's: ``a - n*floor(a/n)``) without ``Mod``, through :func:`floor_div`.

    SymPy cannot compare two sizes when one holds ``Mod``; written this way, a size padded to a multiple of a
    window, ``W + (7 - W % 7) % 7`` (which SymPy writes ``W + Mod(6*W, 7)``), is ``7*ceil(W/7)`` wherever it
    appears (``W % 2`` is ``2*ceil(W/2) - W`` for the same reason: padding adds it)::

        >>> from symcost.symbols import W
        >>> W + mod(6 * W, 7), W - mod(W, 7), W + mod(W, 2)
        (7*ceiling(W/7), 7*floor(W/7), 2*ceiling(W/2))
    """
    a = _number_or_expr(a)
    return a - n * floor_div(a, n, ties_down=True)


def _collapse(fn: type, arg: sympy.Expr) -> sympy.Expr:
    """``fn(arg)`` with a nested floor (ceiling) of the same kind folded into it."""
    num, den = fraction_of(arg)
    inner = [t for t in sympy.Add.make_args(num) if isinstance(t, fn)]
    if len(inner) != 1:
        return fn(arg)
    rest = num - inner[0]
    if rest != 0 and rest.is_integer is not True:
        return fn(arg)
    return _collapse(fn, (inner[0].args[0] + rest) / den)


def _ceil_form(expr: sympy.Add) -> sympy.Expr:
    """``floor(n/b) + c`` as ``ceil((n + 1)/b) + c - 1`` for an integer ``n``, where that prints shorter."""
    const, rest = expr.as_coeff_Add()
    if not isinstance(rest, sympy.floor) or not const.is_Integer or const < 1:
        return expr
    num, den = fraction_of(rest.args[0])
    if den == 1 or num.is_integer is not True:
        return expr
    other = sympy.ceiling((num + 1) / den) + (const - 1)
    return other if len(text(other, raw=True)) < len(text(expr, raw=True)) else expr


def _canonical(expr: sympy.Basic, ceil: bool) -> sympy.Basic:
    if not isinstance(expr, sympy.Basic) or expr.is_Atom:
        return expr
    args = [_canonical(a, ceil) for a in expr.args]
    if isinstance(expr, (sympy.floor, sympy.ceiling)):
        return _collapse(type(expr), args[0])
    if args == list(expr.args):
        rebuilt = expr
    elif isinstance(expr, (sympy.Add, sympy.Mul, sympy.Pow)):
        rebuilt = expr.func(*args)
    else:  # Max, Min, Piecewise...: no re-evaluation (Max compares every pair of its arguments)
        try:
            rebuilt = expr.func(*args, evaluate=False)
        except TypeError:
            rebuilt = expr.func(*args)
    if ceil and isinstance(rebuilt, sympy.Add):
        return _ceil_form(rebuilt)
    return rebuilt


@functools.lru_cache(maxsize=4096)
def _cached(expr: sympy.Basic, ceil: bool) -> sympy.Basic:
    return _canonical(expr, ceil)


def canonical(expr: object, *, ceil: bool = True) -> object:
    """The canonical form of ``expr`` (the same value; see the module docstring). Non-SymPy values pass through.

    ``ceil=False`` only collapses nested floors (no ``ceil`` rewriting).
    """
    if not isinstance(expr, sympy.Basic) or expr.is_Atom or not expr.has(sympy.floor, sympy.ceiling):
        return expr
    if _size(expr) > MAX_OPS:
        return expr
    return _cached(expr, ceil)


#: A size whose canonical text is longer than this gets a name (``H_1``) even without a floor in it.
NAMED_LENGTH = 12


def _rounded_atoms(expr: sympy.Expr) -> list[sympy.Expr]:
    return sorted({a for a in sympy.preorder_traversal(expr) if isinstance(a, (sympy.floor, sympy.ceiling))},
                  key=sympy.default_sort_key)


class SizeNames:
    """Names for the intermediate sizes of a network: ``H_1 = ceil(H/2)``, ``H_2 = ceil(H/4)``, ...

    Each distinct size (a dimension of the ``shapes`` that holds a floor or a
    ceiling, or prints longer than :data:`NAMED_LENGTH`) is named after the
    one symbol it depends on (``H_k``, ``W_k``; ``N_k`` when it depends on
    several), numbered in the order the sizes first appear; names already in
    ``taken`` are skipped. Calling the object on an expression writes it in
    the names, by the rule of :func:`collected`::

        >>> from symcost.symbols import H
        >>> import sympy
        >>> names = SizeNames([(64, sympy.floor((H - 1) / 2) + 1)])
        >>> [(str(n), text(d)) for n, d in names.legend]
        [('H_1', 'ceil(H/2)')]
        >>> names(9408 * (sympy.floor(H / 2 - sympy.Rational(1, 2)) + 1) ** 2 + 1)
        9408*H_1**2 + 1
    """

    def __init__(self, shapes: object, taken: object = ()) -> None:
        self.legend: list[tuple[sympy.Symbol, sympy.Expr]] = []
        self._by_dim: dict[sympy.Expr, sympy.Symbol] = {}
        self._atoms: dict[sympy.Expr, sympy.Expr] = {}
        self._inverse: dict[int, dict[sympy.Symbol, sympy.Expr]] = {}
        taken = {str(t) for t in taken}
        counters: dict[str, int] = {}
        for shape in shapes:  # type: ignore[attr-defined]
            for dim in shape:
                self._name(sympy.Integer(dim) if isinstance(dim, int) else dim, taken, counters)

    def _name(self, dim: sympy.Expr, taken: set[str], counters: dict[str, int]) -> None:
        if not isinstance(dim, sympy.Expr) or not dim.free_symbols:
            return
        shown = canonical(dim)
        if shown in self._by_dim or shown.is_Symbol:
            return
        if shown.has(sympy.floor, sympy.ceiling):
            collapsed = canonical(dim, ceil=False)
            const, rest = collapsed.as_coeff_Add()
            if not (isinstance(rest, (sympy.floor, sympy.ceiling)) and const.is_Integer):
                for atom in _rounded_atoms(collapsed):  # 2*floor(H/16): name the floor inside
                    if atom not in self._atoms:
                        self._name(atom, taken, counters)
                return
            if rest in self._atoms:
                return
        elif len(shown.free_symbols) != 1 or not sympy.Poly(shown, *shown.free_symbols).is_linear:
            if len(text(shown, raw=True)) <= NAMED_LENGTH:
                return
        free = sorted(dim.free_symbols, key=str)
        base = free[0].name if len(free) == 1 else "N"
        while True:
            counters[base] = counters.get(base, 0) + 1
            name = f"{base}_{counters[base]}"
            if name not in taken:
                break
        symbol = sympy.Symbol(name, positive=True, integer=True)
        self._by_dim[shown] = symbol
        self.legend.append((symbol, shown))
        if not shown.has(sympy.floor, sympy.ceiling) and len(free) == 1:  # H/4 - 1: H = 4*(H_1 + 1)
            solved = sympy.solve(sympy.Eq(shown, symbol), free[0])
            if len(solved) == 1:
                self._inverse.setdefault(counters[base], {})[free[0]] = solved[0]
        # every form the size takes inside a quantity: floor(z) + c, its collapsed form, its ceiling form
        for form in {dim, canonical(dim, ceil=False), shown}:
            const, rest = form.as_coeff_Add()
            if isinstance(rest, (sympy.floor, sympy.ceiling)) and const.is_Integer:
                self._atoms.setdefault(rest, symbol - const)

    def __call__(self, expr: object) -> object:
        if not isinstance(expr, sympy.Basic) or expr.is_Atom:
            return expr
        if expr.has(sympy.floor, sympy.ceiling):
            for form in (canonical(expr, ceil=False), canonical(expr)):
                form = form.xreplace(self._atoms)
                if not form.has(sympy.floor, sympy.ceiling):
                    break
            expr = form
        named = collected(expr.xreplace(self._by_dim) if self._by_dim else expr)
        # a polynomial in H, W (floor="divisible"): written in the sizes of one stage where that is shorter
        best, length = named, len(text(named, raw=True))
        for inverse in self._inverse.values():
            if named.free_symbols & set(inverse) and _size(named) < 400:
                other = sympy.expand(named.xreplace(inverse))
                other = sympy.factor_terms(other) if isinstance(other, sympy.Add) else other
                if len(text(other, raw=True)) < length:
                    best, length = other, len(text(other, raw=True))
        return best

    @property
    def symbols(self) -> list[sympy.Symbol]:
        return [s for s, _ in self.legend]


def _size(expr: sympy.Basic, limit: int = MAX_OPS) -> int:
    """How many nodes ``expr`` has, counting no further than ``limit`` (cheap, unlike ``count_ops``)."""
    count = 0
    for _ in sympy.preorder_traversal(expr):
        count += 1
        if count > limit:
            break
    return count


def collected(expr: object, sizes: dict | None = None) -> object:
    """A total by the one rule: expanded into a term per product of sizes (``3244*H*W + 640``),
    unless the expanded form prints longer than the one it had (a product of long sums stays a product).

    Each floor or ceiling, with the constant added to it, counts as one factor
    (``sizes`` maps such sub-expressions to stand-ins); nothing inside a size is expanded.
    """
    if not isinstance(expr, sympy.Basic) or expr.is_Atom:
        return expr
    expr = canonical(expr)
    sizes = dict(sizes or {})
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Add) and node.has(sympy.floor, sympy.ceiling) and node not in sizes:
            const, rest = node.as_coeff_Add()
            if isinstance(rest, (sympy.floor, sympy.ceiling)):
                sizes[node] = sympy.Dummy()
        elif isinstance(node, (sympy.floor, sympy.ceiling)) and node not in sizes:
            sizes[node] = sympy.Dummy()
    stand_ins = {k: v for k, v in sizes.items() if isinstance(v, sympy.Dummy)}
    if _size(expr) > MAX_OPS // 10:
        return expr
    flat = sympy.expand(expr.xreplace(stand_ins)).xreplace({v: k for k, v in stand_ins.items()})
    if flat == expr or len(text(flat, raw=True)) <= len(text(expr, raw=True)):
        return flat
    return expr


class OrderedTerms:
    """Printer mixin: ``grlex`` order, and a sum starts with a positive term when it has one.

    That term is the first positive one with coefficient 1 (a size: ``W - K + 2*P``), else the first positive one.
    """

    def _as_ordered_terms(self, expr, order=None):
        terms = super()._as_ordered_terms(expr, order=order)  # type: ignore[misc]
        if terms and terms[0].could_extract_minus_sign():
            positive = [i for i, t in enumerate(terms) if not t.could_extract_minus_sign()]
            unit = [i for i in positive if abs(terms[i].as_coeff_Mul()[0]) == 1]
            if positive:
                i = (unit or positive)[0]
                return [terms[i], *terms[:i], *terms[i + 1:]]
        return terms


class TextPrinter(OrderedTerms, StrPrinter):
    """SymPy's str in the canonical order, ``1/K**2`` for ``K**(-2)``, floors over one fraction, ``ceil``."""

    def _print_Pow(self, expr: sympy.Pow, rational: bool = False) -> str:
        if expr.exp.is_Integer and expr.exp.is_negative and expr.exp != -1:
            return "1/" + self._print(sympy.Pow(expr.base, -expr.exp))
        return super()._print_Pow(expr, rational)

    def _rounded(self, name: str, arg: sympy.Expr) -> str:
        num, den = fraction_of(arg)
        if den == 1:
            return f"{name}({self._print(arg)})"
        top = self._print(num)
        if isinstance(num, sympy.Add) or (isinstance(num, sympy.Mul) and num.could_extract_minus_sign()):
            top = f"({top})"
        return f"{name}({top}/{den})"

    def _print_floor(self, expr: sympy.floor) -> str:
        return self._rounded("floor", expr.args[0])

    def _print_ceiling(self, expr: sympy.ceiling) -> str:
        return self._rounded("ceil", expr.args[0])


def text(expr: object, *, raw: bool = False) -> str:
    """``expr`` as canonical text (``raw`` skips :func:`canonical`, for an expression already in it)."""
    if isinstance(expr, int) and not isinstance(expr, bool):
        expr = sympy.Integer(expr)
    return TextPrinter({"order": ORDER}).doprint(expr if raw else canonical(expr))
