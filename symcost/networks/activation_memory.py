"""PLACEHOLDER for issue 15 part B: the bytes autograd keeps for backward, per row.

This module only fixes the interface the training ledger (:mod:`symcost.networks.training`)
calls; part B's real model (distinct storages, dropout masks as 1-byte booleans, recomputation)
replaces it on merge. The estimate here: every row whose output is not a view of its input keeps its
output, ``numel * bytes_per_element(dtype)`` per sample times the report's batch, whatever ``recompute``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sympy

from ..core.dtypes import bytes_per_element
from ..core.errors import InvalidArgumentError

if TYPE_CHECKING:
    from .report import Report

RECOMPUTE = ("none", "selective", "full")


@dataclass(frozen=True)
class ActivationMemory:
    """Bytes autograd keeps for backward: one ``(row name, bytes)`` per row, batch included."""

    rows: tuple[tuple[str, sympy.Expr], ...]

    @property
    def total(self) -> sympy.Expr:
        return sympy.Add(*(b for _, b in self.rows))


def activation_bytes(report: "Report", *, dtype: str = "float32", recompute: str = "none") -> ActivationMemory:
    """PLACEHOLDER estimate (see the module docstring): each non-aliasing row's output."""
    size = bytes_per_element(dtype, owner="activation_bytes")
    if recompute not in RECOMPUTE:
        raise InvalidArgumentError("activation_bytes", "recompute", f"must be one of {', '.join(RECOMPUTE)}",
                                   recompute)
    rows = []
    for row in report.rows:
        layer = row.cost.layer
        kept = sympy.Integer(0) if getattr(layer, "aliases_input", False) else row.activations * size
        rows.append((row.name, kept))
    return ActivationMemory(tuple(rows))
