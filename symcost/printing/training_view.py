"""View models of a training step (:class:`~symcost.networks.training.Training`): per-row FLOPs and
saved bytes, totals and the memory ledger, for the ``training.*`` templates and for JSON.

    >>> import symcost as sc
    >>> tr = sc.Sequential(sc.Linear(8), sc.ReLU(), sc.Linear(2)).analyze(sc.Shape(4)).training()
    >>> view = training_view(tr, convention="flops2")
    >>> view["total"]["flops"]["text"], [m["name"] for m in view["memory"]][-1]
    ('224', 'peak')
"""

from __future__ import annotations

import sympy

from ..core.conventions import count_flops
from ..networks.training import Training
from .json_view import quantity
from .markup import tex
from .numbers import formula, number

PARTS = ("forward", "grad_input", "grad_weight", "recompute")
PART_LABELS = {"forward": "Forward", "grad_input": "Grad-input", "grad_weight": "Grad-weight",
               "recompute": "Recompute"}
MEMORY_LABELS = {"weights": "Weights", "gradients": "Gradients", "optimizer": "Optimizer states",
                 "activations": "Activations (saved)", "transient": "Largest transient", "peak": "Peak"}


def _cell(expr: object, units: bool) -> dict:
    expr = sympy.Integer(expr) if isinstance(expr, int) else expr
    q = quantity(expr)
    q["text"] = number(expr, units) if q["value"] is not None else formula(expr)
    q["latex"] = tex(expr)
    return q


def training_view(tr: Training, *, convention: object = None, units: bool = False, memory_bytes: object = None,
                  rows: bool = True) -> dict:
    """The view of a step: ``rows`` (per layer), ``total``, ``memory`` (the ledger), ``max_batch`` when
    ``memory_bytes`` is given. FLOPs under ``convention`` (default the report's)."""
    conv = tr.report.convention.name if convention is None else convention
    parts = tr.part_flops(conv)  # refuses a convention with per-kind rules, before any row is counted
    row_views = []
    for row, saved in zip(tr.rows, tr.saved) if rows else ():
        view = {"name": row.name, "kind": row.kind}
        for part in PARTS:
            view[part] = _cell(count_flops(getattr(row, part), conv), units)
        view["activations"] = _cell(saved, units)
        row_views.append(view)
    total = {part: _cell(parts[part], units) for part in PARTS}
    total["flops"] = _cell(tr.flops(conv), units)
    total["forward_x3"] = _cell(3 * parts["forward"], units)
    memory = [{"name": k, "label": MEMORY_LABELS[k], "bytes": _cell(v, units)} for k, v in tr.memory.as_dict().items()]
    header = ["Layer", "Kind", *(PART_LABELS[p] for p in PARTS), "Saved bytes"]
    lines = [[r["name"], r["kind"], *(r[p]["text"] for p in PARTS), r["activations"]["text"]] for r in row_views]
    lines.append(["total", "", *(total[p]["text"] for p in PARTS), _cell(tr.memory.activations, units)["text"]])
    widths = [max(len(x[i]) for x in [header, *lines]) for i in range(len(header))]
    return {
        "model": tr.model,
        "convention": str(conv),
        "precision": tr.precision,
        "optimizer": tr.optimizer,
        "recompute": tr.recompute,
        "batch": _cell(tr.report.batch, units),
        "rows": row_views,
        "total": total,
        "memory": memory,
        "max_batch": None if memory_bytes is None else {"memory": _cell(memory_bytes, units),
                                                        "batch": _cell(tr.max_batch(memory_bytes), units)},
        "text": {"header": header, "rows": lines, "widths": widths, "right": [False, False] + [True] * 5},
    }


def training_json(tr: Training, *, convention: object = None, memory_bytes: object = None) -> dict:
    """One JSON object: model, settings, per-row FLOPs and bytes, totals and the ledger (each a ``Q``)."""
    view = training_view(tr, convention=convention, memory_bytes=memory_bytes)

    def q(cell: dict) -> dict:
        return {"expr": cell["expr"], "latex": str(cell["latex"]), "value": cell["value"]}

    return {
        "model": view["model"], "convention": view["convention"], "precision": view["precision"],
        "optimizer": view["optimizer"], "recompute": view["recompute"], "batch": q(view["batch"]),
        "layers": [{"name": r["name"], "kind": r["kind"], **{p: q(r[p]) for p in (*PARTS, "activations")}}
                   for r in view["rows"]],
        "total": {k: q(v) for k, v in view["total"].items()},
        "memory": {m["name"]: q(m["bytes"]) for m in view["memory"]},
        **({"max_batch": {k: q(v) for k, v in view["max_batch"].items()}} if view["max_batch"] else {}),
    }
