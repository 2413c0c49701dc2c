r"""Jupyter display: every symcost object as ``text/plain``, ``text/latex`` and ``text/html``.

IPython is never imported: it calls ``_repr_mimebundle_`` (and
``_repr_latex_``) on the objects, which delegate here. The HTML shows
formulas as ``$...$`` for the notebook's MathJax; the LaTeX of a report is
its booktabs table (what nbconvert puts in a PDF), that of a cost, layer,
derivation or comparison is ``$\displaystyle\begin{aligned}...\end{aligned}$``,
which MathJax and LaTeX both typeset::

    >>> import symcost as sc
    >>> bundle = mimebundle(sc.Sequential(sc.Conv2d(8, 3), sc.ReLU()).analyze(sc.Shape(3, 5, 5)))
    >>> sorted(bundle)
    ['text/html', 'text/latex', 'text/plain']
    >>> one_by_one = sc.comparison(sc.Conv2d(8, 1), sc.Conv2d(8, 3), "params", sc.Shape(4, 9, 9), labels=("1x1", "3x3"))
    >>> print(latex_math(one_by_one))
    $\displaystyle \begin{aligned}
      \text{params}_{\text{1x1}} &= 40 \\
      \text{params}_{\text{3x3}} &= 296 \\
      \frac{\text{params}_{\text{1x1}}}{\text{params}_{\text{3x3}}} &= \frac{5}{37}
    \end{aligned}$
"""

from __future__ import annotations

from ..core.cost import Cost
from ..core.errors import SymcostError
from ..layers.base import Layer
from .jinja import builtin

MIME_TYPES = ("text/plain", "text/latex", "text/html")


def _views(obj: object) -> tuple[str, dict]:
    from .template_views import view_of

    return view_of(obj)


def mimebundle(obj: object, include: object = None, exclude: object = None) -> dict[str, str]:
    """The three renderings of ``obj`` Jupyter chooses from (``include``/``exclude`` as IPython passes them).

    An object that cannot be derived (a layer kind without a catalogue shape)
    shows as text only.
    """
    wanted = [m for m in MIME_TYPES if (not include or m in include) and (not exclude or m not in exclude)]
    try:
        family, view = _views(obj)
    except SymcostError:
        return {"text/plain": repr(obj)} if "text/plain" in wanted else {}
    renderings = {  # a cost or a layer says what it is in its repr; the rest lay their view out as text
        "text/plain": lambda: repr(obj) if isinstance(obj, (Cost, Layer)) else (
            obj.to_text() if family == "table" else builtin(f"{family}.txt", view)),  # type: ignore[attr-defined]
        "text/latex": lambda: builtin(f"{family}.tex", {**view, "inline": family != "table"}),
        "text/html": lambda: builtin(f"{family}.html", view),
    }
    return {mime: renderings[mime]().rstrip("\n") for mime in wanted}


def latex_math(obj: object) -> str | None:
    """``obj`` (a cost, layer, derivation or comparison) as ``$\\displaystyle ...$`` math, or None."""
    try:
        family, view = _views(obj)
    except SymcostError:
        return None
    return builtin(f"{family}.tex", {**view, "inline": True}).rstrip("\n")
