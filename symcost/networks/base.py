"""The base of every network (containers and graphs): ``walk`` a flow through the children, ``analyze`` a shape.

    >>> import symcost as sc
    >>> sc.Sequential(sc.Conv2d(8, 3), sc.ReLU()).analyze(sc.Shape(3, 8, 8)).total.params
    224
"""

from __future__ import annotations

from ..core.arguments import is_strict
from ..core.conventions import Convention, get_convention
from ..core.errors import InvalidArgumentError
from ..core.receptive_field import ReceptiveField
from ..core.shape import Shape
from .floors import FLOOR_MODES, divisible_report
from .report import Flow, Report, Row, TensorRef


class Network:
    """Base of containers: anything with ``walk(flow, prefix)``, analyzable as a whole."""

    name: str | None
    #: Tensors of the model that no layer uses (see :class:`~symcost.networks.report.UnusedParams`).
    unused_params: tuple = ()
    #: What the model's reader recorded for the user (``Model.notes``); its reports carry them.
    notes: tuple = ()

    def walk(self, flow: Flow, prefix: str) -> tuple[list[Row], Flow]:
        raise NotImplementedError

    @property
    def root_prefix(self) -> str:
        """How the rows' names start: the network's own name, if any."""
        return self.name or ""

    @property
    def default_input(self) -> Shape | None:
        """The input ``analyze`` uses when given none (a model's design input)."""
        return None

    def analyze(self, input_shape: Shape | tuple | None = None, convention: object = "exact", *,
                floor: str = "exact", model: str | None = None, batch: object = 1) -> Report:
        """Cost every leaf on ``input_shape`` (one sample) and total them under ``convention``.

        ``floor="exact"`` keeps every floor; ``floor="divisible"`` assumes every
        division is exact and returns polynomials (see :mod:`symcost.networks.floors`).
        ``batch`` (an int or a symbol such as ``symcost.symbols.B``) multiplies
        operations and activations, not parameters; costs are per sample by default.
        """
        if floor not in FLOOR_MODES:
            raise InvalidArgumentError("analyze", "floor", f"must be one of {', '.join(FLOOR_MODES)}", floor)
        if input_shape is None:
            input_shape = self.default_input
            if input_shape is None:
                raise InvalidArgumentError("analyze", "input_shape", "is needed (this network has no default)", None)
        shape = input_shape if isinstance(input_shape, Shape) else Shape(*input_shape)
        name = model or self.name or type(self).__name__
        if floor == "divisible":
            report = divisible_report(self, shape, get_convention(convention), name)
        else:
            report = self.report(shape, get_convention(convention), name)
        return report if batch == 1 else report.batched(batch)

    def report(self, shape: Shape, convention: Convention, model: str) -> Report:
        """The exact-floor report on ``shape`` (what ``analyze`` returns by default).

        A network is immutable, so its report on the same shape, convention and name is kept (the last few):
        from_torch's strict reading (:func:`~symcost.core.arguments.strict`) is what a later ``analyze()``
        returns. A report made outside ``strict`` is made again inside it, so strict checks are never skipped.
        """
        key = (shape, convention, model)
        strict = is_strict()
        kept = self.__dict__.setdefault("_reports", {})
        hit = kept.get(key)
        if hit is not None and (hit[1] or not strict):
            return hit[0]
        report = self._report(shape, convention, model)
        if len(kept) >= _REPORTS_KEPT:
            del kept[next(iter(kept))]
        kept[key] = (report, strict)
        return report

    def _report(self, shape: Shape, convention: Convention, model: str) -> Report:
        rows, out = self.walk(Flow(shape, ReceptiveField.of_input(shape), tensor=TensorRef()), self.root_prefix)
        rf = out.rf if out.rf is not None else ReceptiveField.unknown(NO_INPUT)
        return Report(model=model, input_shape=shape, convention=convention,
                      rows=tuple(rows), out_shape=out.shape, rf=rf, unused_params=tuple(self.unused_params),
                      notes=tuple(str(n) for n in self.notes) + _undefined_fields(rows, rf))


#: How many reports (shape, convention, name) each network keeps.
_REPORTS_KEPT = 4

#: Why a network's output has no receptive field when it is computed from constants and parameters only.
NO_INPUT = "the output is computed from constants and parameters only (it sees no input)"


def _undefined_fields(rows: list[Row], rf: ReceptiveField) -> tuple[str, ...]:
    """One note per distinct reason a row's or the output's receptive field is undefined."""
    reasons = dict.fromkeys(f.undefined for f in (*(row.rf for row in rows), rf) if f.undefined)
    return tuple(f"receptive field undefined: {reason}" for reason in reasons)
