r"""Text that goes into LaTeX, Markdown and HTML: the printer and the escapes.

Three kinds of value reach a template, and each is treated once:

- a SymPy expression goes through :func:`tex`, symcost's LaTeX printer
  (display names from :data:`symcost.symbols.LATEX_NAMES`, higher degree
  first, integers grouped in thousands);
- text that is already LaTeX is a :class:`LaTeX` (a ``str`` subclass) and
  passes through untouched;
- any other text is escaped in one pass (:func:`escape_latex`,
  :func:`escape_markdown`)::

    >>> from symcost.symbols import C_out, K
    >>> tex(1 / C_out + 1 / K**2)
    '\\frac{1}{C_{\\mathrm{out}}} + \\frac{1}{K^{2}}'
    >>> tex(81456 * K + 2048000)
    '81{,}456 K + 2{,}048{,}000'
    >>> print(escape_latex("conv_1 {50% & #2} ~^"))
    conv\_1 \{50\% \& \#2\} \textasciitilde{}\textasciicircum{}
"""

from __future__ import annotations

import re

import sympy
from sympy.printing.latex import LatexPrinter

from ..core.canonical import ORDER, OrderedTerms, canonical, fraction_of, text
from ..core.symbols import LATEX_NAMES


class LaTeX(str):
    r"""Text that is already LaTeX: templates pass it through unescaped.

    >>> type(LaTeX(r"\alpha")).__name__, type(LaTeX(r"\alpha") + "x").__name__
    ('LaTeX', 'str')
    """

    __slots__ = ()


class Verbatim(str):
    """Text a template built itself (a macro's output): every format prints it as is."""

    __slots__ = ()


#: Every character LaTeX treats specially in text, and its escape (line breaks become spaces).
LATEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "\n": " ",
    "\r": " ",
}
_LATEX_SPECIAL = re.compile("|".join(re.escape(c) for c in LATEX_ESCAPES))


def escape_latex(text: object) -> LaTeX:
    """``text`` safe in LaTeX's text mode, every special character escaped in one pass.

    >>> print(escape_latex(r"50% of $x\\y$"))
    50\\% of \\$x\\textbackslash{}y\\$
    """
    return LaTeX(_LATEX_SPECIAL.sub(lambda m: LATEX_ESCAPES[m.group()], str(text)))


#: Characters that change the meaning of Markdown (and of the math in it) inline.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|$~])")


def escape_markdown(text: object) -> str:
    """``text`` shown literally in Markdown, a table cell included.

    >>> print(escape_markdown("conv_1 | $5"))
    conv\\_1 \\| \\$5
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def group_digits(value: int, separator: str = "{,}") -> str:
    """``4{,}089{,}184{,}256``: thousands grouped, as LaTeX math needs the comma braced.

    >>> group_digits(-1234567), group_digits(999)
    ('-1{,}234{,}567', '999')
    """
    return f"{value:,}".replace(",", separator)


class _Printer(OrderedTerms, LatexPrinter):
    """SymPy's LaTeX printer with integers grouped in thousands, the canonical term order
    (:mod:`symcost.core.canonical`) and a floor over one fraction."""

    def _rounded(self, left: str, right: str, arg: sympy.Expr) -> str:
        num, den = fraction_of(arg)
        if den == 1:
            inner = self._print(arg)
        elif self._settings["fold_short_frac"]:
            top = self._print(num)
            top = rf"\left({top}\right)" if isinstance(num, sympy.Add) else top
            inner = f"{top} / {self._print(den)}"
        else:
            inner = rf"\frac{{{self._print(num)}}}{{{self._print(den)}}}"
        return rf"\left{left} {inner} \right{right}"

    def _print_floor(self, expr: sympy.floor, exp: object = None) -> str:
        shown = self._rounded(r"\lfloor", r"\rfloor", expr.args[0])
        return shown if exp is None else rf"{shown}^{{{exp}}}"

    def _print_ceiling(self, expr: sympy.ceiling, exp: object = None) -> str:
        shown = self._rounded(r"\lceil", r"\rceil", expr.args[0])
        return shown if exp is None else rf"{shown}^{{{exp}}}"

    def _print_Integer(self, expr: sympy.Integer) -> str:
        return group_digits(int(expr))

    def _print_Rational(self, expr: sympy.Rational) -> str:
        if expr.q == 1:
            return group_digits(int(expr.p))
        sign = "- " if expr.p < 0 else ""
        return rf"{sign}\frac{{{group_digits(abs(expr.p))}}}{{{group_digits(expr.q)}}}"


def tex(expr: object, *, names: dict | None = None, mul_symbol: str | None = None, fold: bool = False) -> LaTeX:
    r"""``expr`` as LaTeX math, with symcost's display names and term order.

    ``names`` adds display names (a symbol shown as its value in a
    derivation); ``fold`` writes short fractions inline (``H / 2``), as a
    table cell needs.

    >>> from symcost.symbols import H, W
    >>> tex(2 * H * W, names={H: "224"}, mul_symbol="dot")
    '2 \\cdot 224 \\cdot W'
    >>> tex(3 * H * W / 2, fold=True)
    '3 H W / 2'
    """
    if isinstance(expr, LaTeX):
        return expr
    if isinstance(expr, bool):
        raise TypeError(f"tex() takes a number or a SymPy expression, got {expr!r}")
    if isinstance(expr, int):
        expr = sympy.Integer(expr)
    symbol_names = dict(LATEX_NAMES)
    symbol_names.update(names or {})
    printer = _Printer({"symbol_names": symbol_names, "order": ORDER, "mul_symbol": mul_symbol,
                        "fold_short_frac": fold})
    return LaTeX(printer.doprint(canonical(expr)))


def tex_shape(dims: object, *, fold: bool = False) -> LaTeX:
    r"""A shape as papers write it: ``64 \times H \times W``; a sum in parentheses.

    >>> from symcost.symbols import H, W
    >>> tex_shape((64, H + 2, W / 2), fold=True)
    '64 \\times \\left(H + 2\\right) \\times W / 2'
    """
    shown = []
    for d in dims:  # type: ignore[attr-defined]
        text = tex(d, fold=fold)
        shown.append(rf"\left({text}\right)" if isinstance(d, sympy.Add) else text)
    return LaTeX(r" \times ".join(shown))


def text_shape(dims: object) -> str:
    """A shape in plain text: ``64×224×224``; a sum in parentheses, as SymPy prints it.

    >>> from symcost.symbols import H
    >>> text_shape((64, H + 2, 224))
    '64×(H + 2)×224'
    """
    return "×".join(f"({text(d)})" if isinstance(d, sympy.Add) else text(d) for d in dims)  # type: ignore[attr-defined]
