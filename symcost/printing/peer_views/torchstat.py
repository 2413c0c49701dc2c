"""torchstat 0.0.7's table (``torchstat.stat(model, (3, 224, 224))``), from a report.

One line per layer call, the columns torchstat prints, then its totals block.
How each column is counted (``torchstat/compute_*.py``), and where symcost
differs because torchstat is wrong:

* ``memory(MB)``: output elements x bytes / 1024**2. A view (Flatten, eval
  Dropout) or an in-place op allocates nothing: 0 (torchstat counts them).
* ``MAdd``: the ``torchstat-madd`` convention (exact counts, BatchNorm 4 per
  element). ``Flops``: the ``torchstat`` convention (MACs + bias, BatchNorm 2,
  activations and pools 1 per element). torchstat's Linear omits the bias in
  both; AdaptiveAvgPool2d and the residual add (not modules) count 0 there.
* ``MemRead(B)``: inputs, parameters and the buffers inference reads, x bytes;
  ``MemWrite(B)``: outputs x bytes; ``MemR+W(B)`` their sum. A view moves
  nothing. torchstat's BatchNorm reads ``2*C`` of its ``4*C`` numbers
  (weight, bias, running mean and variance); AdaptiveAvgPool2d counts 0.
* Every call is a line: torchstat shows a module called twice (ResNet's
  ``relu``) once, with its last call's numbers, and its total row's
  MemRead/MemWrite are the last line's, not the sums.
* ``duration`` and ``duration[%]`` are wall-clock times of one run: left out.
"""

from __future__ import annotations

import sympy

from ...core.conventions import count_flops
from ...core.traffic import UNREAD_BUFFERS
from . import MB, Call, PeerView, fixed, shortest

COLUMNS = ("module name", "input shape", "output shape", "params", "memory(MB)", "MAdd", "Flops",
           "MemRead(B)", "MemWrite(B)", "MemR+W(B)")
OMITTED = ("duration[%]: the wall-clock share of one run, not a count",)


def _shape(shape: object) -> str:
    return " ".join(f"{int(n):>3d}" for n in shape)


def line(call: Call, size: int) -> dict:
    """The exact numbers of one call's line."""
    cost = call.cost
    moves = not getattr(cost.layer, "aliases_input", False)
    read = write = sympy.Integer(0)
    if moves:
        weights = call.weights  # a module called twice reads its weights at every call
        buffers = sum((v for n, v in weights.buffers if n not in UNREAD_BUFFERS), sympy.Integer(0))
        read = (sum((s.numel for s in cost.in_shapes), sympy.Integer(0)) + weights.total + buffers) * size
        write = cost.activations * size
    return {
        "module name": call.name,
        "input shape": tuple(int(n) for n in cost.in_shapes[0]) if cost.in_shapes else (),
        "output shape": tuple(int(n) for n in cost.out_shape),
        "params": call.params,
        "memory(MB)": cost.activations * size / MB if call.allocates else sympy.Integer(0),
        "MAdd": int(count_flops(cost, "torchstat-madd")),
        "Flops": int(count_flops(cost, "torchstat")),
        "MemRead(B)": int(read),
        "MemWrite(B)": int(write),
        "MemR+W(B)": int(read + write),
    }


def round_value(value: int, binary: bool = False) -> str:
    """torchstat's ``round_value``: ``3.64G``, ``97.04M`` (binary: powers of 1024)."""
    divisor = 1024 if binary else 1000
    for power, suffix in ((4, "T"), (3, "G"), (2, "M"), (1, "K")):
        if value // divisor**power > 0:
            return shortest(sympy.Rational(value, divisor**power)) + suffix
    return str(value)


def view(report: object, calls: list[Call], size: int) -> PeerView:
    rows = tuple(line(call, size) for call in calls)
    numeric = ("params", "memory(MB)", "MAdd", "Flops", "MemRead(B)", "MemWrite(B)", "MemR+W(B)")
    totals = {key: sum((row[key] for row in rows), sympy.Integer(0)) for key in numeric}
    totals = {key: (value if key == "memory(MB)" else int(value)) for key, value in totals.items()}

    def cells(row: dict) -> list[str]:
        # as torchstat formats them: thousands separators for MAdd and Flops only
        return [row["module name"], _shape(row["input shape"]), _shape(row["output shape"]), str(row["params"]),
                fixed(row["memory(MB)"]), f"{row['MAdd']:,}", f"{row['Flops']:,}", str(row["MemRead(B)"]),
                str(row["MemWrite(B)"]), str(row["MemR+W(B)"])]

    body = [[str(i), *cells(row)] for i, row in enumerate(rows)]
    body.append(["total", "", "", "", str(totals["params"]), fixed(totals["memory(MB)"]), f"{totals['MAdd']:,}",
                 f"{totals['Flops']:,}", *(str(totals[k]) for k in ("MemRead(B)", "MemWrite(B)", "MemR+W(B)"))])
    table = [["", *COLUMNS], *body]
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    lines = ["  ".join([r[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(r[1:], widths[1:]))]).rstrip()
             for r in table]
    width = len(lines[0])
    text = "\n".join([
        *lines,
        "=" * width,
        f"Total params: {totals['params']:,}",
        "-" * width,
        f"Total memory: {fixed(totals['memory(MB)'])}MB",
        f"Total MAdd: {round_value(totals['MAdd'])}MAdd",
        f"Total Flops: {round_value(totals['Flops'])}Flops",
        f"Total MemR+W: {round_value(totals['MemR+W(B)'], True)}B",
        "(duration[%] left out: a wall-clock time, not a count)",
    ])
    return PeerView("torchstat", text, rows, totals, OMITTED)
