"""Plain-text tables for the terminal, in the spirit of torchinfo's summary.

Laid out from the view models of :mod:`symcost.printing.json_view`: formulas while symbols
remain, exact numbers (thousands separators, or K/M/G with ``units``) once
every symbol is bound::

    >>> import symcost as sc
    >>> from symcost.printing.json_view import report_view
    >>> net = sc.Sequential(sc.Conv2d(8, 3, padding=1, name="conv"), sc.ReLU(name="relu"))
    >>> print(report_table(report_view(net.analyze(sc.Shape(3, 32, 32), model="tiny"))))
    tiny: input (3, 32, 32), convention exact, floor exact
    ======================================================================================
    Layer  Kind    Output shape  Params     MACs    FLOPs  Activations  RF size/stride/pad
    --------------------------------------------------------------------------------------
    conv   Conv2d  (8, 32, 32)      224  221,184  442,368        8,192  3/1/1
    relu   ReLU    (8, 32, 32)        0        0    8,192        8,192  3/1/1
    ======================================================================================
    Params             224   (896 bytes as float32)
    MACs               221,184
    FLOPs (exact)      450,560
    Activations        16,384   (peak 16,384 elements)
    Receptive field    size 3, stride 1, padding 1
"""

from __future__ import annotations

from .numbers import formula, number

COLUMNS = ("Layer", "Kind", "Output shape", "Params", "MACs", "FLOPs", "Activations", "RF size/stride/pad")
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
    """``size 7 · stride 2 · pad 3``; an axis pair (height × width) where the two differ; ``undefined (see Note)``
    where no field describes the output (the reason is among the report's notes)."""
    if rf.get("undefined"):
        return "undefined (see Note)"
    return sep.join(f"{word} {_axes(rf, key)}" for word, key in zip(words, ("size", "stride", "padding")))


def compact_rf(rf: dict) -> str:
    """The receptive field in one short cell: ``7/2/3`` (size/stride/pad), ``3 × 1/1/0`` where the axes differ,
    ``undefined`` where no field describes the output."""
    if rf.get("undefined"):
        return "undefined"
    return "/".join(_axes(rf, key) for key in ("size", "stride", "padding"))


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


#: Longest line of a text report; a longer total or legend wraps onto indented lines.
LINE_WIDTH = 160
_LABEL = 19


def labelled(label: str, value: str, width: int = LINE_WIDTH) -> list[str]:
    """``label`` padded to the value column, then ``value``, wrapped at `` + `` and ``, `` to ``width``.

        >>> labelled("MACs", "1 + 2 + 3", width=24)
        ['MACs               1 + 2', '                   + 3']
    """
    pieces = [p.strip() for p in value.replace(" + ", " \0+ ").replace(", ", ",\0").split("\0")]
    pieces = [chunk for piece in pieces for chunk in _chunks(piece, width - _LABEL)]
    lines, current = [], label.ljust(_LABEL) + pieces[0]
    for piece in pieces[1:]:
        if len(current) + 1 + len(piece) > width:
            lines.append(current)
            current = " " * _LABEL + piece
        else:
            current += " " + piece
    return [*lines, current]


def _chunks(piece: str, width: int) -> list[str]:
    """A piece longer than ``width`` cut after its ``*`` or ``(`` (a product of long sums), else anywhere."""
    chunks = []
    while len(piece) > width:
        cut = max(piece.rfind("*", 0, width), piece.rfind("(", 0, width), piece.rfind(" ", 0, width))
        cut = cut + 1 if cut > 0 else width
        chunks.append(piece[:cut].rstrip())
        piece = piece[cut:].lstrip()
    return [*chunks, piece]


#: A table cell longer than this is moved under the table as a numbered note (``[1]`` in the cell).
CELL_WIDTH = 40


def _noted(cell: str, what: str, notes: list[tuple[str, str]], width: int = CELL_WIDTH) -> str:
    if len(cell) <= width:
        return cell
    notes.append((what, cell))
    return f"[{len(notes)}]"


def report_table(view: dict, units: bool = False) -> str:
    """The whole report: a row per leaf layer, then the totals, then (when sizes are named) where they come from.

    A layer whose tensors an earlier one counted has its params marked ``*``
    and named below; tensors no layer uses are listed after the totals.
    Totals and the legend wrap at :data:`LINE_WIDTH` characters.
    """
    for cell_width in range(CELL_WIDTH, 7, -8):  # narrower cells until the table fits the line
        notes: list[tuple[str, str]] = []
        rows = [[layer["name"], layer["kind"],
                 _noted(shape_cell(layer["out_shape"]), f"{layer['name']} output", notes, cell_width),
                 _noted(shown(layer["params"], units), f"{layer['name']} params", notes, cell_width)
                 + ("*" if layer.get("shared") else ""),
                 *(_noted(shown(layer[k], units), f"{layer['name']} {title}", notes, cell_width)
                   for k, title in (("macs", "MACs"), ("flops", "FLOPs"), ("activations", "activations"))),
                 _noted(compact_rf(layer["rf"]), f"{layer['name']} RF size/stride/pad", notes, cell_width)]
                for layer in view["layers"]]
        header, *body = table(COLUMNS, rows, NUMERIC)
        if max(len(line) for line in [header, *body]) <= LINE_WIDTH:
            break
    rule = "=" * max(len(line) for line in [header, *body])
    total = view["total"]
    bytes_ = total["param_bytes"]
    lines = [
        f"{view['model']}: input {shape_cell(view['input'])}, convention {view['convention']}, floor {view['floor']}",
        rule, header, "-" * len(rule), *body, rule,
        *labelled("Params", f"{shown(total['params'], units)}   ({shown(bytes_, units)} bytes as {total['dtype']})"),
        *labelled("MACs", shown(total["macs"], units)),
        *labelled(f"FLOPs ({view['convention']})", shown(total["flops"], units)),
        *labelled("Activations", f"{shown(total['activations'], units)}   "
                  f"(peak {shown(total['peak_activations'], units)} elements)"),
        *labelled("Receptive field", rf_cell(total["rf"], ", ", ("size", "stride", "padding"))),
    ]
    if "bytes" in total:
        moved = total["bytes"]
        lines.append(f"Bytes moved        {shown(moved['total'], units)}   (read {shown(moved['read'], units)}, "
                     f"written {shown(moved['written'], units)}, as {moved['dtype']})")
    for i, (what, cell) in enumerate(notes, 1):
        lines += labelled(f"[{i}]", f"{what} = {cell}")
    if view.get("sizes"):
        lines += labelled("Where", ", ".join(f"{s['name']} = {s['size']['expr']}" for s in view["sizes"]))
    lines += [f"Assumes integer    {formula_text(a['integer'])}: {a['reason']}" for a in view["assumptions"]]
    lines += [f"* Shared           {layer['name']}: tensors counted at {layer['shared']}"
              for layer in view["layers"] if layer.get("shared")]
    lines += [f"Unused             {u['name']}: {shown(u['params'], units)} params, {shown(u['buffers'], units)} "
              "buffers (no layer uses them; counted in Params)" for u in view.get("unused_params", ())]
    lines += [line for note in view.get("notes", ()) for line in labelled("Note", note)]
    return "\n".join(lines)
