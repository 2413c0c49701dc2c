r"""The one place where symcost makes SymPy symbols.

``Symbol("C_in")`` and ``Symbol("C_in", positive=True, integer=True)`` are
different symbols to SymPy, so every symbol a user or a layer needs comes from
here, with the same assumptions (positive integers) and a LaTeX display name.
Display names live in :data:`LATEX_NAMES` and go to the printer through
``symbol_names``; the symbols themselves keep their plain names::

    >>> from symcost.symbols import C_in, K, latex
    >>> latex(K**2 * C_in)
    'C_{\\mathrm{in}} K^{2}'
    >>> n = symbol("n")                  # your own, same assumptions
"""

from __future__ import annotations

import re

import sympy

__all__ = [
    "W", "H", "K", "S", "P", "D", "G", "C", "C_in", "C_out", "D_in", "D_out",
    "B", "L", "alpha", "BUILTINS", "symbol", "known", "symbols", "latex", "LATEX_NAMES",
]

#: Display name of every symbol made here, handed to SymPy's LaTeX printer.
LATEX_NAMES: dict[sympy.Symbol, str] = {}

_MADE: dict[str, sympy.Symbol] = {}
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def _default_latex(name: str) -> str:
    """``C_in`` -> ``C_{\\mathrm{in}}``; ``alpha`` -> ``\\alpha``; ``H`` -> ``H``."""
    base, _, sub = name.partition("_")
    base_tex = sympy.latex(sympy.Symbol(base))
    if not sub:
        return base_tex
    sub_tex = sub if len(sub) == 1 or sub.isdigit() else rf"\mathrm{{{sub}}}"
    return f"{base_tex}_{{{sub_tex}}}"


def symbol(name: str, latex: str | None = None, *, integer: bool = True) -> sympy.Symbol:
    """Return the positive-integer symbol called ``name``, making it once.

    ``integer=False`` makes a positive real instead (a width multiplier).

    ``latex`` sets its display name (default: ``C_in`` shows as
    ``C_{\\mathrm{in}}``). Asking again for the same name returns the same
    symbol, so formulas built in different places combine::

        >>> symbol("n") is symbol("n")
        True
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"symbol name must be letters, digits and underscores starting with a letter, got {name!r}"
        )
    made = _MADE.get(name)
    if made is not None and bool(made.is_integer) != integer:
        kind = "an integer" if made.is_integer else "a real"
        raise ValueError(f"symbol {name!r} already exists as {kind}; one name is one symbol")
    if made is None:
        made = sympy.Symbol(name, positive=True, integer=True) if integer else sympy.Symbol(name, positive=True)
        _MADE[name] = made
        LATEX_NAMES[made] = latex if latex is not None else _default_latex(name)
    elif latex is not None:
        LATEX_NAMES[made] = latex
    return made


def known() -> dict[str, sympy.Symbol]:
    """Every symbol made so far, by name (the built-ins and any made with :func:`symbol`)."""
    return dict(_MADE)


def symbols(names: str) -> tuple[sympy.Symbol, ...]:
    """Several symbols at once: ``h, w = symbols("h w")``."""
    return tuple(symbol(n) for n in names.replace(",", " ").split())


def latex(expr: object, **settings: object) -> str:
    """SymPy's LaTeX printer with symcost's display names (``C_{\\mathrm{in}}``)."""
    names = dict(LATEX_NAMES)
    names.update(settings.pop("symbol_names", {}) or {})  # type: ignore[arg-type]
    return sympy.latex(expr, symbol_names=names, **settings)


W = symbol("W")          #: input width (or side of a square input)
H = symbol("H")          #: input height
K = symbol("K")          #: kernel size
S = symbol("S")          #: stride
P = symbol("P")          #: padding
D = symbol("D")          #: dilation
G = symbol("G")          #: groups
C = symbol("C")          #: channels
C_in = symbol("C_in")    #: input channels
C_out = symbol("C_out")  #: output channels
D_in = symbol("D_in")    #: input features of a linear layer
D_out = symbol("D_out")  #: output features of a linear layer
B = symbol("B")          #: batch size
L = symbol("L")          #: sequence length (tokens)
alpha = symbol("alpha", integer=False)  #: width multiplier (a positive real)

#: The symbols above, by name: what spec files and the command line may use undeclared.
BUILTINS: dict[str, sympy.Symbol] = {s.name: s for s in (W, H, K, S, P, D, G, C, C_in, C_out, D_in, D_out, B, L, alpha)}
