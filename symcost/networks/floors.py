"""Floor modes: ``exact`` keeps every floor; ``divisible`` assumes each division is exact.

In divisible mode a symbolic side ``H`` is put on the grid of the network's
total stride ``j`` (``H = j*h``), where every strided window lands on whole
pixels and SymPy resolves each floor to an affine expression. A floor that
still remains (an adaptive pool's bins, a symbolic stride) is taken as an
exact division, ``floor(x) -> x``, and ``x`` joins the report's assumptions.
Substituting ``h = H/j`` back gives polynomials, and ``Report.subs`` refuses
numbers that break an assumption::

    >>> import symcost as sc
    >>> from symcost.symbols import H, W
    >>> net = sc.Sequential(sc.Conv2d(8, 3, stride=2, padding=1), sc.MaxPool2d(2))
    >>> rep = net.analyze(sc.Shape(3, H, W), floor="divisible")
    >>> rep.total.macs
    54*H*W
    >>> [a.expr for a in rep.assumptions]
    [H/4, W/4]
    >>> rep.subs(H=224, W=224).total.macs == net.analyze(sc.Shape(3, 224, 224)).total.macs
    True
"""

from __future__ import annotations

from dataclasses import replace
from math import lcm

import sympy

from ..core.errors import InvalidArgumentError
from ..core.evaluate import bounded_sum
from .report import Assumption, Report, expanded_terms
from ..core.shape import Shape

FLOOR_MODES = ("exact", "divisible")

#: Most terms (estimated before expanding) the polynomials of one divisible report may have in all;
#: ResNet-152 needs about 15,000, six convolutions with symbolic kernels and strides about 3,600.
MAX_DIVISIBLE_TERMS = 30_000

#: Probe grid: ``H = 2**16 * h`` resolves every power-of-two stride, so the
#: walk passes junctions that only agree on such grids and shows the strides.
_PROBE = 2**16


def divisible_report(network, shape: Shape, convention, model: str) -> Report:
    """``network``'s report on ``shape`` with every division assumed exact."""
    sides = _symbolic_sides(shape)
    if not sides:
        return _exact_division(network.report(shape, convention, model), {}, [])
    grid = {side: sympy.Dummy(side.name.lower(), integer=True, positive=True) for side in sides}
    probe = network.report(shape.map_exprs(lambda e: e.xreplace({s: _PROBE * h for s, h in grid.items()})),
                           convention, model)
    strides = _total_strides(probe, shape, sides)
    on_grid = network.report(shape.map_exprs(lambda e: e.xreplace({s: strides[s] * h for s, h in grid.items()})),
                             convention, model)
    back = {h: side / strides[side] for side, h in grid.items()}
    assumptions = [Assumption(side / strides[side], f"the network's total stride along {side} is {strides[side]}")
                   for side in sides if strides[side] > 1]
    return replace(_exact_division(on_grid, back, assumptions), input_shape=shape)


def _symbolic_sides(shape: Shape) -> list[sympy.Symbol]:
    """The spatial entries of a feature map that are plain symbols, each once."""
    if not shape.is_feature_map:
        return []
    return list(dict.fromkeys(d for d in shape.dims[1:] if isinstance(d, sympy.Symbol)))


def _total_strides(probe: Report, shape: Shape, sides: list[sympy.Symbol]) -> dict[sympy.Symbol, int]:
    """Per side, the lcm of every numeric effective stride the network reaches along its axes."""
    strides = {side: 1 for side in sides}
    fields = [row.rf for row in probe.rows] + [probe.rf]
    for axis, dim in enumerate(shape.dims[1:]):
        if dim not in strides:
            continue
        for field in fields:
            if len(field.stride) != len(shape.dims) - 1:  # undefined, or no input seen: no grid
                continue
            j = field.stride[axis]
            if j.is_Rational:
                strides[dim] = lcm(strides[dim], int(j.p))
    return strides


def _exact_division(report: Report, back: dict, assumptions: list[Assumption]) -> Report:
    """Every row with leftover floors taken as exact divisions, ``back`` substituted, expanded."""
    known = {a.expr for a in assumptions}
    work = [0]  # terms the expansions will make, estimated before each is made

    def spend(expr: sympy.Expr) -> None:
        work[0] += expanded_terms(expr)
        if work[0] > MAX_DIVISIBLE_TERMS:
            raise InvalidArgumentError(
                "analyze", "floor", f"'divisible' would expand this network's formulas into more than "
                f"{MAX_DIVISIBLE_TERMS:,} terms (symbolic strides and kernels nest); use floor='exact', or give some "
                "sizes, strides or kernels as numbers", "divisible")

    def polynomial(expr: sympy.Expr, reason: str) -> sympy.Expr:
        def divide(e: sympy.Expr) -> sympy.Expr:
            x = e.args[0]
            spend(x.xreplace(back))
            assumed = sympy.expand(x.xreplace(back))
            if assumed.free_symbols and assumed not in known:
                known.add(assumed)
                assumptions.append(Assumption(assumed, reason))
            return x

        if expr.has(sympy.floor, sympy.ceiling):
            expr = expr.replace(lambda e: isinstance(e, (sympy.floor, sympy.ceiling)), divide)
        if expr.has(sympy.Sum):
            expr = expr.replace(lambda e: isinstance(e, sympy.Sum), bounded_sum)
        if not back:
            return expr
        expr = expr.xreplace(back)
        spend(expr)
        return expr

    rows = tuple(row.map_exprs(lambda e, r=row: polynomial(e, f'{r.name} ({r.kind}) divides exactly'))
                 for row in report.rows)
    out_shape = report.out_shape.map_exprs(lambda e: polynomial(e, "the output size divides exactly"))
    rf = report.rf.map_exprs(lambda e: polynomial(e, "the receptive field divides exactly"))
    if back:
        rows = tuple(row.map_exprs(sympy.expand) for row in rows)
        out_shape, rf = out_shape.map_exprs(sympy.expand), rf.map_exprs(sympy.expand)
    return replace(
        report,
        rows=rows,
        out_shape=out_shape,
        rf=rf,
        floor="divisible",
        assumptions=_strongest(assumptions),
    )


def _strongest(assumptions: list[Assumption]) -> tuple[Assumption, ...]:
    """Drop assumptions implied by others: ``(p/q)*H + b`` (``b`` an integer) is ``H/q``.

    For each side only the largest such grid is kept (``H/224`` implies ``H/32``
    and ``3*H/112``); other assumptions stay as they are.
    """
    grids: dict[sympy.Symbol, Assumption] = {}
    others: list[Assumption] = []
    for a in assumptions:
        side = next(iter(a.expr.free_symbols)) if len(a.expr.free_symbols) == 1 else None
        poly = sympy.Poly(a.expr, side) if side is not None and a.expr.is_polynomial(side) else None
        if poly is None or poly.degree() != 1 or not all(c.is_Rational for c in poly.all_coeffs()) \
                or not poly.all_coeffs()[1].is_integer:
            others.append(a)
            continue
        modulus = int(poly.all_coeffs()[0].q)
        held = grids.get(side)
        grid = modulus if held is None else lcm(modulus, int(held.expr.coeff(side).q))
        if held is None or grid != held.expr.coeff(side).q:
            reason = a.reason if grid == modulus else f"{held.reason}; {a.reason}"
            grids[side] = Assumption(side / grid, reason)
    return tuple(grids.values()) + tuple(others)
