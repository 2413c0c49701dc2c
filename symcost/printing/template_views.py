r"""View models for the templates: plain dicts of text, LaTeX and exact numbers.

They extend :mod:`symcost.printing.json_view` (whose ``Q`` quantities they reuse) with
what a layout needs: a derivation's steps, a report's rows grouped by
container with formatted cells, a comparison's lines. Values under a key
named ``latex`` (and every ``LaTeX`` string) are already LaTeX; everything
else is text the templates escape::

    >>> import symcost as sc
    >>> from symcost.symbols import H, W
    >>> rep = sc.Sequential(sc.Conv2d(8, 3, padding=1), sc.ReLU(), name="stem").analyze(sc.Shape(3, H, W))
    >>> view = table_view(rep, values={"H": 32, "W": 32}, units=True)
    >>> view["columns"], view["groups"][0]["name"], view["groups"][0]["rows"][0]["params"]["text"]
    ('both', 'stem', '224')
    >>> view["total"]["ops"]
    {'latex': '440 H W', 'expr': '440*H*W', 'text': '451K'}
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterable

import sympy

from ..analysis.compare import Comparison
from ..core.cost import Cost
from ..analysis.derivation import Derivation, derive
from .numbers import formula, number
from .json_view import size_names, sizes_view
from ..core.errors import InvalidArgumentError
from ..layers.base import Layer
from .markup import LaTeX, escape_latex, tex, tex_shape, text_shape
from ..networks.report import Report
from ..networks.training import Training
from .json_view import quantity

#: A table with more rows than this becomes a ``longtable`` (breaks across pages).
LONG_TABLE_ROWS = 40
#: A derivation line wider than this (printed characters, spaces excluded) puts each step on its own row.
SPLIT_WIDTH = 56
COLUMNS = ("symbolic", "numeric", "both")
TABLE_METRICS = {"flops": "FLOPs", "macs": "MACs"}
METRIC_NAMES = {"params": "params", "buffers": "buffers", "macs": "MACs", "flops": "FLOPs",
                "activations": "activations"}


# -- derivations --------------------------------------------------------------

def _value_tex(value: sympy.Expr) -> str:
    """A value shown in place of its symbol; anything but a number or a symbol in parentheses."""
    if value.is_Atom and not (value.is_number and (value.is_negative or not value.is_Integer)):
        return tex(value)
    if isinstance(value, (sympy.floor, sympy.ceiling)):
        return tex(value)
    return rf"\left({tex(value)}\right)"


_GROUP = re.compile(r"\\(?:mathrm|text)\{([^{}]*)\}|([_^])\{([^{}]*)\}|\{,\}")
_FRAC = re.compile(r"\\frac\{([^{}]*)\}\{([^{}]*)\}")


def _width(latex: str) -> int:
    """Roughly how many characters ``latex`` prints: a fraction is as wide as its wider part.

        >>> _width(r"\\left\\lfloor{\\frac{H - K + 2 P}{S}}\\right\\rfloor + 1")
        10
    """
    text = re.sub(r"\\left|\\right", "", latex)
    previous = None
    while previous != text:
        previous = text
        text = _GROUP.sub(lambda m: m.group(1) or (m.group(2) or "") + (m.group(3) or ","), text)
        text = _FRAC.sub(lambda m: max(m.group(1), m.group(2), key=len), text)
    return len(re.sub(r"[{}\s]", "", re.sub(r"\\[A-Za-z]+", "x", text))) + text.count(" = ") * 2


def derivation_view(derivation: Derivation) -> dict:
    """The lines of a derivation: for each quantity its formula, the numbers put in, the value.

        >>> import symcost as sc
        >>> view = derivation_view(derive(sc.Linear(10), sc.Shape(512)))
        >>> print(" = ".join(view["lines"][1]["steps"]))
        D_{\\mathrm{in}} D_{\\mathrm{out}} + D_{\\mathrm{out}} = 512 \\cdot 10 + 10 = 5{,}130
    """
    bound = dict(derivation.values)
    names = {sym: _value_tex(v) for sym, v in bound.items()}
    for sym, dim in derivation.outputs:
        if dim.free_symbols & set(bound):
            names[sym] = _value_tex(dim.xreplace(bound))
    lines = []
    for step in derivation.steps:
        symbol = LaTeX(" = ".join(tex(s) for s in step.symbols)) if step.symbols else None
        general = tex(step.general)
        substituted = value = None
        if step.general.free_symbols & set(names):
            substituted = tex(step.general, names=names, mul_symbol="dot")
            value = tex(step.value)
        own = {tex(s) for s in step.symbols}
        steps = [general] if general not in own else []
        for shown in (substituted, value):
            if shown is not None and (not steps or shown != steps[-1]) and shown not in own:
                steps.append(shown)
        if not steps:
            continue
        lines.append({
            "key": "size" if step.symbols else step.key,
            "name": step.name,
            "symbol": symbol,
            "general": general,
            "general_text": str(step.general),
            "substituted": substituted if substituted not in (general, value) else None,
            "value": value if value != general else None,
            "steps": steps,
            "split": _width(" = ".join([symbol or "FLOPs", *steps])) > SPLIT_WIDTH,
            "q": quantity(step.value),
        })
    result = derivation.result
    return {
        "kind": derivation.general.kind,
        "label": derivation.label or derivation.general.kind,
        "inputs": [tex_shape(s) for s in result.in_shapes],
        "inputs_text": [text_shape(s) for s in result.in_shapes],
        "convention": derivation.convention.name,
        "values": [{"symbol": tex(sym), "value": tex(v), "name": str(sym), "text": str(v)}
                   for sym, v in derivation.values],
        "lines": lines,
        "substituted": any(line["substituted"] or line["value"] for line in lines),
    }


# -- network tables -----------------------------------------------------------

#: The size names of the table being built (see table_view).
_NAMES: contextvars.ContextVar = contextvars.ContextVar("symcost_size_names", default=None)


def _named(expr: object) -> object:
    names = _NAMES.get()
    return names(expr) if names is not None else expr


def _cell(symbolic: sympy.Expr, numeric: sympy.Expr | None, units: bool) -> dict:
    """A quantity: its formula (``latex``, ``expr``) and, once it is a number, its ``text``."""
    if numeric is None and symbolic.is_number:
        numeric = symbolic
    symbolic = _named(symbolic)
    return {"latex": tex(symbolic, fold=True), "expr": formula(symbolic),
            "text": None if numeric is None else number(numeric, units)}


def _rf_cell(rf: object) -> dict:
    if rf.undefined:  # type: ignore[attr-defined]  # the reason is among the report's notes
        return {"latex": LaTeX(r"\text{undefined}"), "text": "undefined"}
    size = rf.size or (1,)  # type: ignore[attr-defined]
    shown = [_named(d) for d in (size[:1] if len(set(size)) == 1 else size)]
    return {"latex": tex_shape(shown, fold=True), "text": text_shape(shown)}


def _shape_cell(symbolic: Iterable, numeric: Iterable | None) -> dict:
    """A shape: its formula (``latex``), its numbers when bound (``value_latex``, ``text``)."""
    symbolic = [_named(d) for d in symbolic]
    shown = numeric if numeric is not None else symbolic
    return {"latex": tex_shape(symbolic, fold=True), "value_latex": tex_shape(shown, fold=True),
            "text": text_shape(shown)}


def _group_key(name: str) -> str | None:
    return name.split(".", 1)[0] if "." in name else None


def _sum(rows: Iterable | None, quantity) -> sympy.Expr | None:
    return None if rows is None else sympy.Add(*(quantity(row) for row in rows))


def _has_symbols(expr: object) -> bool:
    return bool(getattr(expr, "free_symbols", None))


def _bound(report: Report) -> bool:
    """Whether every quantity of ``report`` is a number (no symbol left)."""
    return not report.input_shape.free_symbols and not any(
        getattr(row.count, "free_symbols", None) for row in report.rows)


def table_view(report: Report, *, columns: str | None = None, metric: str = "flops", units: bool = False,
               values: dict | None = None, group: bool = True, longtable: bool | None = None,
               caption: str | None = None, label: str | None = None, expand: bool = False,
               fields: object = None, group_by: str = "layer") -> dict:
    """See :func:`_table_view`; ``expand=False`` writes the formulas in named sizes (``H_1``) with a legend."""
    chosen = _fields(fields) if fields is not None else DEFAULT_FIELDS
    ops = [f for f in chosen if f in TABLE_METRICS]
    if len(ops) > 1:
        raise InvalidArgumentError("table", "columns", "may hold one of macs and flops, not both", fields)
    metric = ops[0] if ops else metric
    names = None
    if not expand and not _bound(report):
        names = size_names(report)
    token = _NAMES.set(names)
    try:
        view = _table_view(report, columns=columns, metric=metric, units=units, values=values, group=group,
                           longtable=longtable, caption=caption, label=label)
    finally:
        _NAMES.reset(token)
    view["sizes"] = [{**s, "latex": LaTeX(s["latex"]), "fold_latex": LaTeX(s["fold_latex"]),
                      "size": {**s["size"], "latex": LaTeX(s["size"]["latex"])}}
                     for s in (sizes_view(names) if view["columns"] != "numeric" else [])]
    view["expand"] = expand
    if group_by not in GROUP_BY:
        raise InvalidArgumentError("table", "group_by", f"must be one of {', '.join(GROUP_BY)}", group_by)
    if group_by == "stage":
        view["groups"] = [_stage(g) for g in view["groups"]]
        if longtable is None:
            view["longtable"] = sum(len(g["rows"]) for g in view["groups"]) > LONG_TABLE_ROWS
    view.update(latex_layout(view, tuple("ops" if f in TABLE_METRICS else f for f in chosen),
                             ("type",) if fields is None else ()))
    return view


#: Table grouping: a row per layer (grouped by container) or one row per container with its subtotals.
GROUP_BY = ("layer", "stage")
#: Columns a table may show (``--columns``), in their order.
FIELDS = ("type", "output", "params", "macs", "flops", "rf")
DEFAULT_FIELDS = ("type", "output", "params", "ops", "rf")


def _fields(fields: object) -> tuple[str, ...]:
    if fields is None:
        return DEFAULT_FIELDS
    chosen = [f.strip().lower() for f in fields.split(",")] if isinstance(fields, str) else list(fields)  # type: ignore
    unknown = [f for f in chosen if f not in FIELDS]
    if unknown or not chosen:
        raise InvalidArgumentError("table", "columns", f"must be a comma-separated list of {', '.join(FIELDS)}",
                                   fields)
    return tuple(dict.fromkeys(chosen))


#: Width of a default ``article``'s text block, in points (the tables are made to fit it).
TEXT_WIDTH = 345
#: Rough width of one printed character at 10pt, in points, and the type sizes a table may step down to.
CHAR_WIDTH = 5.6
SIZES = (("", 1.0, 6), (r"\small", 0.9, 5), (r"\footnotesize", 0.8, 4), (r"\scriptsize", 0.7, 3))
#: A formula wider than this (printed characters) leaves its cell for a numbered note under the table.
LATEX_CELL = 30


def _math(latex: str) -> str:
    return f"${latex}$"


def latex_layout(view: dict, fields: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    """The LaTeX table laid out to fit :data:`TEXT_WIDTH`: its columns, cells (text-mode LaTeX), type size,
    and the notes that hold formulas too wide for a cell. The ``tex_*`` keys of the view.

    A column in ``optional`` (the layer type of the default columns) is left out when the table
    does not fit with it even in the smallest type (long layer names, as in Llama's).
    """
    formulas = view["columns"] == "symbolic"
    modes = {"params": view["params_columns"], "ops": view["ops_columns"]}
    titles = {"type": "Type", "output": "Output", "params": "Params", "ops": view["metric_label"], "rf": "RF"}
    cols = [{"title": "Layer", "align": "l"}]
    for f in fields:
        mode = modes.get(f)
        if mode == "both":
            cols += [{"title": titles[f], "align": "l"}, {"title": "value", "align": "r"}]
        else:
            cols.append({"title": titles[f], "align": "r" if mode == "numeric" else "l"})
    for limit in range(LATEX_CELL, 5, -6):
        notes: list[dict] = []

        def math(latex: str, what: str) -> str:
            if _width(latex) <= limit:
                return _math(latex)
            pieces = _breakable(latex)
            notes.append({"mark": len(notes) + 1, "what": what, "latex": LaTeX(latex),
                          "pieces": [{"latex": LaTeX(p), "wide": _width(p) > NOTE_PIECE} for p in pieces]})
            return f"({len(notes)})"

        def cells(row: dict, name: str, group: bool = False) -> list[str]:
            out = [name]
            for f in fields:
                if f == "type":
                    out.append("" if group else escape_latex(row["kind"]) + (
                        rf" ($\times {row['count']}$)" if row.get("count") else ""))
                elif f == "output":
                    out.append("" if group else math(row["out_shape"]["latex" if formulas else "value_latex"],
                                                     f"{row.get('qualified', name)} output"))
                elif f == "rf":
                    out.append("" if group else math(row["rf"]["latex"], f"{row.get('qualified', name)} RF"))
                else:
                    cell, mode = row[f], modes[f]
                    shown = []
                    if mode != "numeric":
                        shown.append(math(cell["latex"], f"{row.get('qualified', name)} {titles[f]}"))
                    if mode != "symbolic":
                        shown.append((r"\itshape " if group else "") + escape_latex(cell["text"]))
                    out += shown
            return [LaTeX(c) for c in out]

        rows = []
        for g in view["groups"]:
            if g["name"]:
                rows.append({"cells": cells({**g, "qualified": g["name"]}, r"\textit{" + escape_latex(g["name"]) + "}",
                                            True), "space": bool(rows)})
            for r in g["rows"]:
                name = (r"\quad " if g["name"] else "") + escape_latex(r["name"])
                rows.append({"cells": cells(r, name), "space": bool(rows) and not g["name"] and False})
        total = cells({**view["total"], "kind": ""}, "Total")
        for i, col in enumerate(cols):  # a column of numbers only reads right-aligned
            if i and all(_NUMBER.match(row["cells"][i]) for row in [*rows, {"cells": total}]):
                col["align"] = "r"
        widths = [max(_text_width(row["cells"][i]) for row in [*rows, {"cells": total},
                                                                {"cells": [c["title"] for c in cols]}])
                  for i in range(len(cols))]
        for size, scale, sep in SIZES:
            points = sum(widths) * CHAR_WIDTH * scale + 2 * sep * (len(cols) - 1)
            if points <= TEXT_WIDTH:
                break
        else:
            continue
        break
    if points > TEXT_WIDTH and any(f in fields for f in optional):
        return latex_layout(view, tuple(f for f in fields if f not in optional))
    where = [LaTeX(f"{s['latex']} = {s['fold_latex']}") for s in view["sizes"]]
    return {"tex_cols": cols, "tex_rows": rows, "tex_where": where, "tex_total": total, "tex_size": size, "tex_sep": sep,
            "tex_notes": notes, "tex_width": round(points)}


#: A part of a note's formula TeX cannot break (no top-level + or -) wider than this is scaled to the line.
NOTE_PIECE = 60


def _breakable(latex: str) -> list[str]:
    """``latex`` cut where TeX may break an inline formula: at ``+`` and ``-`` outside braces and ``\\left...\\right``."""
    pieces, depth, start = [], 0, 0
    for match in re.finditer(r"\\left|\\right|[{}]| [+-] ", latex):
        token = match.group()
        if token in ("\\left", "{"):
            depth += 1
        elif token in ("\\right", "}"):
            depth -= 1
        elif depth == 0:
            pieces.append(latex[start:match.start()])
            start = match.start() + 1
    pieces.append(latex[start:])
    return [p if i == 0 else "{}" + p for i, p in enumerate(pieces)]


_NUMBER = re.compile(r"(\$[\d{},]+\$|(\\itshape )?[\d,.]+[KMGT]?|)\Z")


def _text_width(cell: str) -> int:
    """Printed characters of a text-mode cell (math inside ``$...$`` measured as math)."""
    return sum(_width(part) + 2 * len(re.findall(r"\\times| [-+=] ", part)) if i % 2 else
               len(re.sub(r"\\[A-Za-z]+ ?|[{}]", "", part.replace("\\quad ", "xxx")))
               for i, part in enumerate(cell.split("$")))


def _stage(group: dict) -> dict:
    """A container as one row: its subtotals, the output and receptive field of its last layer."""
    if not group["name"]:
        return group
    last = group["rows"][-1]
    row = {**last, "name": group["name"], "qualified": group["name"], "kind": f"{len(group['rows'])} layers",
           "count": None, "count_text": None, "params": group["params"], "ops": group["ops"]}
    return {**group, "name": None, "rows": [row]}


def _table_view(report: Report, *, columns: str | None = None, metric: str = "flops", units: bool = False,
                values: dict | None = None, group: bool = True, longtable: bool | None = None,
                caption: str | None = None, label: str | None = None) -> dict:
    """A report as a table: rows grouped by container (``features``, ``layer1``) with subtotals, and totals.

    ``columns`` is ``"symbolic"`` (formulas), ``"numeric"`` (numbers: the
    report is bound, or ``values`` bind it) or ``"both"``; by default numbers
    when there are some, both when ``values`` are given. ``metric`` is
    ``"flops"`` (under the report's convention) or ``"macs"``; ``units``
    shows ``4.09G`` instead of ``4,089,184,256``.
    """
    if metric not in TABLE_METRICS:
        raise InvalidArgumentError("table", "metric", f"must be one of {', '.join(TABLE_METRICS)}", metric)
    numeric = report.subs(values) if values else (report if _bound(report) else None)
    if columns is None:
        columns = "numeric" if report is numeric else ("both" if numeric is not None else "symbolic")
    if columns not in COLUMNS:
        raise InvalidArgumentError("table", "columns", f"must be one of {', '.join(COLUMNS)}", columns)
    if columns != "symbolic" and numeric is None:
        raise InvalidArgumentError("table", "columns", "other than 'symbolic' need numbers: pass values={...} "
                                   "for the symbols, or a substituted report", columns)

    def ops(row_or_total: object) -> sympy.Expr:
        return row_or_total.macs if metric == "macs" else row_or_total.flops(report.convention)  # type: ignore

    numeric_rows = numeric.rows if numeric is not None else (None,) * len(report.rows)
    groups: list[dict] = []
    for row, bound in zip(report.rows, numeric_rows):
        key = _group_key(row.name) if group else None
        if not groups or groups[-1]["name"] != key:
            groups.append({"name": key, "rows": [], "_exprs": []})
        groups[-1]["_exprs"].append((row, bound))
        groups[-1]["rows"].append({
            "name": row.name[len(key) + 1:] if key else row.name,
            "qualified": row.name,
            "kind": row.kind,
            "count": tex(row.count) if row.count != 1 else None,
            "count_text": str(row.count) if row.count != 1 else None,
            "out_shape": _shape_cell(row.cost.out_shape, bound.cost.out_shape if bound else None),
            "params": _cell(row.params, bound.params if bound else None, units),
            "ops": _cell(ops(row), ops(bound) if bound else None, units),
            "rf": _rf_cell(bound.rf if bound else row.rf),
        })
    for g in groups:  # a container's subtotals, symbolic and (when bound) numeric
        symbolic_rows, bound_rows = zip(*g.pop("_exprs"))
        bound_rows = bound_rows if numeric is not None else None
        g["params"] = _cell(_sum(symbolic_rows, lambda r: r.params), _sum(bound_rows, lambda r: r.params), units)
        g["ops"] = _cell(_sum(symbolic_rows, ops), _sum(bound_rows, ops), units)
    total = report.total
    bound_total = numeric.total if numeric is not None else None
    rows = len(report.rows) + sum(1 for g in groups if g["name"])
    # a quantity that is a number on every row needs no formula column
    params_columns = ops_columns = columns
    if columns == "both" and not any(_has_symbols(row.params) for row in report.rows):
        params_columns = "numeric"
    if columns == "both" and not any(_has_symbols(ops(row)) for row in report.rows):
        ops_columns = "numeric"
    return {
        "model": report.model,
        "columns": columns,
        "params_columns": params_columns,
        "ops_columns": ops_columns,
        "metric": metric,
        "metric_label": TABLE_METRICS[metric],
        "units": units,
        "convention": report.convention.name,
        "convention_description": report.convention.description,
        "input": _shape_cell(report.input_shape, numeric.input_shape if numeric is not None else None),
        "values": _values_view(report, values or {}),
        "floor": report.floor,
        "assumptions": [{"latex": tex(a.expr, fold=True), "expr": str(a.expr), "reason": a.reason}
                        for a in report.assumptions],
        "model_notes": list(report.notes),  # what the model's reader recorded (the .tex has a notes() macro)
        "groups": groups,
        "total": {
            "out_shape": _shape_cell(report.out_shape, numeric.out_shape if numeric is not None else None),
            "params": _cell(total.params, bound_total.params if bound_total else None, units),
            "ops": _cell(ops(total), ops(bound_total) if bound_total else None, units),
            "rf": _rf_cell(numeric.rf if numeric is not None else report.rf),
        },
        "longtable": rows > LONG_TABLE_ROWS if longtable is None else bool(longtable),
        "caption": caption,
        "label": label,
        "width": _table_width(groups, columns, params_columns, ops_columns),
    }


def _table_width(groups: list[dict], columns: str, params_columns: str, ops_columns: str) -> int:
    """Roughly how many characters wide the LaTeX table prints (see symcost.printing.jinja.LANDSCAPE_WIDTH)."""
    shape = "latex" if columns == "symbolic" else "value_latex"
    rows = [r for g in groups for r in g["rows"]]
    widths = [max(len(r["name"]) + 2 for r in rows), max(len(r["kind"]) for r in rows),
              max(_width(r["out_shape"][shape]) for r in rows), max(_width(r["rf"]["latex"]) for r in rows)]
    for key, mode in (("params", params_columns), ("ops", ops_columns)):
        cells = [r[key] for r in rows] + [g[key] for g in groups if g["name"]]
        if mode != "numeric":
            widths.append(max(_width(c["latex"]) for c in cells))
        if mode != "symbolic":
            widths.append(max(len(c["text"]) for c in cells))
    return sum(widths) + 2 * len(widths)


def _values_view(report: Report, values: dict) -> list[dict]:
    """The values a table was bound with, each under its symbol's display name."""
    known = {s.name: s for s in report.input_shape.free_symbols | report.total.params.free_symbols}
    shown = []
    for key, value in values.items():
        sym = known.get(key, sympy.Symbol(key)) if isinstance(key, str) else key
        shown.append({"symbol": tex(sym), "name": str(sym), "value": tex(value), "text": str(value)})
    return shown


# -- comparisons --------------------------------------------------------------

def comparison_view(c: Comparison) -> dict:
    """Both formulas, the ratio and the break-even points of a comparison, as LaTeX.

        >>> from symcost.analysis.compare import comparison
        >>> from symcost.symbols import C_out, K
        >>> print(comparison_view(comparison(C_out * K**2 + K**2 * C_out**2, C_out**2 * K**2))["ratio"]["latex"])
        1 + \\frac{1}{C_{\\mathrm{out}}}
    """
    return {
        "metric": c.metric,
        "metric_label": METRIC_NAMES.get(c.metric, c.metric),
        "convention": c.convention,
        "labels": list(c.labels),
        "a": quantity(c.a) | {"latex": tex(c.a)},
        "b": quantity(c.b) | {"latex": tex(c.b)},
        "ratio": quantity(c.ratio) | {"latex": tex(c.ratio)},
        # the ratio as written before it is reduced: the step between the two costs and the lowest terms
        "quotient": _quotient(c),
        "symbol": tex(c.symbol) if c.symbol is not None else None,
        "symbol_text": str(c.symbol) if c.symbol is not None else None,
        "break_even": [quantity(x) | {"latex": tex(x)} for x in c.break_even],
    }


def _quotient(c: Comparison) -> LaTeX | None:
    if c.a.is_number and c.b.is_number:
        return None
    shown = LaTeX(rf"\frac{{{tex(c.a)}}}{{{tex(c.b)}}}")
    return None if shown == tex(c.ratio) else shown


# -- dispatch -------------------------------------------------------------------

#: Options that choose what a layer or a cost is derived on (the rest go to the view).
_DERIVE_OPTIONS = ("values", "convention")


def view_of(obj: object, **options: object) -> tuple[str, dict]:
    """The template family (``table``, ``derivation``, ``comparison``) and the view model of ``obj``.

    A layer takes ``shape`` (one or a tuple of shapes), ``values`` and
    ``convention``; a cost ``values`` and ``convention``; a report the
    options of :func:`table_view`.
    """
    if isinstance(obj, Report):
        return "table", table_view(obj, **options)  # type: ignore[arg-type]
    if isinstance(obj, Training):
        from .training_view import training_view

        return "training", training_view(obj, **options)
    if isinstance(obj, Comparison):
        _no_more(options)
        return "comparison", comparison_view(obj)
    if isinstance(obj, (Layer, Cost)):
        shapes = options.pop("shape", None)
        if shapes is not None and isinstance(obj, Cost):
            raise InvalidArgumentError("render", "shape", "is given by the Cost already", shapes)
        shapes = () if shapes is None else (shapes if isinstance(shapes, tuple) and shapes and
                                             not isinstance(shapes[0], (int, sympy.Expr)) else (shapes,))
        known = {k: options.pop(k) for k in _DERIVE_OPTIONS if k in options}
        _no_more(options)
        return "derivation", derivation_view(derive(obj, *shapes, **known))  # type: ignore[arg-type]
    if isinstance(obj, Derivation):
        _no_more(options)
        return "derivation", derivation_view(obj)
    raise InvalidArgumentError("render", "obj", "must be a Report, a Cost, a layer, a Derivation or a Comparison",
                               type(obj).__name__)


def _no_more(options: dict) -> None:
    if options:
        raise InvalidArgumentError("render", "options", "are not known for this object", sorted(options))
