"""A training step's memory as stacked bars (weights, gradients, optimizer states, activations and the
largest transient) against one size: the batch ``B`` or the context length.

matplotlib is imported when a figure is drawn (Agg backend), never on ``import symcost``::

    >>> import symcost as sc
    >>> from symcost.symbols import B
    >>> tr = sc.Sequential(sc.Linear(8), sc.ReLU()).analyze(sc.Shape(4), batch=B).training()
    >>> [bar["activations"] for bar in memory_bars(tr, "B", [1, 2])]  # Linear keeps its input, ReLU its output
    [48, 96]
"""

from __future__ import annotations

import sympy

from ..core.errors import InvalidArgumentError, SymcostError
from ..core.evaluate import substitute
from ..networks.training import Training

#: The stacked parts, bottom to top, and their labels.
PARTS = (("weights", "weights"), ("gradients", "gradients"), ("optimizer", "optimizer states"),
         ("activations", "activations (saved)"), ("transient", "largest transient"))
#: The most bars a figure draws.
MAX_BARS = 256


def memory_bars(tr: Training, name: str, values: list, fixed: dict | None = None) -> list[dict[str, int]]:
    """Each part's bytes at ``name = value`` for every value (``fixed`` binds the other symbols).

    The report's rules are checked at every point (a size that breaks a layer is refused); every symbol
    must be bound, so each bar is an exact integer.
    """
    if len(values) > MAX_BARS:
        raise InvalidArgumentError("memory figure", name, f"may take at most {MAX_BARS} values", len(values))
    fixed = dict(fixed or {})
    bars = []
    for value in values:
        point = {**fixed, name: value}
        tr.report.check(point)
        memory = tr.memory.subs(point)
        bar = {}
        for part, _ in PARTS:
            amount = getattr(memory, part)
            if not (isinstance(amount, sympy.Integer) or amount == 0):
                left = sorted(str(s) for s in getattr(amount, "free_symbols", ()))
                raise InvalidArgumentError("memory figure", part, f"still depends on {', '.join(left)}; bind "
                                           "every other size first", amount)
            bar[part] = int(amount)
        bars.append(bar)
    return bars


def memory_figure(tr: Training, name: str, values: list, path: str | None = None, fixed: dict | None = None):
    """Stacked bars of the step's memory against ``name``; saved to ``path`` if given. Returns the figure."""
    bars = memory_bars(tr, name, values, fixed)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    from .numbers import with_units

    figure, axis = plt.subplots(figsize=(7, 4))
    positions = list(range(len(values)))
    bottom = [0] * len(values)
    for part, label in PARTS:
        heights = [bar[part] for bar in bars]
        axis.bar(positions, heights, bottom=bottom, label=label)
        bottom = [b + h for b, h in zip(bottom, heights)]
    axis.set_xticks(positions, [str(v) for v in values], rotation=90 if len(values) > 16 else 0)
    axis.set_xlabel(name)
    axis.set_ylabel("bytes")
    axis.yaxis.set_major_formatter(FuncFormatter(lambda v, _: with_units(sympy.Integer(round(v)))))
    axis.set_title(f"{tr.model}: {tr.precision}, {tr.optimizer}, recompute {tr.recompute}")
    axis.legend(fontsize="small")
    figure.tight_layout()
    if path is not None:
        try:
            figure.savefig(path, dpi=120)
        except OSError as err:
            plt.close(figure)
            raise FigureError(f"memory figure {path!r}: cannot write: {err.strerror or err}") from None
    return figure


class FigureError(OSError, SymcostError):
    """The figure could not be written."""
