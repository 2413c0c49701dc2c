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

from .numbers import exact_value
from ..networks.report import Report, Row
from ..core.receptive_field import ReceptiveField
from .markup import tex


def quantity(expr: object) -> dict:
    """One ``Q``: the formula as SymPy prints it, its LaTeX, and its exact value if it has one."""
    expr = sympy.Integer(expr) if isinstance(expr, int) else expr
    return {"expr": str(expr), "latex": str(tex(expr)), "value": exact_value(expr)}


def rf_view(rf: ReceptiveField) -> dict:
    """``{size, stride, padding}`` of the height axis and, always, ``width``: the same three of the width axis.

    A 1-D map's one axis is both; a map with no spatial axis (vectors, tokens) reads as one pixel; a clip's
    time axis (``(C, T, H, W)``) is added as ``time``.
    """
    axes = [dict(zip(("size", "stride", "padding"), map(quantity, a)))
            for a in zip(rf.size, rf.stride, rf.padding)] or [{"size": quantity(1), "stride": quantity(1),
                                                              "padding": quantity(0)}]
    view = {**axes[-2 if len(axes) > 1 else 0], "width": axes[-1]}
    if len(axes) == 3:
        view["time"] = axes[0]
    if rf.note:  # windows of unequal size: the size shown is the largest
        view["note"] = rf.note
    return view


def row_view(row: Row, convention: object) -> dict:
    return {
        "name": row.name,
        "kind": row.kind,
        "in_shapes": [[str(d) for d in s] for s in row.cost.in_shapes],
        "out_shape": [str(d) for d in row.cost.out_shape],
        "count": quantity(row.count),
        "params": quantity(row.params),
        "shared": row.shared,
        "macs": quantity(row.macs),
        "flops": quantity(row.flops(convention)),
        "activations": quantity(row.activations),
        "rf": rf_view(row.rf),
    }


def traffic_view(traffic: object, dtype: str) -> dict:
    """``{weights, gathered, inputs, outputs, read, written, total}`` bytes as ``Q`` objects, and the dtype."""
    return {**{k: quantity(v) for k, v in traffic.as_dict().items()}, "dtype": dtype}


def report_view(report: Report, dtype: str = "float32", *, traffic: bool = False) -> dict:
    """The DESIGN.md JSON object of a report (plus ``floor``, ``assumptions``, buffers and peak memory).

    With ``traffic=True`` each layer and the total also get ``bytes``: the bytes read and written for
    ``dtype`` (:mod:`symcost.core.traffic`). A layer's ``shared`` names the earlier layer that counted the tensors it
    shares (else null); ``unused_params`` lists tensors no layer uses, which
    ``total`` counts.
    """
    total = report.total
    view = {
        "model": report.model,
        "convention": report.convention.name,
        "input": [str(d) for d in report.input_shape],
        "batch": quantity(report.batch),
        "floor": report.floor,
        "assumptions": [{"integer": quantity(a.expr), "reason": a.reason} for a in report.assumptions],
        "layers": [row_view(row, report.convention) for row in report.rows],
        "unused_params": [{"name": u.name, "params": quantity(u.params), "buffers": quantity(u.buffers)}
                          for u in report.unused_params],
        "total": {
            "params": quantity(total.params),
            "buffers": quantity(total.buffers),
            "macs": quantity(total.macs),
            "flops": quantity(total.flops()),
            "activations": quantity(total.activations),
            "peak_activations": quantity(total.peak_activations),
            "param_bytes": quantity(total.param_bytes(dtype)),
            "dtype": dtype,
            "out_shape": [str(d) for d in report.out_shape],
            "rf": rf_view(report.rf),
        },
    }
    if traffic:  # asked for (--traffic): a "bytes" object per layer and in total, for ``dtype``
        for layer, row in zip(view["layers"], report.rows):
            layer["bytes"] = traffic_view(row.traffic(dtype), dtype)
        view["total"]["bytes"] = traffic_view(total.traffic(dtype), dtype)
    return view
