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

#: LaTeX commands a display name may use: Greek letters, fonts, accents and a few symbols. Anything else
#: (``\input``, ``\write``, ``\def``, ``\href``...) is refused: display names go into LaTeX documents.
LATEX_COMMANDS = frozenset({
    *"alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi varpi rho "
     "varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi "
     "Psi Omega".split(),
    *"mathrm mathbf mathit mathsf mathtt mathcal mathbb mathfrak boldsymbol operatorname text textrm textit "
     "hat bar tilde vec dot ddot check breve widehat widetilde overline underline prime ell hbar infty partial "
     "nabla cdot times star ast dagger circ".split(),
})
#: Longest display name.
MAX_LATEX = 100
_LATEX_TOKEN = re.compile(r"\\([A-Za-z]+)|([A-Za-z0-9 _^{}',.()\[\]+\-=*/:;!])|(.)", re.S)


def check_latex(latex: object, name: str = "") -> str:
    r"""A symbol's LaTeX display name, refused unless it is plain math (``C_{\mathrm{in}}``, ``\alpha'``).

    Letters, digits, ``_ ^ { } ' , . ( ) [ ] + - = * / : ; !``, spaces and the
    commands of :data:`LATEX_COMMANDS`: no ``$``, ``%``, ``&``, ``#``, ``\\``, ``<``,
    ``>``, control characters or other commands, so a name can neither run
    TeX (``\input{/etc/hostname}``) nor leave math mode in Markdown.
    """
    if not isinstance(latex, str):
        raise ValueError(f"latex display name of {name!r} must be text, got {type(latex).__name__}")
    if not latex.strip() or len(latex) > MAX_LATEX:
        raise ValueError(f"latex display name of {name!r} must be 1 to {MAX_LATEX} characters, got {latex[:40]!r}")
    depth = 0
    for command, plain, other in _LATEX_TOKEN.findall(latex):
        if other:
            raise ValueError(f"latex display name of {name!r} may not contain {other!r}; use letters, digits, "
                             f"_ ^ {{ }} and commands such as \\alpha or \\mathrm, got {latex!r}")
        if command and command not in LATEX_COMMANDS:
            raise ValueError(f"latex display name of {name!r} may not use \\{command}; allowed commands are Greek "
                             f"letters, fonts and accents (symcost.symbols.LATEX_COMMANDS), got {latex!r}")
        depth += (plain == "{") - (plain == "}")
        if depth < 0:
            break
    if depth != 0:
        raise ValueError(f"latex display name of {name!r} has unbalanced braces, got {latex!r}")
    return latex


class NamedSymbol(sympy.Symbol):
    """A symcost symbol: a plain SymPy symbol that SymPy's own ``latex()`` shows by its display name.

    ``sympy.latex(C_out)`` gives ``C_{\\mathrm{out}}`` (the name in :data:`LATEX_NAMES`), unless
    the printer is given its own ``symbol_names`` for it.
    """

    def _latex(self, printer: object) -> str:
        names = getattr(printer, "_settings", {}).get("symbol_names") or {}
        if self in names:
            return names[self]
        shown = LATEX_NAMES.get(self)
        return shown if shown is not None else printer._print_Symbol(self)  # type: ignore[attr-defined]


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
    if latex is not None:
        check_latex(latex, name)
    made = _MADE.get(name)
    if made is not None and bool(made.is_integer) != integer:
        kind = "an integer" if made.is_integer else "a real"
        raise ValueError(f"symbol {name!r} already exists as {kind}; one name is one symbol")
    if made is None:
        made = NamedSymbol(name, positive=True, integer=True) if integer else NamedSymbol(name, positive=True)
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
