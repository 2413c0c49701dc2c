"""The roofline of a report on a device: per layer and in total, as formulas in the remaining symbols.

For each row, with ``F`` its FLOPs and ``Q`` the bytes it moves (:mod:`symcost.core.traffic`),
on a device of peak ``P`` FLOP/s (for the dtype) and bandwidth ``M`` bytes/s:

* arithmetic intensity ``I = F/Q`` (FLOPs per byte);
* time bound ``Max(F/P, Q/M)`` seconds (Williams, Waterman and Patterson, CACM 2009);
* the bound that holds: ``compute`` when ``I >= P/M`` (the ridge point), else ``memory``;
  with sizes left symbolic, the condition itself.

Totals: ``layers_time``, the sum of the rows' bounds (one kernel after another), and
``time``, ``Max(sum F/P, sum Q/M)``, the bound for the whole model with compute and
traffic overlapped (the smaller, an upper bound on throughput)::

    >>> import symcost as sc
    >>> rep = sc.Sequential(sc.Linear(4096, bias=False)).analyze(sc.Shape(4096))
    >>> rf = rep.roofline("h100-sxm", "bfloat16")
    >>> rf.total.intensity, rf.total.bound
    (2048/2049, 'memory')

FLOPs follow the ``flops2`` convention by default (2 per multiply-accumulate of
convolutions, linear layers and matrix products, nothing else): datasheet peaks
are tensor-core multiply-accumulate rates counted as 2 FLOPs each, and only
those operations run on tensor cores. Elementwise layers then have no FLOPs and
are bound by memory, as they are on such hardware. Pass ``convention=`` to change it.

Crossovers (:func:`compute_bound_at`) solve ``I(x) = P/M`` for a symbol, such as the batch
size ``B`` at which a layer or a whole model turns compute-bound;
:func:`tokens_per_second` is the rate bound of a decode step, ``1/time``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import sympy

from ..core.conventions import get_convention
from ..core.display_hook import Tabular
from ..core.errors import InvalidArgumentError, UnknownRowError
from ..core.evaluate import substitute
from ..core.hardware import Hardware, get_hardware
from ..core.traffic import Traffic
from .report import MAX_EXPANDED_TERMS, expanded_terms

#: The convention FLOPs are counted in unless told: the one datasheet peaks are quoted in.
DEFAULT_CONVENTION = "flops2"


@dataclass(frozen=True)
class RooflinePoint:
    """One row (or the total) of a roofline: FLOPs and bytes on a device."""

    name: str
    kind: str
    flops: sympy.Expr
    traffic: Traffic
    peak: sympy.Expr
    bandwidth: sympy.Expr

    @property
    def bytes(self) -> sympy.Expr:
        return self.traffic.total

    @cached_property
    def intensity(self) -> sympy.Expr | None:
        """FLOPs per byte; None when the row moves no byte (a view)."""
        if self.bytes == 0:
            return None
        ratio = self.flops / self.bytes
        return ratio if ratio.is_number or ratio.has(sympy.floor, sympy.ceiling) else sympy.cancel(ratio)

    @property
    def compute_time(self) -> sympy.Expr:
        return self.flops / self.peak

    @property
    def memory_time(self) -> sympy.Expr:
        return self.bytes / self.bandwidth

    @cached_property
    def time(self) -> sympy.Expr:
        """The time bound ``Max(F/P, Q/M)`` in seconds (left unevaluated while symbols remain)."""
        decided = self.compute_bound
        if decided is sympy.true:
            return self.compute_time
        if decided is sympy.false:
            return self.memory_time
        return sympy.Max(self.compute_time, self.memory_time, evaluate=False)

    @cached_property
    def compute_bound(self) -> sympy.Basic:
        """The condition under which compute bounds the time: ``F*M >= P*Q`` (True/False once numbers decide)."""
        gap = self.flops * self.bandwidth - self.peak * self.bytes
        if gap.is_number:
            return sympy.true if gap >= 0 else sympy.false
        if self.flops == 0:  # bytes are positive: no FLOPs is memory-bound at every size
            return sympy.false
        return sympy.Ge(self.flops * self.bandwidth, self.peak * self.bytes, evaluate=False)

    @property
    def bound(self) -> object:
        """``"compute"``, ``"memory"``, ``"none"`` (nothing to do), or, undecided, the condition for
        compute as ``intensity >= ridge``."""
        if self.flops == 0 and self.bytes == 0:
            return "none"
        condition = self.compute_bound
        if condition is sympy.true:
            return "compute"
        if condition is sympy.false:
            return "memory"
        return sympy.Ge(self.intensity, self.peak / self.bandwidth, evaluate=False)

    def map_exprs(self, fn) -> "RooflinePoint":
        return replace(self, flops=fn(self.flops), traffic=self.traffic.map_exprs(fn))


@dataclass(frozen=True)
class Roofline(Tabular):
    """A report's roofline on ``hardware`` for ``dtype``: ``rows`` (one per report row) and ``total``."""

    model: str
    hardware: Hardware
    dtype: str
    convention: str
    rows: tuple[RooflinePoint, ...]
    total: RooflinePoint

    @property
    def ridge(self) -> sympy.Expr:
        """Peak FLOP/s over bandwidth: the intensity where the roofs meet."""
        return self.hardware.ridge(self.dtype)

    @property
    def time(self) -> sympy.Expr:
        """The whole model's bound, compute and traffic overlapped: ``Max(sum F/P, sum Q/M)``."""
        return self.total.time

    @property
    def layers_time(self) -> sympy.Expr:
        """The sum of the rows' bounds: each layer a kernel of its own, one after another."""
        return sympy.Add(*(row.time for row in self.rows))

    def row(self, name: str) -> RooflinePoint:
        for row in self.rows:
            if row.name == name:
                return row
        raise UnknownRowError(f"no layer {name!r} in the roofline of {self.model!r}")

    def subs(self, values: dict | None = None, /, **by_name: object) -> "Roofline":
        """The same roofline with numbers substituted (exact)."""
        fn = lambda e: substitute(e, values, **by_name)  # noqa: E731
        return replace(self, rows=tuple(r.map_exprs(fn) for r in self.rows), total=self.total.map_exprs(fn))

    def __repr__(self) -> str:
        return (f"Roofline({self.model!r} on {self.hardware.key}, {self.dtype}: {len(self.rows)} rows, "
                f"time={self.time})")


def roofline(report, hardware: object, dtype: str = "bfloat16", *, convention: object = DEFAULT_CONVENTION,
             extra: dict | None = None) -> Roofline:
    """The roofline of ``report`` on ``hardware`` (a preset name or a :class:`Hardware`) for ``dtype``.

    ``extra`` maps more names to hardware (the entries of :func:`~symcost.core.hardware.load_hardware`).
    """
    hw = get_hardware(hardware, extra)
    peak, bandwidth = hw.peak_flops(dtype), hw.bandwidth
    conv = get_convention(convention)
    rows = tuple(RooflinePoint(row.name, row.kind, row.flops(conv), row.traffic(dtype), peak, bandwidth)
                 for row in report.rows)
    total = RooflinePoint("total", "", report.total.flops(conv), report.total.traffic(dtype), peak, bandwidth)
    return Roofline(report.model, hw, dtype, conv.name, rows, total)


#: Highest degree in the solved-for symbol a crossover accepts (bounds the solving).
MAX_CROSSOVER_DEGREE = 2


def compute_bound_at(point: RooflinePoint, symbol: sympy.Symbol) -> sympy.Expr:
    """The value of ``symbol`` at which ``point`` (a roofline row or total) turns compute-bound.

    Solves ``F*M = P*Q`` for ``symbol``. For a batch size ``B`` (``report.batched(B)``) FLOPs
    and activation bytes grow with ``B`` while weights are read once, so
    ``B* = P*W / (f*M - P*a)`` with ``F = f*B``, ``Q = W + a*B``. Returns ``0`` when the
    point is compute-bound for every positive value, ``oo`` when for none; with
    other symbols left free, the root as a formula: it is the crossing where it is positive
    (a negative value, once numbers are put in, means no value crosses).
    """
    if not isinstance(symbol, sympy.Symbol):
        raise InvalidArgumentError("compute_bound_at", "symbol", "must be a SymPy symbol such as symcost.symbols.B", symbol)
    gap = point.flops * point.bandwidth - point.peak * point.bytes
    if expanded_terms(gap) > MAX_EXPANDED_TERMS:  # bound the work: expanding could take minutes
        raise InvalidArgumentError("compute_bound_at", "symbol", f"cannot be solved for in {point.name!r}: its formulas "
                                   f"expand to more than {MAX_EXPANDED_TERMS:,} terms; bind some sizes first", symbol)
    gap = sympy.expand(gap)
    if not gap.has(symbol):
        decided = sympy.Ge(gap, 0)
        if decided in (sympy.true, sympy.false):
            return sympy.Integer(0) if decided is sympy.true else sympy.oo
        raise InvalidArgumentError("compute_bound_at", "symbol", f"does not change the intensity of {point.name!r}", symbol)
    try:
        poly = sympy.Poly(gap, symbol)
    except sympy.PolynomialError:
        poly = None
    if poly is None or poly.degree() > MAX_CROSSOVER_DEGREE or any(c.has(symbol) for c in poly.all_coeffs()):
        raise InvalidArgumentError("compute_bound_at", "symbol", f"must enter {point.name!r}'s FLOPs and bytes as a "
                                   f"polynomial of degree at most {MAX_CROSSOVER_DEGREE}", symbol)
    coeffs = poly.all_coeffs()
    if poly.degree() == 1:
        a1, a0 = coeffs
        if a1.is_number and a0.is_number:
            if a1 > 0:
                return sympy.Max(-a0 / a1, 0)
            return sympy.Integer(0) if a0 >= 0 and a1 == 0 else sympy.oo
        return sympy.factor(-a0 / a1)
    roots = [r for r in sympy.solve(poly.as_expr(), symbol) if r.is_real is not False and r.is_positive is not False]
    if not roots:
        return sympy.oo
    return roots[0] if len(roots) == 1 else sympy.Max(*roots)


def tokens_per_second(report, hardware: object, dtype: str = "bfloat16", *,
                      convention: object = DEFAULT_CONVENTION) -> sympy.Expr:
    """The rate bound of a decode step: ``1/Max(F/P, Q/M)`` steps (tokens per sequence) a second.

    ``report`` is one decode step (a query of one token attending to a cache of ``T`` keys);
    the result is a formula in its remaining symbols, such as the cache length.
    """
    return 1 / roofline(report, hardware, dtype, convention=convention).time
