"""Plain-text tables for the terminal, in the spirit of torchinfo's summary.

Laid out from the view models of :mod:`symcost.printing.json_view`: formulas while symbols
remain, exact numbers (thousands separators, or K/M/G with ``units``) once
every symbol is bound::

    >>> import symcost as sc
    >>> from symcost.printing.json_view import report_view
    >>> net = sc.Sequential(sc.Conv2d(8, 3, padding=1, name="conv"), sc.ReLU(name="relu"))
    >>> print(report_table(report_view(net.analyze(sc.Shape(3, 32, 32), model="tiny"))))
    tiny: input (3, 32, 32), convention exact, floor exact
    =============================================================================================
    Layer  Kind    Output shape  Params     MACs    FLOPs  Activations  Receptive field
    ---------------------------------------------------------------------------------------------
    conv   Conv2d  (8, 32, 32)      224  221,184  442,368        8,192  size 3 · stride 1 · pad 1
    relu   ReLU    (8, 32, 32)        0        0    8,192        8,192  size 3 · stride 1 · pad 1
    =============================================================================================
    Params             224   (896 bytes as float32)
    MACs               221,184
    FLOPs (exact)      450,560
    Activations        16,384   (peak 16,384 elements)
    Receptive field    size 3, stride 1, padding 1
"""

from __future__ import annotations

from .numbers import formula, number

COLUMNS = ("Layer", "Kind", "Output shape", "Params", "MACs", "FLOPs", "Activations", "Receptive field")
#: Columns aligned right (numbers).
NUMERIC = {"Params", "MACs", "FLOPs", "Activations"}


def shown(q: dict, units: bool = False) -> str:
    """A quantity as a cell: its exact value (thousands or units), else its formula."""
    if q["value"] is None:
        return formula_text(q)
    if isinstance(q["value"], int):
        return number(q["value"], units)
    return q["value"]


def formula_text(q: dict) -> str:
    return q.get("formula", q["expr"])


def rf_cell(rf: dict, sep: str = " · ", words: tuple[str, ...] = ("size", "stride", "pad")) -> str:
    """``size 7 · stride 2 · pad 3``; an axis pair (height × width) where the two differ."""
    return sep.join(f"{word} {_axes(rf, key)}" for word, key in zip(words, ("size", "stride", "padding")))


def _axes(rf: dict, key: str) -> str:
    height, width = shown(rf[key]), shown(rf["width"][key])
    if height == width:
        return height
    return " × ".join(f"({c})" if " " in c else c for c in (height, width))


def shape_cell(dims: list[str]) -> str:
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def table(header: tuple[str, ...], rows: list[list[str]], right: set[str] = frozenset()) -> list[str]:
    """Aligned lines: a header, a rule, the rows; columns in ``right`` flush right."""
    widths = [max(len(r[i]) for r in [list(header), *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if h in right else c.ljust(w)
                         for c, w, h in zip(cells, widths, header)).rstrip()

    return [line(list(header)), *[line(r) for r in rows]]


def report_table(view: dict, units: bool = False) -> str:
    """The whole report: a row per leaf layer, then the totals.

    A layer whose tensors an earlier one counted has its params marked ``*``
    and named below; tensors no layer uses are listed after the totals.
    """
    rows = [[layer["name"], layer["kind"], shape_cell(layer["out_shape"]),
             shown(layer["params"], units) + ("*" if layer.get("shared") else ""),
             *(shown(layer[k], units) for k in ("macs", "flops", "activations")),
             rf_cell(layer["rf"])] for layer in view["layers"]]
    header, *body = table(COLUMNS, rows, NUMERIC)
    rule = "=" * max(len(line) for line in [header, *body])
    total = view["total"]
    bytes_ = total["param_bytes"]
    lines = [
        f"{view['model']}: input {shape_cell(view['input'])}, convention {view['convention']}, floor {view['floor']}",
        rule, header, "-" * len(rule), *body, rule,
        f"Params             {shown(total['params'], units)}   ({shown(bytes_, units)} bytes as {total['dtype']})",
        f"MACs               {shown(total['macs'], units)}",
        f"FLOPs ({view['convention']})".ljust(19) + shown(total["flops"], units),
        f"Activations        {shown(total['activations'], units)}   "
        f"(peak {shown(total['peak_activations'], units)} elements)",
        "Receptive field    " + rf_cell(total["rf"], ", ", ("size", "stride", "padding")),
    ]
    if "bytes" in total:
        moved = total["bytes"]
        lines.append(f"Bytes moved        {shown(moved['total'], units)}   (read {shown(moved['read'], units)}, "
                     f"written {shown(moved['written'], units)}, as {moved['dtype']})")
    lines += [f"Assumes integer    {formula_text(a['integer'])}: {a['reason']}" for a in view["assumptions"]]
    lines += [f"* Shared           {layer['name']}: tensors counted at {layer['shared']}"
              for layer in view["layers"] if layer.get("shared")]
    lines += [f"Unused             {u['name']}: {shown(u['params'], units)} params, {shown(u['buffers'], units)} "
              "buffers (no layer uses them; counted in Params)" for u in view.get("unused_params", ())]
    return "\n".join(lines)
