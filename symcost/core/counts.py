"""The primitive records a cost is made of: operation counts, parameters and receptive-field steps.

Each is a frozen dataclass of exact SymPy expressions; none knows a convention::

    >>> c = OpCounts(mul=10, add=9, macs=10)
    >>> (c + c).executed, c.scaled(3).mul
    (38, 30)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

import sympy

from .evaluate import substitute

Expr = sympy.Expr
ZERO = sympy.Integer(0)


def exact(value: object) -> sympy.Expr:
    """An int as a SymPy Integer; a SymPy expression as it is (every field of a count record goes through here)."""
    return sympy.Integer(value) if isinstance(value, int) else value  # type: ignore[return-value]


@dataclass(frozen=True)
class OpCounts:
    """Operations one forward pass executes on one sample.

    ``mul``, ``add``, ``cmp`` (comparisons, max/min), ``div`` and ``special``
    (exp, erf, tanh, sqrt, log) partition every executed operation. The labels
    name parts that conventions weigh separately:

    * ``macs``: multiply-accumulates of convolutions, linear layers and matrix
      products, attention's included over the full square of scores (as torch's
      FlopCounterMode counts them, even where a causal kernel skips half);
    * ``bias``: the bias additions;
    * ``attn_macs``: the part of ``macs`` in attention's two products (Q K^T and
      scores x V), over the full square (Kaplan et al. count half of it);
    * ``masked_macs``: the part of ``macs`` a causal kernel skips (the masked
      triangle); the executed ``mul``/``add`` leave it out;
    * ``attn_scores``: attention's score elements over the full square
      (``H*L*S``), the entries its softmax normalizes before a causal mask
      (Hoffmann et al. 2022 weigh 3 FLOPs each); not an operation itself;
    * ``lookup_macs``: the multiply-accumulates of the one-hot product an
      embedding lookup stands for (ids x ``num_embeddings`` x
      ``embedding_dim``; Hoffmann et al. count embeddings so); a lookup
      executes none of them, so they are not in ``macs``.
    """

    mul: Expr = ZERO
    add: Expr = ZERO
    cmp: Expr = ZERO
    div: Expr = ZERO
    special: Expr = ZERO
    macs: Expr = ZERO
    bias: Expr = ZERO
    attn_macs: Expr = ZERO
    masked_macs: Expr = ZERO
    attn_scores: Expr = ZERO
    lookup_macs: Expr = ZERO

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, exact(getattr(self, f.name)))

    @property
    def executed(self) -> Expr:
        """Every executed operation: mul + add + cmp + div + special."""
        return self.mul + self.add + self.cmp + self.div + self.special

    def __add__(self, other: "OpCounts") -> "OpCounts":
        return OpCounts(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    @staticmethod
    def sum(counts: "Iterable[OpCounts]") -> "OpCounts":
        """Field-wise sum of many counts, one ``Add`` per field (linear in their number)."""
        counts = list(counts)
        return OpCounts(**{f.name: sympy.Add(*(getattr(c, f.name) for c in counts)) for f in fields(OpCounts)})

    def scaled(self, factor: object) -> "OpCounts":
        return OpCounts(**{f.name: getattr(self, f.name) * factor for f in fields(self)})

    def as_dict(self) -> dict[str, Expr]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def map_exprs(self, fn) -> "OpCounts":
        return OpCounts(**{k: fn(v) for k, v in self.as_dict().items()})

    def subs(self, values: dict | None = None, /, **by_name: object) -> "OpCounts":
        return self.map_exprs(lambda e: substitute(e, values, **by_name))


@dataclass(frozen=True)
class Params:
    """Learned parameters (``weight`` and ``bias`` elements) and named buffers.

    Buffers such as BatchNorm's running statistics are state, not parameters:
    ``total`` counts weight + bias, ``buffer_total`` the buffers.
    """

    weight: Expr = ZERO
    bias: Expr = ZERO
    buffers: tuple[tuple[str, Expr], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight", exact(self.weight))
        object.__setattr__(self, "bias", exact(self.bias))
        object.__setattr__(self, "buffers", tuple((n, exact(v)) for n, v in self.buffers))

    @property
    def total(self) -> Expr:
        return self.weight + self.bias

    @property
    def buffer_total(self) -> Expr:
        return sympy.Add(*(v for _, v in self.buffers))

    @staticmethod
    def sum(params: "Iterable[Params]") -> "Params":
        """Sum of many parameter records, buffers merged by name, one ``Add`` per entry."""
        params = list(params)
        buffers: dict[str, list[Expr]] = {}
        for p in params:
            for name, value in p.buffers:
                buffers.setdefault(name, []).append(value)
        return Params(sympy.Add(*(p.weight for p in params)), sympy.Add(*(p.bias for p in params)),
                      tuple((name, sympy.Add(*values)) for name, values in buffers.items()))

    def scaled(self, factor: object) -> "Params":
        return Params(self.weight * factor, self.bias * factor, tuple((n, v * factor) for n, v in self.buffers))

    def __add__(self, other: "Params") -> "Params":
        merged: dict[str, Expr] = dict(self.buffers)
        for name, value in other.buffers:
            merged[name] = merged.get(name, ZERO) + value
        return Params(self.weight + other.weight, self.bias + other.bias, tuple(merged.items()))

    def map_exprs(self, fn) -> "Params":
        return Params(fn(self.weight), fn(self.bias), tuple((n, fn(v)) for n, v in self.buffers))

    def subs(self, values: dict | None = None, /, **by_name: object) -> "Params":
        return self.map_exprs(lambda e: substitute(e, values, **by_name))


@dataclass(frozen=True)
class RFStep:
    """One receptive-field transform, per axis (height, width).

    Fed to the recurrence of Araujo et al. (Distill 2019):
    ``r += (kernel - 1) * j``, ``p += padding * j``, ``j *= stride``.
    ``kernel`` is the effective (dilated) kernel; ``stride`` may be a
    fraction for upsampling layers.
    """

    kernel: tuple[Expr, Expr]
    stride: tuple[Expr, Expr]
    padding: tuple[Expr, Expr]

    def map_exprs(self, fn) -> "RFStep":
        return RFStep(*(tuple(fn(e) for e in pair) for pair in (self.kernel, self.stride, self.padding)))

    def subs(self, values: dict | None = None, /, **by_name: object) -> "RFStep":
        return self.map_exprs(lambda e: substitute(e, values, **by_name))
