"""Plain view models: dicts of strings and exact numbers that outputs lay out.

JSON is the view model as is (the DESIGN.md schema); templates and the text
table lay the same dicts out. Each quantity is a ``Q``::

    {"expr": SymPy's str, "latex": symcost's LaTeX, "value": int | "p/q" | None}

    >>> import symcost as sc
    >>> from symcost.symbols import H, W
    >>> view = report_view(sc.Sequential(sc.Conv2d(8, 3, padding=1, name="conv")).analyze(sc.Shape(3, H, W)))
    >>> view["layers"][0]["macs"]
    {'expr': '216*H*W', 'latex': '216 H W', 'value': None}
    >>> report_view(sc.Sequential(sc.Conv2d(8, 3, name="conv")).analyze(sc.Shape(3, 5, 5)))["total"]["params"]
    {'expr': '224', 'latex': '224', 'value': 224}
"""

from __future__ import annotations

import sympy

from .numbers import exact_value, formula
from ..networks.report import Report, Row
from ..core.receptive_field import ReceptiveField
from .markup import tex
from ..core.canonical import SizeNames


def quantity(expr: object, names: SizeNames | None = None) -> dict:
    """One ``Q``: the formula in canonical form (:mod:`symcost.core.canonical`), its LaTeX, and its exact
    value if it has one; with ``names``, written in the named sizes (``73728*H_2*W_2``)."""
    expr = sympy.Integer(expr) if isinstance(expr, int) else expr
    if names is not None:
        expr = names(expr)
    return {"expr": formula(expr), "latex": str(tex(expr)), "value": exact_value(expr)}


def size_names(report: Report) -> SizeNames:
    """Names for the intermediate sizes of ``report`` (``H_1 = ceil(H/2)``), clear of its own symbols."""
    taken = set(report.input_shape.free_symbols)
    for row in report.rows:
        taken |= getattr(row.params, "free_symbols", set()) | getattr(row.count, "free_symbols", set())
    return SizeNames([row.cost.out_shape for row in report.rows], taken)


def sizes_view(names: SizeNames | None) -> list[dict]:
    """The "where" legend: each named size and what it stands for."""
    if names is None:
        return []
    return [{"name": str(sym), "latex": str(tex(sym)), "size": quantity(size), "fold_latex": str(tex(size, fold=True))}
            for sym, size in names.legend]


def dims(shape: object, names: SizeNames | None = None) -> list[str]:
    """A shape's dimensions as canonical text (in the named sizes when ``names`` is given)."""
    return [formula(names(d) if names is not None else d) for d in shape]  # type: ignore[attr-defined]


def rf_view(rf: ReceptiveField, names: SizeNames | None = None) -> dict:
    """``{size, stride, padding}`` of the height axis and, always, ``width``: the same three of the width axis.

    A 1-D map's one axis is both; a map with no spatial axis (vectors, tokens) reads as one pixel; a clip's
    time axis (``(C, T, H, W)``) is added as ``time``. An undefined field (branches on different grids
    joined) has ``null`` entries and ``undefined``, the reason.
    """
    if rf.undefined:
        unknown = {"size": None, "stride": None, "padding": None}
        return {**unknown, "width": dict(unknown), "undefined": rf.undefined}
    axes = [dict(zip(("size", "stride", "padding"), (quantity(q, names) for q in a)))
            for a in zip(rf.size, rf.stride, rf.padding)] or [{"size": quantity(1), "stride": quantity(1),
                                                              "padding": quantity(0)}]
    view = {**axes[-2 if len(axes) > 1 else 0], "width": axes[-1]}
    if len(axes) == 3:
        view["time"] = axes[0]
    if rf.note:  # windows of unequal size: the size shown is the largest
        view["note"] = rf.note
    return view


def row_view(row: Row, convention: object, names: SizeNames | None = None) -> dict:
    return {
        "name": row.name,
        "kind": row.kind,
        "in_shapes": [dims(s, names) for s in row.cost.in_shapes],
        "out_shape": dims(row.cost.out_shape, names),
        "count": quantity(row.count),
        "params": quantity(row.params, names),
        "shared": row.shared,
        "macs": quantity(row.macs, names),
        "flops": quantity(row.flops(convention), names),
        "activations": quantity(row.activations, names),
        "rf": rf_view(row.rf, names),
    }


def traffic_view(traffic: object, dtype: str) -> dict:
    """``{weights, gathered, inputs, outputs, read, written, total}`` bytes as ``Q`` objects, and the dtype."""
    return {**{k: quantity(v) for k, v in traffic.as_dict().items()}, "dtype": dtype}


def report_view(report: Report, dtype: str = "float32", *, traffic: bool = False, named: bool = False) -> dict:
    """The DESIGN.md JSON object of a report (plus ``floor``, ``assumptions``, buffers and peak memory).

    With ``traffic=True`` each layer and the total also get ``bytes``: the bytes read and written for
    ``dtype`` (:mod:`symcost.core.traffic`). A layer's ``shared`` names the earlier layer that counted the tensors it
    shares (else null); ``unused_params`` lists tensors no layer uses, which
    ``total`` counts. Every formula is in canonical form, totals by the rule of
    :func:`symcost.core.canonical.collected`; ``named=True`` writes them in
    named sizes (``H_1``) listed under ``sizes`` (the text table does, JSON does not).
    """
    total = report.total
    names = size_names(report) if named and not _bound(report) else None
    view = {
        "model": report.model,
        "convention": report.convention.name,
        "input": dims(report.input_shape),
        "batch": quantity(report.batch),
        "floor": report.floor,
        "assumptions": [{"integer": quantity(a.expr), "reason": a.reason} for a in report.assumptions],
        "layers": [row_view(row, report.convention, names) for row in report.rows],
        "unused_params": [{"name": u.name, "params": quantity(u.params), "buffers": quantity(u.buffers)}
                          for u in report.unused_params],
        "notes": list(report.notes),
        "sizes": sizes_view(names),
        "total": {
            "params": quantity(total.params, names),
            "buffers": quantity(total.buffers, names),
            "macs": quantity(total.macs, names),
            "flops": quantity(total.flops(), names),
            "activations": quantity(total.activations, names),
            "peak_activations": quantity(total.peak_activations, names),
            "param_bytes": quantity(total.param_bytes(dtype), names),
            "dtype": dtype,
            "out_shape": dims(report.out_shape, names),
            "rf": rf_view(report.rf, names),
        },
    }
    if traffic:  # asked for (--traffic): a "bytes" object per layer and in total, for ``dtype``
        for layer, row in zip(view["layers"], report.rows):
            layer["bytes"] = traffic_view(row.traffic(dtype), dtype)
        view["total"]["bytes"] = traffic_view(total.traffic(dtype), dtype)
    return view


def _bound(report: Report) -> bool:
    """Whether every size of ``report`` is a number (nothing to name)."""
    return not report.input_shape.free_symbols and not any(
        getattr(row.count, "free_symbols", None) for row in report.rows)
