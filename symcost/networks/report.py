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
from ..core.dtypes import bytes_per_element
from ..core.arguments import positive_int
from ..core.cost import bound_text
from ..core.errors import DivisibilityError, InvalidArgumentError, SymcostError, UnknownRowError, with_context
from ..core.evaluate import substitute
from ..core.receptive_field import ReceptiveField
from ..core.shape import Shape
from ..core.traffic import Traffic

#: Bytes per element of the dtypes ``param_bytes`` accepts.


def qualified(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


@dataclass(frozen=True)
class TensorRef:
    """Which tensor a row reads: output ``output`` of the row at position ``row`` of the report
    (``row=None``: the network's input). Activation memory follows these to count each storage once."""

    row: int | None = None
    output: int = 0

    def map_exprs(self, fn) -> "TensorRef":
        return self


@dataclass(frozen=True)
class RepeatRef:
    """A tensor seen across a Repeat that runs its block ``times`` times (a symbol, or too many to unroll).

    ``carried=True``: the block's input, which is ``first`` on the first pass and the block's own
    output ``last`` (of the pass before) on the others. ``carried=False``: the block's output as the
    rows after the Repeat see it, the ``last`` pass's only. ``span`` is the block's rows (positions).
    """

    first: object
    last: object
    times: sympy.Expr
    span: tuple[int, int]
    carried: bool
    #: how the block's rows are named in one pass (``transformer.h.i``)
    name: str = ""

    def map_exprs(self, fn) -> "RepeatRef":
        sub = lambda ref: ref.map_exprs(fn) if ref is not None else None
        return RepeatRef(sub(self.first), sub(self.last), fn(self.times), self.span, self.carried, self.name)


@dataclass(frozen=True)
class CopyRef:
    """A copy of tensor ``of`` that no row made (``F.pad`` before a concatenation): its own storage,
    requiring grad when ``of`` does."""

    of: object

    def map_exprs(self, fn) -> "CopyRef":
        return CopyRef(self.of.map_exprs(fn) if self.of is not None else None)


@dataclass(frozen=True)
class Flow:
    """What flows between layers during a walk: a shape, its receptive field, rows so far.

    ``rf`` is None for a tensor computed from no input (a parameter used as an operand).
    ``tensor`` says which row made it (a :class:`TensorRef`, :class:`RepeatRef` or :class:`CopyRef`;
    None: unknown). Whether it requires grad follows from these (:mod:`symcost.networks.dataflow`).
    """

    shape: Shape
    rf: ReceptiveField | None
    index: int = 0
    tensor: object = None


@dataclass(frozen=True)
class Row:
    """One leaf layer of a report; ``count`` > 1 when a Repeat runs it several times.

    ``cost`` is per sample; ``batch`` samples multiply the operations and
    activations, never the parameters.

    ``shared`` names the earlier row that counted this layer's tensors when
    the two use the same ones (a tied weight, a module called twice): the
    shared part is counted there, not here.
    """

    name: str
    kind: str
    cost: Cost
    count: sympy.Expr
    rf: ReceptiveField
    batch: sympy.Expr = sympy.Integer(1)
    shared: str | None = None
    #: the ``times`` of every symbolic Repeat around this row (``count`` is their product)
    repeats: tuple[sympy.Expr, ...] = ()
    #: which tensor each input is (:class:`TensorRef`, :class:`RepeatRef`, None where no row made it)
    inputs: tuple = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        display_name(self.name, layer=f"layer of kind {self.kind}", argument="name")  # every printed row passes here
        for name in ("count", "batch"):
            if isinstance(getattr(self, name), int):
                object.__setattr__(self, name, sympy.Integer(getattr(self, name)))

    @property
    def params(self) -> sympy.Expr:
        return self.count * self.cost.params.total

    @property
    def runs(self) -> sympy.Expr:
        """How many times the layer runs in one forward pass: ``count`` times ``batch`` samples."""
        return self.count * self.batch

    @property
    def macs(self) -> sympy.Expr:
        return self.runs * self.cost.macs

    def flops(self, convention: object = "exact") -> sympy.Expr:
        return self.runs * self.cost.flops(convention)

    @property
    def activations(self) -> sympy.Expr:
        return self.runs * self.cost.activations

    def traffic(self, dtype: str = "float32") -> Traffic:
        """Bytes the row moves in one pass: its weights ``count`` times, the rest for every sample
        (a tied weight is read by every layer that uses it, though counted once as a parameter)."""
        cost = self.cost
        if self.shared is not None and cost.layer is not None:  # the row's params leave out the shared part
            cost = replace(cost, params=cost.layer.cost(*cost.in_shapes).params)
        return cost.traffic(dtype).scaled(self.count, self.runs)

    def check(self, values: dict | None = None, /, **by_name: object) -> None:
        """Re-run every rule this row was built under, with numbers: its Repeats' ``times``, its layer's rules."""
        for times in self.repeats:
            positive_int(substitute(times, values, **by_name), layer="Repeat", argument="times")
        self.cost.check(values, **by_name)

    def subs(self, values: dict | None = None, /, **by_name: object) -> "Row":
        """The row with numbers substituted, its rules checked first (:meth:`check`)."""
        try:
            self.check(values, **by_name)
        except SymcostError as err:
            raise with_context(err, f'with {bound_text(values, by_name)}: layer "{self.name}" ({self.kind})') from None
        return self.substituted(values, **by_name)

    def substituted(self, values: dict | None = None, /, **by_name: object) -> "Row":
        """Symbols replaced without re-checking the rules; the cost's layer gets the numbers too
        (what reads its arguments, such as a traffic hook, sees the same sizes as the counts)."""
        row = self.map_exprs(lambda e: substitute(e, values, **by_name))
        layer = self.cost.layer
        if layer is not None and hasattr(layer, "subs"):
            row = replace(row, cost=replace(row.cost, layer=layer.subs(values, **by_name)))
        return row

    def map_exprs(self, fn) -> "Row":
        return Row(self.name, self.kind, self.cost.map_exprs(fn), fn(self.count), self.rf.map_exprs(fn),
                   fn(self.batch), self.shared, tuple(fn(t) for t in self.repeats),
                   tuple(ref.map_exprs(fn) if ref is not None else None for ref in self.inputs))


@dataclass(frozen=True)
class UnusedParams:
    """Tensors of a model that no row uses (an auxiliary head the forward never calls).

    ``name`` is the module that holds them all, or the tensor's own name;
    ``params`` counts its parameter elements, ``buffers`` its buffer elements.
    A report counts them in its totals and lists them apart.
    """

    name: str
    params: sympy.Expr = sympy.Integer(0)
    buffers: sympy.Expr = sympy.Integer(0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", sympy.Integer(self.params))
        object.__setattr__(self, "buffers", sympy.Integer(self.buffers))

    @property
    def as_params(self) -> Params:
        return Params(weight=self.params, buffers=(("unused", self.buffers),) if self.buffers else ())


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
        """Learned parameters (weights and biases), each tensor once, unused ones included."""
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

    def traffic(self, dtype: str = "float32") -> Traffic:
        """Bytes every row moves in one pass, summed (:meth:`Row.traffic`)."""
        return Traffic.sum(row.traffic(dtype) for row in self.rows)

    def param_bytes(self, dtype: str = "float32", *, buffers: bool = False) -> sympy.Expr:
        """Model size in bytes: parameters (and buffers) times bytes per element."""
        size = bytes_per_element(dtype, owner="param_bytes")
        count = self.params + (self.buffers if buffers else 0)
        return count * size


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
    refuses numbers that break one. ``unused_params`` lists tensors of the
    model that no row uses; the totals count them. ``notes`` are what the
    model's reader recorded for the user (a size its code fixes, constants
    folded, a fallback reader); every output format prints them.
    """

    model: str
    input_shape: Shape
    convention: Convention
    rows: tuple[Row, ...]
    out_shape: Shape
    rf: ReceptiveField
    floor: str = "exact"
    assumptions: tuple[Assumption, ...] = ()
    #: samples per forward pass: an int or a symbol (``symcost.symbols.B``); rows are per sample when 1
    batch: sympy.Expr = sympy.Integer(1)
    unused_params: tuple[UnusedParams, ...] = ()
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        display_name(self.model, layer="Report", argument="model")

    @cached_property
    def total(self) -> Totals:
        live = [sympy.Add(*(s.numel for s in row.cost.in_shapes)) + row.cost.activations for row in self.rows]
        return Totals(
            parameters=Params.sum([*(row.cost.params.scaled(row.count) for row in self.rows),
                                   *(u.as_params for u in self.unused_params)]),
            ops=OpCounts.sum(row.cost.ops.scaled(row.runs) for row in self.rows),
            activations=sympy.Add(*(row.activations for row in self.rows)),
            peak_activations=self.batch * (_largest(live) if live else self.input_shape.numel),
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

    def __str__(self) -> str:
        """The text table (``print(report)``), not the dataclass fields."""
        return self.to_text().rstrip("\n")

    def row(self, name: str) -> Row:
        """The row of the leaf layer called ``name`` (its qualified name)."""
        for row in self.rows:
            if row.name == name:
                return row
        raise UnknownRowError(f"no layer {name!r} in report {self.model!r}")

    def check(self, values: dict | None = None, /, **by_name: object) -> None:
        """Refuse numbers that break a rule of any layer (or the input shape), as construction would.

        The error is the layer's own message, led by the numbers and the row
        (``with H=31, W=31: layer 17 "features.16" (MaxPool2d) on input ...``).
        """
        self.check_assumptions(values, **by_name)
        bound = bound_text(values, by_name)
        try:
            self.input_shape.subs(values, **by_name)
        except SymcostError as err:
            raise with_context(err, f"with {bound}: input {self.input_shape}") from None
        if self.batch.free_symbols:  # a symbolic batch must stay a positive integer, as analyze requires
            try:
                positive_int(substitute(self.batch, values, **by_name), layer="analyze", argument="batch")
            except SymcostError as err:
                raise with_context(err, f"with {bound}") from None
        checked: set = set()
        for index, row in enumerate(self.rows):
            key = (row.cost.layer, row.cost.in_shapes, row.repeats)
            if key in checked:  # deep networks repeat a block's layers on the same shapes
                continue
            try:
                row.check(values, **by_name)
            except SymcostError as err:
                raise with_context(err, f"with {bound}: {_where(index, row, values, by_name)}") from None
            checked.add(key)

    def subs(self, values: dict | None = None, /, **by_name: object) -> "Report":
        """The same report with numbers substituted: exact integers throughout.

        Every layer's rules are checked on the numbers first (:meth:`check`).
        """
        self.check(values, **by_name)
        return replace(
            self,
            input_shape=self.input_shape.subs(values, **by_name),
            rows=tuple(row.substituted(values, **by_name) for row in self.rows),
            out_shape=self.out_shape.subs(values, **by_name),
            rf=self.rf.subs(values, **by_name),
            batch=substitute(self.batch, values, **by_name),
        )

    @cached_property
    def requires_grad(self) -> tuple:
        """Per row, which inputs require grad (:func:`symcost.networks.dataflow.requires_grad`)."""
        from .dataflow import requires_grad

        return requires_grad(self)

    def roofline(self, hardware: object, dtype: str = "bfloat16", **options: object):
        """The roofline on ``hardware`` (a preset name or Hardware) for ``dtype``: see :mod:`symcost.networks.roofline`."""
        from .roofline import roofline

        return roofline(self, hardware, dtype, **options)

    def training(self, dtype: str = "float32", optimizer: str = "adamw", recompute: str = "none") -> object:
        """One training step: FLOPs and memory ledger (:mod:`symcost.networks.training`)."""
        from .training import training

        return training(self, dtype=dtype, optimizer=optimizer, recompute=recompute)

    def view(self, tool: str, **options: object) -> object:
        """The report as a seed tool prints it, ``"torchstat"`` or ``"torchsummary"`` (numbers only):
        see :func:`symcost.printing.peer_views.peer_view`."""
        from ..core.display_hook import peer_view

        return peer_view(self, tool, **options)

    def batched(self, batch: object) -> "Report":
        """The same report for ``batch`` samples per pass (an int or a symbol): operations and
        activations scale, parameters do not.

            >>> import symcost as sc
            >>> from symcost.symbols import B
            >>> rep = sc.Sequential(sc.Linear(10)).analyze(sc.Shape(4)).batched(B)
            >>> rep.total.params, rep.total.macs
            (50, 40*B)
        """
        b = positive_int(batch, layer="analyze", argument="batch")
        return replace(self, rows=tuple(replace(row, batch=b) for row in self.rows), batch=b)


def _where(index: int, row: Row, values: dict | None, by_name: dict) -> str:
    """DESIGN's ``layer N "name" (Kind) on input SHAPE`` for a row, its input shown with the numbers if valid."""
    try:
        shapes = ", ".join(str(s.subs(values, **by_name)) for s in row.cost.in_shapes)
    except SymcostError:
        shapes = ", ".join(str(s) for s in row.cost.in_shapes)
    return f'layer {index} "{row.name}" ({row.kind}) on input {shapes}'


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
