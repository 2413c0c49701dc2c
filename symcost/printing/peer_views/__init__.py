"""The seed tools' own layouts: a report shown as torchstat or torchsummary prints it.

``peer_view(report, "torchstat")`` returns a :class:`PeerView`: the tool's
text (``str(view)``, Jupyter shows it), its rows and totals as exact numbers.
The numbers are the tool's wherever the tool is right, and the right ones
where it is not (README, "The seed tools' views"); each tool's module says
how every column is counted.

The views print numbers, as the tools do: a report with symbols left is one
error naming them (bind them first: ``rep.subs(H=224, W=224)``, or
``--set H=W=224`` on the command line). Both tools show one sample.

What the two views share lives here: every call of a layer as one line (a
``Repeat`` of ``n`` runs gives ``n`` lines, as a hook sees ``n`` calls), and
which outputs are new tensors. A layer whose output is a view of its input
(``aliases_input``: Flatten, eval Dropout) allocates nothing; a layer run in
place writes over its input and allocates nothing either. torchvision runs
its ReLUs in place (``inplace=True``) and adds the shortcut in place
(``out += identity``), so :data:`INPLACE` names those kinds by default; pass
``inplace=()`` for a model that allocates them.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import sympy

from ...core.dtypes import bytes_per_element
from ...core.errors import UnknownViewError, ViewError

#: Kinds run in place unless told otherwise: torchvision's ``ReLU(inplace=True)`` and ``out += identity``.
INPLACE: tuple[str, ...] = ("ReLU", "ReLU6", "Add")
#: The most lines a view prints (a Repeat of a million runs is refused, not printed).
MAX_LINES = 100_000
#: The tools with a view.
VIEWS: tuple[str, ...] = ("torchstat", "torchsummary")
#: 1 MB as both tools count it.
MB = sympy.Integer(1024) ** 2


@dataclass(frozen=True)
class PeerView:
    """One tool's view of a report: its ``text``, and the exact ``rows`` and ``totals`` behind it."""

    tool: str
    text: str
    rows: tuple[dict, ...] = field(repr=False)
    totals: dict = field(repr=False)
    #: the columns of the tool this view leaves out, and why
    omitted: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:
        printer.text(self.text)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.text)}</pre>"


@dataclass(frozen=True)
class Call:
    """One call of a leaf layer, numbers only: what a forward hook would see."""

    name: str
    kind: str
    cost: object  # the row's per-sample Cost
    params: int
    allocates: bool
    #: the parameters and buffers the call reads: its own, or those of the row it shares them with
    weights: object = None


def peer_view(report: object, tool: str, *, dtype: str = "float32", inplace: tuple[str, ...] = INPLACE) -> PeerView:
    """``report`` in ``tool``'s layout (``"torchstat"`` or ``"torchsummary"``); see the module docstring."""
    from . import torchstat, torchsummary

    views = {"torchstat": torchstat.view, "torchsummary": torchsummary.view}
    if not isinstance(tool, str) or tool not in views:
        raise UnknownViewError(f"unknown view {tool!r}; views are {', '.join(VIEWS)}")
    size = bytes_per_element(dtype, owner=f"the {tool} view")
    return views[tool](report, calls(report, tool, inplace), size)


def calls(report: object, tool: str, inplace: tuple[str, ...] = INPLACE) -> list[Call]:
    """Every call of every leaf layer in order, with numbers; symbols left or a batch are one clear error."""
    if not isinstance(inplace, (tuple, list, set, frozenset)) or not all(isinstance(k, str) for k in inplace):
        raise ViewError(f"the {tool} view: inplace must be a collection of layer kinds, got {inplace!r}")
    if report.batch != 1:
        raise ViewError(f"the {tool} view shows one sample, as {tool} does; got batch={report.batch} "
                        "(analyze without a batch)")
    values = [*report.input_shape]
    for row in report.rows:
        cost = row.cost
        values += [row.count, cost.params.total, cost.params.buffer_total, *cost.ops.as_dict().values(),
                   *(n for shape in (*cost.in_shapes, *cost.out_shapes) for n in shape)]
    free = set().union(*(v.free_symbols for v in values if isinstance(v, sympy.Basic)))
    if free:
        names = ", ".join(sorted(str(s) for s in free))
        raise ViewError(f"the {tool} view prints numbers, as {tool} does: bind {names} first "
                        f"(rep.subs(...), or --set on the command line)")
    out: list[Call] = []
    owners: dict = {}  # the parameters of each row that holds its tensors (a shared row reads its owner's)
    for row in report.rows:
        times = int(row.count)
        if len(out) + times > MAX_LINES:
            raise ViewError(f"the {tool} view: more than {MAX_LINES:,} layer calls to print "
                            f"(layer {row.name!r} runs {times:,} times); use the table of symcost report")
        layer = row.cost.layer
        runs_in_place = bool(getattr(layer, "inplace", False)) or row.kind in inplace
        allocates = not (getattr(layer, "aliases_input", False) or runs_in_place)
        params = int(row.cost.params.total)
        weights = owners.get(row.shared, row.cost.params) if row.shared else row.cost.params
        owners.setdefault(row.name, row.cost.params)
        out.extend(Call(row.name, row.kind, row.cost, params, allocates, weights) for _ in range(times))
    return out


def fixed(value: sympy.Rational, digits: int = 2) -> str:
    """``value`` with ``digits`` decimals, rounded half to even as ``'%.2f'`` rounds: ``'44.59'``."""
    scaled = sympy.Rational(value) * 10**digits
    whole = int(sympy.floor(scaled))
    rest = scaled - whole
    if rest > sympy.Rational(1, 2) or (rest == sympy.Rational(1, 2) and whole % 2):
        whole += 1
    sign = "-" if whole < 0 else ""
    whole = abs(whole)
    return f"{sign}{whole // 10**digits}.{whole % 10**digits:0{digits}d}" if digits else f"{sign}{whole}"


def shortest(value: sympy.Rational, digits: int = 2) -> str:
    """``str(round(x, 2))`` of Python: at most ``digits`` decimals, trailing zeros dropped, one kept (``'1.8'``)."""
    text = fixed(value, digits).rstrip("0")
    return text + "0" if text.endswith(".") else text


__all__ = ["INPLACE", "VIEWS", "PeerView", "peer_view"]
