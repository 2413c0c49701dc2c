"""Which tensors require grad, in one place, from the tensor references of a report's rows.

A tensor requires grad when it was computed from a parameter. The network's input and token ids do not;
a row that holds parameters (own, tied, or a ``Parameter`` operand) makes an output that does, and so does
a row that reads such a tensor. Training FLOPs (:mod:`symcost.networks.training`: an input that needs no
gradient costs no grad-input) and activation memory (:mod:`symcost.networks.activation_memory`: autograd
saves nothing for a row it does not record) both read :attr:`Report.requires_grad`::

    >>> import symcost as sc
    >>> rep = sc.Sequential(sc.ReLU(), sc.Linear(4), sc.ReLU()).analyze(sc.Shape(4))
    >>> [g.needs for g in rep.requires_grad]
    [(False,), (False,), (True,)]

A symbolic ``Repeat`` of ``t`` passes has one row per layer of its block for all passes. Its first
pass reads the tensor before it; every other pass reads the previous pass's output. Whether the
block's output requires grad is a monotone function of whether its input does (a constant or the
identity), so it is the same after every pass: only the first pass may differ from the others. A row
inside ``k`` symbolic Repeats thus has up to ``2**k`` cases (the first pass or a later one, at each
level), each a share of the row's instances: ``1/t`` for a first pass, ``1 - 1/t`` for the others.
:attr:`RowGrad.cases` lists them, so a block whose first pass reads the network's input is counted
exactly (its first pass computes no grad-input before its first parameter). Activation memory reads
:attr:`RowGrad.needs` and :attr:`RowGrad.recorded` (in some pass): a symbolic Repeat's row that
records only after the first pass is counted in every pass, an upper bound that differs only when an
op before the block's first parameter keeps a tensor no later op keeps (numbers for ``times`` unroll it).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import sympy

from ..core.errors import InvalidArgumentError
from .report import CopyRef, RepeatRef, Report, Row, TensorRef

#: Most symbolic Repeats one row may sit in (its cases double with each).
MAX_SYMBOLIC_NESTING = 10


@dataclass(frozen=True)
class RowGrad:
    """Whether a row's inputs require grad: ``cases`` are (one flag per input, share of the row's
    instances) pairs whose shares sum to 1; ``records`` is the share in which autograd records the row
    (it holds parameters or an input requires grad)."""

    cases: tuple[tuple[tuple[bool, ...], sympy.Expr], ...]
    records: sympy.Expr

    @property
    def needs(self) -> tuple[bool, ...]:
        """Per input: requires grad in some instance of the row."""
        flags = [needs for needs, share in self.cases if share != 0]
        return tuple(any(column) for column in zip(*flags)) if flags else ()

    @property
    def recorded(self) -> bool:
        """Autograd records the row in some instance."""
        return self.records != 0


def owns_parameters(row: Row) -> bool:
    """Whether a row's output requires grad whatever its inputs: it holds parameters (its own, or tied
    ones another row counted) or it is a ``Parameter`` used as an operand."""
    if row.cost.params.total != 0 or row.kind == "Parameter":
        return True
    layer = row.cost.layer
    if row.shared is None or layer is None:
        return False
    return layer.cost(*row.cost.in_shapes).params.total != 0  # the tied row's own tensors


def requires_grad(report: Report) -> tuple[RowGrad, ...]:
    """Per row of ``report``, which inputs require grad (module docstring); ``Report.requires_grad`` caches it."""
    return _Dataflow(report.rows).run()


class _Dataflow:
    def __init__(self, rows: tuple[Row, ...]):
        self.rows = rows
        self.owns = [owns_parameters(row) for row in rows]
        self.times: dict[tuple[int, int], sympy.Expr] = {}  # span of each symbolic Repeat -> its passes
        for row in rows:
            for ref in row.inputs:
                self._collect(ref)
        self.memo: dict[tuple[int, frozenset], bool] = {}

    def _collect(self, ref: object) -> None:
        while isinstance(ref, CopyRef):
            ref = ref.of
        if isinstance(ref, RepeatRef):
            if ref.carried:
                self.times[ref.span] = ref.times
            self._collect(ref.first)
            self._collect(ref.last)

    def _inputs(self, p: int) -> tuple:
        row = self.rows[p]
        if not row.inputs and row.cost.in_shapes:  # a row made by hand: which tensors it reads is unknown
            return (None,) * len(row.cost.in_shapes)
        return row.inputs

    def _spans(self, p: int) -> list[tuple[int, int]]:
        return sorted(s for s in self.times if s[0] <= p < s[1])

    def row(self, p: int, later: frozenset) -> bool:
        """Row ``p``'s output requires grad on the passes ``later`` names (spans in it: not the first pass)."""
        later = frozenset(s for s in later if s[0] <= p < s[1])
        key = (p, later)
        if key not in self.memo:
            self.memo[key] = self.owns[p] or any(self.ref(ref, later) for ref in self._inputs(p))
        return self.memo[key]

    def ref(self, ref: object, later: frozenset) -> bool:
        while isinstance(ref, CopyRef):
            ref = ref.of
        if ref is None:  # no row recorded which tensor it is: taken as requiring grad
            return True
        if isinstance(ref, TensorRef):
            return ref.row is not None and self.row(ref.row, later)
        rest = later - {ref.span}
        if ref.carried and ref.span not in later:  # the first pass reads the tensor before the Repeat
            return self.ref(ref.first, rest)
        # a later pass reads the previous pass's output, and the rows after the Repeat the last pass's:
        # the same after every pass (module docstring), so as after the first
        return self.ref(ref.last, rest)

    def run(self) -> tuple[RowGrad, ...]:
        spans = [self._spans(p) for p in range(len(self.rows))]
        for p, mine in enumerate(spans):
            if len(mine) > MAX_SYMBOLIC_NESTING:
                raise InvalidArgumentError(f'row "{self.rows[p].name}"', "repeats",
                                           f"may sit in at most {MAX_SYMBOLIC_NESTING} symbolic Repeats to say "
                                           "which of its inputs require grad; substitute numbers for the repeat "
                                           "counts", len(mine))
        depth = max((len(s) for s in spans), default=0)
        for size in range(depth + 1):  # fewer later passes first: a later pass reads the pass before it
            for p, mine in enumerate(spans):
                for later in combinations(mine, size):
                    self.row(p, frozenset(later))
        out = []
        for p, mine in enumerate(spans):
            cases: dict[tuple[bool, ...], sympy.Expr] = {}
            records = sympy.Integer(0)
            for size in range(len(mine) + 1):
                for later in combinations(mine, size):
                    share = sympy.Mul(*((1 - 1 / self.times[s]) if s in later else 1 / self.times[s] for s in mine))
                    needs = tuple(self.ref(ref, frozenset(later)) for ref in self._inputs(p))
                    cases[needs] = cases.get(needs, sympy.Integer(0)) + share
                    if self.owns[p] or any(needs):
                        records += share
            out.append(RowGrad(tuple((n, sympy.factor_terms(s)) for n, s in cases.items()), sympy.factor_terms(records)))
        return tuple(out)
