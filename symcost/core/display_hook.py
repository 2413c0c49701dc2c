"""The rendering and Jupyter methods every displayable symcost object shares.

``Cost``, ``Layer``, ``Report``, ``Derivation`` and ``Comparison`` inherit
them; the renderers are imported only when one is called, so ``import
symcost`` needs neither Jinja2 templates nor IPython::

    >>> import symcost as sc
    >>> sorted(sc.Conv2d(8, 3).cost(sc.Shape(3, 5, 5))._repr_mimebundle_())
    ['text/html', 'text/latex', 'text/plain']
"""

from __future__ import annotations


class Displayable:
    """``to_latex``, ``to_markdown`` and Jupyter's ``_repr_mimebundle_`` / ``_repr_latex_``."""

    __slots__ = ()

    def to_latex(self, template: object = None, standalone: bool = False, **options: object) -> str:
        """LaTeX through the package templates (or ``template``); ``standalone=True`` compiles alone.

        Options depend on the object: see :func:`symcost.printing.jinja.to_latex`.
        """
        from ..printing.jinja import to_latex

        return to_latex(self, template, standalone, **options)

    def to_markdown(self, template: object = None, **options: object) -> str:
        """Markdown through the package templates, formulas in ``$...$``."""
        from ..printing.jinja import to_markdown

        return to_markdown(self, template, **options)

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict:
        from ..printing.jupyter import mimebundle

        return mimebundle(self, include, exclude)

    def _repr_latex_(self) -> str | None:
        from ..printing.jupyter import latex_math

        return latex_math(self)


def peer_view(report: object, tool: str, **options: object) -> object:
    """``report`` in a seed tool's layout (:func:`symcost.printing.peer_views.peer_view`), imported when called."""
    from ..printing.peer_views import peer_view as view

    return view(report, tool, **options)


class Tabular:
    """Objects laid out as one table (a roofline): ``to_text``, ``to_markdown``, ``to_json`` and Jupyter's
    Markdown, through :mod:`symcost.printing.tables`, imported when called."""

    __slots__ = ()

    def to_text(self) -> str:
        from ..printing.tables import render

        return render(self, "text")

    def to_markdown(self) -> str:
        from ..printing.tables import render

        return render(self, "markdown")

    def to_json(self) -> str:
        from ..printing.tables import render

        return render(self, "json")

    def to_latex(self) -> str:
        from ..printing.tables import render

        return render(self, "latex")

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __str__(self) -> str:
        return self.to_text()
