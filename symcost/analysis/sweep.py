"""Evaluating one formula over a grid of values: design-space sweeps.

The formula is derived once and compiled with ``lambdify``. By default the
grid is evaluated with numpy, vectorised, in float64 (fast; numpy is
optional). ``exact=True`` evaluates every point with Python integers and
fractions instead, so each value is an exact int::

    >>> from symcost.symbols import H, W
    >>> result = sweep(64 * ((H - 1) // 2 + 1) * W, H=[223, 224], W=range(100, 301, 100), exact=True)
    >>> result.at(H=223, W=300), result.at(H=224, W=300)
    (2150400, 2150400)
    >>> next(result.rows())
    ({'H': 223, 'W': 100}, 716800)

Long sweeps report progress: pass ``progress=True`` (a line on stderr),
or a callable ``progress(done, total)``; by default a bar is shown only on
an interactive terminal for sweeps of a million points or more.
"""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction

import sympy
from sympy.printing.pycode import PythonCodePrinter

from ..core.arguments import to_expr
from ..core.errors import InvalidArgumentError
from ..networks.validity import check_grid

#: Points per vectorised chunk (bounds memory, paces the progress report).
CHUNK = 1 << 18
#: Sweeps this long show a progress bar on an interactive terminal by default.
LONG_SWEEP = 10**6
#: Most grid points a sweep evaluates unless ``max_points`` (the CLI's ``--max-points``) raises it.
MAX_POINTS = 2 * 10**6


@dataclass(frozen=True)
class Sweep:
    """A formula's values over a grid: ``values[i][j]`` is at ``axes[0][i], axes[1][j]``.

    ``values`` is a numpy array (float64, or exact ints with ``exact=True``)
    when numpy is installed, else nested lists.
    """

    expr: sympy.Expr
    names: tuple[str, ...]
    axes: tuple[tuple[int, ...], ...]
    values: object
    exact: bool

    def __len__(self) -> int:
        return math.prod(len(axis) for axis in self.axes)

    def at(self, **point: int) -> object:
        """The value at one grid point, given by name."""
        if set(point) != set(self.names):
            raise InvalidArgumentError("Sweep.at", "point", f"must name exactly {', '.join(self.names)}", point)
        value = self.values
        for name, axis in zip(self.names, self.axes):
            if point[name] not in axis:
                raise InvalidArgumentError("Sweep.at", name, "is not on the grid", point[name])
            value = value[axis.index(point[name])]
        return value

    def rows(self) -> Iterator[tuple[dict[str, int], object]]:
        """Every point as ``({name: value, ...}, result)``, in grid order."""
        for index in itertools.product(*(range(len(axis)) for axis in self.axes)):
            value = self.values
            for i in index:
                value = value[i]
            yield {n: axis[i] for n, axis, i in zip(self.names, self.axes, index)}, value

    def __repr__(self) -> str:
        spans = ", ".join(f"{n}: {a[0]}..{a[-1]} ({len(a)})" for n, a in zip(self.names, self.axes))
        formula = str(self.expr)
        formula = formula if len(formula) <= 60 else formula[:57] + "..."
        return f"Sweep({formula} over {spans}; {len(self):,} points{', exact' if self.exact else ''})"


def sweep(expr: object, *, exact: bool = False, progress: bool | Callable[[int, int], None] | None = None,
          rules: object = None, max_points: int = MAX_POINTS, **ranges: Iterable[int] | int) -> Sweep:
    """``expr`` at every combination of ``ranges`` (symbol name -> values); see the module docstring.

    ``rules``: the :class:`~symcost.networks.report.Report` the formula came from;
    a point that breaks one of its layers' rules (a kernel that does not fit,
    ``groups=0``) is refused before anything is evaluated, with the message
    ``Report.subs`` gives (:func:`symcost.networks.validity.check_grid`).
    A grid of more than ``max_points`` points (default :data:`MAX_POINTS`) is
    refused before anything is built; pass a larger ``max_points`` to allow it.
    """
    if isinstance(max_points, bool) or not isinstance(max_points, int) or max_points < 1:
        raise InvalidArgumentError("sweep", "max_points", "must be a positive int", max_points)
    expr = to_expr(expr, layer="sweep", argument="expr")
    symbols = {s.name: s for s in expr.free_symbols}
    unknown = sorted(set(ranges) - set(symbols))
    if unknown:
        raise InvalidArgumentError("sweep", unknown[0], f"is not a symbol of the formula ({', '.join(sorted(symbols))})",
                                   ranges[unknown[0]])
    unbound = sorted(set(symbols) - set(ranges))
    if unbound:
        raise InvalidArgumentError("sweep", "ranges", f"must give values for every symbol; missing {', '.join(unbound)}",
                                   sorted(ranges))
    names = tuple(ranges)
    check_points({name: ranges[name] for name in names}, max_points)
    axes = tuple(_axis(name, ranges[name], max_points) for name in names)
    check_points(dict(zip(names, axes)), max_points)
    if rules is not None:
        check_grid(rules, {(name,): axis for name, axis in zip(names, axes)})
    report = _progress_reporter(progress, math.prod(len(a) for a in axes))
    arguments = [symbols[n] for n in names]
    numpy = _numpy()
    if exact:
        values = _exact_values(expr, arguments, axes, report)
    elif numpy is not None:
        values = _numpy_values(numpy, expr, arguments, axes, report)
    else:
        values = _python_values(sympy.lambdify(arguments, expr, modules="math", cse=True), axes, float, report)
    if numpy is not None and not isinstance(values, numpy.ndarray):
        values = numpy.array(values, dtype=object)
    return Sweep(expr, names, axes, values, exact)


def check_points(ranges: dict[str, object], max_points: int = MAX_POINTS, *, tied: bool = False) -> None:
    """Refuse a grid of more than ``max_points`` points, from the lengths alone (nothing is built).

    ``tied`` counts names with equal values once (the CLI's ``--set H=W=...``
    sweeps one axis). Values without a length (generators) are counted as
    they are read, by :func:`sweep`.
    """
    distinct: list[object] = []
    for values in ranges.values():
        if not (tied and any(values is seen or values == seen for seen in distinct)):
            distinct.append(values)
    total = 1
    for values in distinct:
        if not isinstance(values, int) and hasattr(values, "__len__"):
            total *= len(values)
    if total > max_points:
        sizes = " x ".join(f"{name}: {1 if isinstance(v, int) else len(v):,}" for name, v in ranges.items()
                           if isinstance(v, int) or hasattr(v, "__len__"))
        raise InvalidArgumentError("sweep", "ranges", f"make {total:,} points ({sizes}), more than max_points="
                                   f"{max_points:,}; pass max_points (the CLI's --max-points) to raise the bound",
                                   total)


def _axis(name: str, values: Iterable[int] | int, max_points: int = MAX_POINTS) -> tuple[int, ...]:
    if isinstance(values, int):
        axis = (values,)
    else:
        axis = tuple(itertools.islice(values, max_points + 1))  # a generator is read only up to the bound
        if len(axis) > max_points:
            raise InvalidArgumentError("sweep", name, f"has more than max_points={max_points:,} values; pass "
                                       "max_points (the CLI's --max-points) to raise the bound", f"{len(axis):,}+")
    if not axis:
        raise InvalidArgumentError("sweep", name, "must have at least one value", axis)
    for v in axis:
        if isinstance(v, bool) or not isinstance(v, int):
            raise InvalidArgumentError("sweep", name, "values must be ints", v)
    return axis


def _numpy():
    try:
        import numpy
    except ImportError:
        return None
    return numpy


def _numpy_values(numpy, expr, arguments, axes, report):
    """float64 values, vectorised over the flattened grid in chunks."""
    function = sympy.lambdify(arguments, expr, modules="numpy", cse=True)
    grids = [g.ravel() for g in numpy.meshgrid(*(numpy.asarray(a, dtype=numpy.float64) for a in axes),
                                                  indexing="ij")]
    total = grids[0].size if grids else 1
    out = numpy.empty(total, dtype=numpy.float64)
    for start in range(0, total, CHUNK):
        stop = min(start + CHUNK, total)
        out[start:stop] = function(*(g[start:stop] for g in grids))
        report(stop)
    return out.reshape(tuple(len(a) for a in axes))


class _ExactPrinter(PythonCodePrinter):
    """Python source in which every constant fraction stays a ``Fraction``."""

    def _print_Rational(self, expr: sympy.Rational) -> str:
        return f"Fraction({expr.p}, {expr.q})"

    _print_Half = _print_Rational

    def _print_Sum(self, expr: sympy.Sum) -> str:
        """``range`` bounds as ints: the swept values arrive as Fractions (so ``/`` stays exact)."""
        loops = " ".join(f"for {self._print(i)} in range(int({self._print(a)}), int({self._print(b)})+1)"
                         for i, a, b in expr.limits[::-1])
        return f"(builtins.sum({self._print(expr.function)} {loops}))"


def _exact_values(expr, arguments, axes, report):
    """Exact ints (or Fractions), point by point, with Python's integers."""
    function = sympy.lambdify(arguments, expr, modules=[{"Fraction": Fraction, "math": math}, "math"],
                              printer=_ExactPrinter, cse=True)

    def exact(value: object) -> object:
        value = Fraction(value)
        return value.numerator if value.denominator == 1 else value

    return _python_values(lambda *xs: function(*(Fraction(x) for x in xs)), axes, exact, report)


def _python_values(function, axes, convert, report):
    flat = []
    for done, point in enumerate(itertools.product(*axes), start=1):
        flat.append(convert(function(*point)))
        if done % CHUNK == 0:
            report(done)
    report(len(flat))
    return _nest(flat, [len(a) for a in axes])


def _nest(flat: list, lengths: list[int]) -> list:
    if len(lengths) <= 1:
        return flat
    step = len(flat) // lengths[0]
    return [_nest(flat[i * step:(i + 1) * step], lengths[1:]) for i in range(lengths[0])]


def _progress_reporter(progress, total: int) -> Callable[[int], None]:
    if callable(progress):
        return lambda done: progress(done, total)
    show = progress if progress is not None else (total >= LONG_SWEEP and sys.stderr.isatty())
    if not show:
        return lambda done: None

    def bar(done: int) -> None:
        sys.stderr.write(f"\rsweep: {done:,}/{total:,} points ({100 * done // total}%)")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return bar
