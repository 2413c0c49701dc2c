"""Checking a report's layer rules over a whole grid of numbers (sweeps), fast.

``Report.check(values)`` re-runs every layer's rules at one point (each layer
constructed anew from its substituted arguments and costed on its substituted
input shapes). A sweep has up to millions of points, so :func:`check_grid`
splits the work:

* symbols that enter a layer's *arguments* (``K``, ``G``, a Repeat's ``n``)
  are checked exactly, once per distinct combination of their values, with the
  other symbols left symbolic;
* sizes (``H``, ``W``) enter only shapes, and every shape rule (a kernel that
  fits, a positive size) shows as some layer's input or output size not being
  a positive integer: those sizes are evaluated vectorised over the grid;
  the first point where one fails is checked exactly, which raises the layer's
  own message;
* the grid's first and last points are checked exactly too.

    >>> import symcost as sc
    >>> from symcost.symbols import H, W
    >>> rep = sc.Sequential(sc.Conv2d(8, 3), sc.MaxPool2d(2)).analyze(sc.Shape(3, H, W))
    >>> check_grid(rep, {("H", "W"): range(3, 100)})
    Traceback (most recent call last):
    symcost.core.errors.ShapeError: with H=3, W=3: layer 1 "1" (MaxPool2d) on input (8, 1, 1): MaxPool2d: kernel_size does not fit ...
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from functools import lru_cache

import sympy

from ..layers.base import Layer

#: Points where the vectorised size check flags a failure that are checked exactly before giving up.
_EXACT_TRIES = 16


def argument_symbols(report) -> set[str]:
    """Names of the symbols that enter some layer's arguments or a Repeat's ``times``."""
    names: set[str] = set()
    for row in report.rows:
        for times in row.repeats:
            names |= {s.name for s in times.free_symbols}
        layer = row.cost.layer
        if isinstance(layer, Layer):
            for f in layer.arguments():
                names |= {s.name for s in _free(getattr(layer, f.name))}
    return names


def _free(value: object) -> set:
    if isinstance(value, (tuple, list)):
        return set().union(*(_free(v) for v in value)) if value else set()
    return set(value.free_symbols) if isinstance(value, sympy.Basic) else set()


def check_grid(report, axes: dict[tuple[str, ...], Iterable[int]]) -> None:
    """Refuse the first grid point that breaks a layer rule, with :meth:`Report.check`'s message.

    ``axes`` maps a tuple of names sharing one value (``("H", "W")`` for
    ``H=W=...``) to that axis's values; the grid is their product.
    """
    groups = [(tuple(names), tuple(values)) for names, values in axes.items()]
    if not groups or any(not values for _, values in groups):
        return

    def point(values: Sequence[int]) -> dict[str, int]:
        return {name: v for (names, _), v in zip(groups, values) for name in names}

    # 0. a floor="divisible" report's assumptions, per value of each axis
    for names, values in groups:
        for value in dict.fromkeys(values):
            report.check_assumptions({name: value for name in names})
    # 1. arguments: exactly, once per distinct combination of the values of their symbols
    arguments = argument_symbols(report)
    argument_groups = [g for g in groups if set(g[0]) & arguments]
    for values in itertools.product(*(dict.fromkeys(v) for _, v in argument_groups)):
        report.check({name: v for (names, _), v in zip(argument_groups, values) for name in names})
    # 2. the grid's corners in grid order: exactly
    report.check(point([values[0] for _, values in groups]))
    report.check(point([values[-1] for _, values in groups]))
    # 3. sizes: vectorised over the grid; a flagged point is checked exactly
    swept = {name for names, _ in groups for name in names}
    dims = {d for row in report.rows for shape in (*row.cost.in_shapes, row.cost.out_shape) for d in shape}
    dims |= set(report.out_shape) | set(report.input_shape)
    dims = [d for d in dims if {s.name for s in d.free_symbols} & swept]
    for index in _failing(dims, groups):
        report.check(point([values[i] for (_, values), i in zip(groups, index)]))


def _failing(dims: list[sympy.Expr], groups: list) -> Iterable[tuple[int, ...]]:
    """Grid indices, in grid order, where some size is not a positive integer (at most ``_EXACT_TRIES``)."""
    if not dims:
        return []
    free = set().union(*(d.free_symbols for d in dims))
    by_name = {s.name: s for s in free}
    # one argument per group; the group's other names are the same value
    # one argument per group (its first symbol the sizes hold); the group's other names are the same value
    arguments = [next((by_name[n] for n in names if n in by_name), None) or sympy.Dummy(names[0])
                 for names, _ in groups]
    tie = {by_name[name]: a for (names, _), a in zip(groups, arguments) for name in names
           if name in by_name and by_name[name] != a}
    tied = [d.xreplace(tie) for d in dims] if tie else dims
    if any(d.free_symbols - set(arguments) for d in tied):  # sizes in unswept symbols: nothing to evaluate
        tied = [d for d in tied if not d.free_symbols - set(arguments)]
    try:
        import numpy
    except ImportError:  # pragma: no cover - numpy is optional
        return _failing_python(tied, arguments, groups)
    function = _compiled(tuple(arguments), tuple(tied))
    # an open grid: a size in H alone is evaluated over H's values only, then broadcast
    grids = numpy.meshgrid(*(numpy.asarray(v, dtype=numpy.float64) for _, v in groups), indexing="ij", sparse=True)
    bad = numpy.zeros(tuple(len(v) for _, v in groups), dtype=bool)
    for value in function(*grids):
        value = numpy.asarray(value, dtype=numpy.float64)
        bad |= ~((value >= 1) & (value == numpy.floor(value)))
    flagged = numpy.flatnonzero(bad.ravel())[:_EXACT_TRIES]
    return [tuple(int(i) for i in numpy.unravel_index(f, bad.shape)) for f in flagged]


@lru_cache(maxsize=64)
def _compiled(arguments: tuple, sizes: tuple):
    """The sizes as one numpy function of the axes (a sweep of the same report compiles once)."""
    return sympy.lambdify(arguments, list(sizes), modules="numpy", cse=True)


def _failing_python(tied, arguments, groups) -> list[tuple[int, ...]]:
    function = sympy.lambdify(arguments, tied, modules="math")
    found = []
    for index in itertools.product(*(range(len(v)) for _, v in groups)):
        values = function(*(v[i] for (_, v), i in zip(groups, index)))
        if any(not (x >= 1 and x == math.floor(x)) for x in values):
            found.append(index)
            if len(found) >= _EXACT_TRIES:
                break
    return found
