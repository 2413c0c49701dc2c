"""Objects laid out as one table (a :class:`~symcost.networks.roofline.Roofline`): text, Markdown, JSON.

A view model (a plain dict, :func:`roofline_view`) is built once; each format lays it out.
JSON keeps every value exact (``Q`` objects as in the report JSON); text and Markdown
show rounded numbers (intensity in FLOP/B, times in seconds with SI prefixes) and
formulas as SymPy prints them.
"""

from __future__ import annotations

import json

import sympy

from ..core.errors import SymcostError
from ..networks.roofline import Roofline, RooflinePoint
from .json_view import quantity
from .markup import escape_latex, escape_markdown, tex
from .numbers import exact_value, formula
from .text import table

#: Time prefixes, largest first.
_TIME_UNITS = (("s", 1), ("ms", sympy.Rational(1, 10**3)), ("us", sympy.Rational(1, 10**6)),
               ("ns", sympy.Rational(1, 10**9)))

HEADER = ("layer", "kind", "FLOPs", "bytes", "FLOP/B", "time", "bound")


def short(expr: object, digits: int = 4) -> str:
    """A number rounded to ``digits`` significant digits (exact when it is an integer that fits), else the formula."""
    if exact_value(expr) is None:
        return formula(expr)
    value = sympy.Rational(expr)
    if value.is_Integer and abs(value) < 10**digits:
        return str(value)
    return f"{float(sympy.Float(value, 20)):.{digits}g}"


def seconds(expr: object) -> str:
    """``12.3 us``: a time with the largest prefix that keeps it >= 1; formulas as they are."""
    if exact_value(expr) is None:
        return formula(expr)
    value = sympy.Rational(expr)
    if value == 0:
        return "0"
    for unit, size in _TIME_UNITS:
        if value >= size:
            return f"{float(sympy.Float(value / size, 20)):.4g} {unit}"
    return f"{float(sympy.Float(value / _TIME_UNITS[-1][1], 20)):.4g} ns"


def bound_text(point: RooflinePoint) -> str:
    bound = point.bound
    return bound if isinstance(bound, str) else f"compute if {formula(bound)}"


def point_view(point: RooflinePoint) -> dict:
    intensity = point.intensity
    return {
        "name": point.name, "kind": point.kind,
        "flops": point.flops, "bytes": point.bytes, "traffic": point.traffic.as_dict(),
        "intensity": intensity, "compute_time": point.compute_time, "memory_time": point.memory_time,
        "time": point.time, "bound": bound_text(point),
        "_bound_expr": None if isinstance(point.bound, str) else point.bound,
    }


def roofline_view(rf: Roofline) -> dict:
    hw = rf.hardware
    return {
        "model": rf.model, "dtype": rf.dtype, "convention": rf.convention,
        "hardware": {"key": hw.key, "name": hw.name, "source": hw.source, "peak_flops": hw.peak_flops(rf.dtype),
                     "bandwidth": hw.bandwidth, "ridge": rf.ridge},
        "rows": [point_view(p) for p in rf.rows],
        "total": point_view(rf.total),
        "layers_time": rf.layers_time,
    }


def _cells(p: dict) -> list[str]:
    intensity = "-" if p["intensity"] is None else short(p["intensity"])
    return [p["name"], p["kind"], short(p["flops"]), short(p["bytes"]), intensity, seconds(p["time"]), p["bound"]]


def _head(view: dict) -> list[str]:
    hw = view["hardware"]
    return [f"{view['model']} on {hw['name']} ({view['dtype']}, FLOPs as {view['convention']}): "
            f"peak {short(hw['peak_flops'])} FLOP/s, bandwidth {short(hw['bandwidth'])} B/s, "
            f"ridge {short(hw['ridge'])} FLOP/B",
            f"source: {hw['source']}"]


def _foot(view: dict) -> list[str]:
    return [f"whole model (overlapped): {seconds(view['total']['time'])}, {view['total']['bound']}; "
            f"layer by layer: {seconds(view['layers_time'])}"]


def to_text(view: dict) -> str:
    rows = [_cells(p) for p in view["rows"]] + [_cells(view["total"])]
    lines = table(HEADER, rows, right={"FLOPs", "bytes", "FLOP/B", "time"})
    lines.insert(1, "-" * max(len(line) for line in lines))
    return "\n".join([*_head(view), "", *lines, "", *_foot(view)]) + "\n"


def to_markdown(view: dict) -> str:
    def row(cells: list[str]) -> str:
        return "| " + " | ".join(escape_markdown(c) for c in cells) + " |"

    lines = [escape_markdown(line) for line in _head(view)]
    lines += ["", row(list(HEADER)), "|" + "|".join(["---"] * len(HEADER)) + "|"]
    lines += [row(_cells(p)) for p in view["rows"]] + [row(_cells(view["total"]))]
    lines += ["", *(escape_markdown(line) for line in _foot(view))]
    return "\n".join(lines) + "\n"


def _exact(value: object) -> object:
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_exact(v) for v in value]
    if isinstance(value, sympy.Basic):
        return quantity(value)
    return value


def to_json(view: dict) -> str:
    return json.dumps(_exact(_public(view)), indent=2)


def _public(value: object) -> object:
    """The view without its private keys (``_bound_expr``, kept for LaTeX)."""
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [_public(v) for v in value]
    return value


def _latex_cell(value: object, shown: str) -> str:
    """A number as its rounded text, a formula as inline math."""
    if isinstance(value, sympy.Basic) and exact_value(value) is None:
        return f"${tex(value)}$"
    return escape_latex(shown)


def _latex_row(p: dict) -> str:
    raw = p.get("_bound_expr")
    cells = [escape_latex(p["name"]), escape_latex(p["kind"]), _latex_cell(p["flops"], short(p["flops"])),
             _latex_cell(p["bytes"], short(p["bytes"])),
             "--" if p["intensity"] is None else _latex_cell(p["intensity"], short(p["intensity"])),
             _latex_cell(p["time"], seconds(p["time"])),
             f"compute if ${tex(raw)}$" if raw is not None else escape_latex(p["bound"])]
    return " & ".join(cells) + r" \\"


def to_latex(view: dict) -> str:
    """A ``tabular`` (no package needed): layer names escaped, formulas as inline math."""
    head = " & ".join(escape_latex(h) for h in HEADER) + r" \\"
    lines = [r"\begin{tabular}{llrrrrl}", r"\hline", head, r"\hline", *(_latex_row(p) for p in view["rows"]),
             r"\hline", _latex_row(view["total"]), r"\hline", r"\end{tabular}"]
    text = [escape_latex(line) + r"\par" for line in [*_head(view), *_foot(view)]]
    return "\n".join([*text, "", *lines]) + "\n"


_FORMATS = {"text": to_text, "markdown": to_markdown, "json": to_json, "latex": to_latex}


def render(obj: object, fmt: str) -> str:
    """``obj`` in ``fmt`` (text, markdown or json)."""
    if not isinstance(obj, Roofline):
        raise SymcostError(f"no table layout for {type(obj).__name__}")
    return _FORMATS[fmt](roofline_view(obj))
