"""Whole-network analysis: a :class:`Report` of per-leaf rows and totals.

Containers (:mod:`symcost.networks.containers`) walk a :class:`Flow` through their
children; ``analyze`` collects the rows and sums them into closed forms::

    >>> import symcost as sc
    >>> from symcost.symbols import H, W
    >>> net = sc.Sequential(sc.Conv2d(8, 3, padding=1), sc.ReLU(), sc.MaxPool2d(2))
    >>> rep = net.analyze(sc.Shape(3, H, W))
    >>> rep.total.params
    224
    >>> rep.subs(H=32, W=32).total.flops()
    456704
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import cached_property

import sympy

from ..core.arguments import display_name
from ..core.conventions import Convention, count_flops, get_convention
from ..core.cost import Cost
from ..core.counts import OpCounts, Params
from ..core.display_hook import Displayable
from ..core.errors import DivisibilityError, InvalidArgumentError, UnknownRowError
from ..core.evaluate import substitute
from ..core.receptive_field import ReceptiveField
from ..core.shape import Shape

#: Bytes per element of the dtypes ``param_bytes`` accepts.
DTYPE_BYTES = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}


def qualified(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


@dataclass(frozen=True)
class Flow:
    """What flows between layers during a walk: a shape, its receptive field, rows so far."""

    shape: Shape
    rf: ReceptiveField
    index: int = 0


@dataclass(frozen=True)
class Row:
    """One leaf layer of a report; ``count`` > 1 when a Repeat runs it several times."""

    name: str
    kind: str
    cost: Cost
    count: sympy.Expr
    rf: ReceptiveField

    def __post_init__(self) -> None:
        display_name(self.name, layer=f"layer of kind {self.kind}", argument="name")  # every printed row passes here
        if isinstance(self.count, int):
            object.__setattr__(self, "count", sympy.Integer(self.count))

    @property
    def params(self) -> sympy.Expr:
        return self.count * self.cost.params.total

    @property
    def macs(self) -> sympy.Expr:
        return self.count * self.cost.macs

    def flops(self, convention: object = "exact") -> sympy.Expr:
        return self.count * self.cost.flops(convention)

    @property
    def activations(self) -> sympy.Expr:
        return self.count * self.cost.activations

    def subs(self, values: dict | None = None, /, **by_name: object) -> "Row":
        return Row(self.name, self.kind, self.cost.subs(values, **by_name),
                   substitute(self.count, values, **by_name), self.rf.subs(values, **by_name))

    def map_exprs(self, fn) -> "Row":
        return Row(self.name, self.kind, self.cost.map_exprs(fn), fn(self.count), self.rf.map_exprs(fn))


@dataclass(frozen=True)
class Totals:
    """Sums over a report's rows; FLOPs default to the report's convention."""

    parameters: Params
    ops: OpCounts
    activations: sympy.Expr
    peak_activations: sympy.Expr
    convention: Convention
    rows: tuple = field(default=(), repr=False)

    @property
    def params(self) -> sympy.Expr:
        """Learned parameters (weights and biases)."""
        return self.parameters.total

    @property
    def buffers(self) -> sympy.Expr:
        return self.parameters.buffer_total

    @property
    def macs(self) -> sympy.Expr:
        return self.ops.macs

    def flops(self, convention: object = None) -> sympy.Expr:
        conv = get_convention(self.convention if convention is None else convention)
        if conv.rules:  # weighed layer by layer
            return sympy.Add(*(row.flops(conv) for row in self.rows))
        return count_flops(self.ops, conv)

    def param_bytes(self, dtype: str = "float32", *, buffers: bool = False) -> sympy.Expr:
        """Model size in bytes: parameters (and buffers) times bytes per element."""
        if dtype not in DTYPE_BYTES:
            raise InvalidArgumentError("param_bytes", "dtype", f"must be one of {', '.join(DTYPE_BYTES)}", dtype)
        count = self.params + (self.buffers if buffers else 0)
        return count * DTYPE_BYTES[dtype]


@dataclass(frozen=True)
class Assumption:
    """An expression a ``floor="divisible"`` report assumes is an integer, and why."""

    expr: sympy.Expr
    reason: str


@dataclass(frozen=True)
class Report(Displayable):
    """Per-leaf rows, the output shape and receptive field, and totals.

    ``floor`` is ``"exact"`` (every floor kept) or ``"divisible"``; a divisible
    report lists the ``assumptions`` its polynomials rest on, and ``subs``
    refuses numbers that break one.
    """

    model: str
    input_shape: Shape
    convention: Convention
    rows: tuple[Row, ...]
    out_shape: Shape
    rf: ReceptiveField
    floor: str = "exact"
    assumptions: tuple[Assumption, ...] = ()

    def __post_init__(self) -> None:
        display_name(self.model, layer="Report", argument="model")

    @cached_property
    def total(self) -> Totals:
        live = [sympy.Add(*(s.numel for s in row.cost.in_shapes)) + row.cost.activations for row in self.rows]
        return Totals(
            parameters=Params.sum(row.cost.params.scaled(row.count) for row in self.rows),
            ops=OpCounts.sum(row.cost.ops.scaled(row.count) for row in self.rows),
            activations=sympy.Add(*(row.activations for row in self.rows)),
            peak_activations=_largest(live) if live else self.input_shape.numel,
            convention=self.convention,
            rows=self.rows,
        )

    def check_assumptions(self, values: dict | None = None, /, **by_name: object) -> None:
        """Refuse numbers that make an assumed-integer expression a fraction."""
        for assumption in self.assumptions:
            value = substitute(assumption.expr, values, **by_name)
            if value.is_number and not value.is_integer:
                bound = ", ".join(f"{k}={v}" for k, v in {**(values or {}), **by_name}.items())
                raise DivisibilityError(
                    f"{self.model}: floor='divisible' assumes {assumption.expr} is an integer "
                    f"({assumption.reason}), but with {bound} it is {value}; use floor='exact' for these sizes"
                )

    def row(self, name: str) -> Row:
        """The row of the leaf layer called ``name`` (its qualified name)."""
        for row in self.rows:
            if row.name == name:
                return row
        raise UnknownRowError(f"no layer {name!r} in report {self.model!r}")

    def subs(self, values: dict | None = None, /, **by_name: object) -> "Report":
        """The same report with numbers substituted: exact integers throughout."""
        self.check_assumptions(values, **by_name)
        return replace(
            self,
            input_shape=self.input_shape.subs(values, **by_name),
            rows=tuple(row.subs(values, **by_name) for row in self.rows),
            out_shape=self.out_shape.subs(values, **by_name),
            rf=self.rf.subs(values, **by_name),
        )


#: A symbolic peak keeps at most this many candidates that no other dominates; past it, the rest are kept
#: unpruned (a longer ``Max``, still exact) so pruning stays linear in the number of layers.
MAX_PEAK_CANDIDATES = 64


def _largest(values: list[sympy.Expr]) -> sympy.Expr:
    """The maximum of ``values``; a symbolic one stays an unevaluated ``Max`` of the distinct values.

    Letting SymPy order hundreds of nested-floor formulas costs seconds and
    rarely decides anything; substituting numbers evaluates the ``Max``. A
    value another provably dominates is dropped; each value is expanded once
    and compared with at most :data:`MAX_PEAK_CANDIDATES` kept ones.
    """
    distinct = list(dict.fromkeys(values))
    if all(v.is_number for v in distinct):
        return max(distinct)
    kept: list[tuple[sympy.Expr, dict | None]] = []
    for value in distinct:
        terms = _polynomial_terms(value)
        if terms is not None and len(kept) <= MAX_PEAK_CANDIDATES:
            if any(other is not None and _dominates(other, terms) for _, other in kept):
                continue
            kept = [(v, t) for v, t in kept if t is None or not _dominates(terms, t)]
        kept.append((value, terms))
    return sympy.Max(*(v for v, _ in kept), evaluate=False) if len(kept) > 1 else kept[0][0]


#: Most terms an expansion symcost makes may produce (an upper estimate, checked before expanding).
MAX_EXPANDED_TERMS = 5_000


def expanded_terms(expr: sympy.Expr) -> int:
    """An upper bound on the terms of ``sympy.expand(expr)``, from its tree alone (nothing is expanded)."""
    if isinstance(expr, sympy.Add):
        return sum(expanded_terms(a) for a in expr.args)
    if isinstance(expr, sympy.Mul):
        return math.prod(expanded_terms(a) for a in expr.args)
    if isinstance(expr, sympy.Pow) and expr.exp.is_Integer and expr.exp > 1:
        return expanded_terms(expr.base) ** min(int(expr.exp), 64)
    return 1


def _polynomial_terms(value: sympy.Expr) -> dict | None:
    """``value`` as {monomial: numeric coefficient}, or None when it is not a polynomial (floors, fractions)."""
    if expanded_terms(value) > MAX_EXPANDED_TERMS:
        return None  # kept in the Max as it is: comparing would cost more than it saves
    if value.has(sympy.floor, sympy.ceiling, sympy.Piecewise, sympy.Min, sympy.Max):
        return None
    for expand in (sympy.expand_mul, sympy.expand):  # expand_mul is enough for products of sizes, and cheaper
        terms = expand(value).as_coefficients_dict()
        if all(c.is_number for c in terms.values()) and all(
                base.is_Symbol and exp.is_Integer and exp > 0 or base == 1
                for monomial in terms for base, exp in monomial.as_powers_dict().items()):
            return dict(terms)
    return None


def _dominates(big: dict, small: dict) -> bool:
    """``big >= small`` for all positive symbols: every coefficient of their difference is >= 0."""
    return all(big.get(m, 0) - small.get(m, 0) >= 0 for m in {*big, *small})
