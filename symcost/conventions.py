"""Counting conventions as values, and the one function that applies them.

Published FLOP numbers disagree because they count different things. A
:class:`Convention` says how much each primitive count weighs; layers never
mention a convention. :func:`count_flops` is the only place that combines
them::

    >>> seed003 = Convention("seed003", {"macs": 1, "bias": 1})
    >>> count_flops(OpCounts(mul=10, add=9, macs=10, bias=1), seed003)
    11

Terms (fields of :class:`~symcost.cost.OpCounts`): ``mul``, ``add``,
``cmp``, ``div``, ``special`` (every executed operation, partitioned), and
the labels ``macs`` and ``bias``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

import sympy

from .cost import OpCounts
from .errors import ArgumentTypeError, UnknownConventionError

TERMS: tuple[str, ...] = tuple(f.name for f in fields(OpCounts))


@dataclass(frozen=True, init=False)
class Convention:
    """How many FLOPs each primitive count is worth, and bytes per element."""

    name: str
    weights: tuple[tuple[str, sympy.Rational], ...]
    description: str
    bytes_per_element: int

    def __init__(
        self,
        name: str,
        weights: Mapping[str, object],
        description: str = "",
        bytes_per_element: int = 4,
    ):
        checked = []
        for term, weight in weights.items():
            if term not in TERMS:
                raise ArgumentTypeError(
                    f"Convention {name!r}: unknown term {term!r}; terms are {', '.join(TERMS)}"
                )
            if isinstance(weight, bool) or not isinstance(weight, (int, sympy.Rational)):
                raise ArgumentTypeError(
                    f"Convention {name!r}: weight of {term!r} must be an int or sympy.Rational, got {weight!r}"
                )
            checked.append((term, sympy.Rational(weight)))
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "weights", tuple(checked))
        object.__setattr__(self, "description", description)
        object.__setattr__(self, "bytes_per_element", bytes_per_element)

    def weight(self, term: str) -> sympy.Rational:
        return dict(self.weights).get(term, sympy.Integer(0))


PRESETS: dict[str, Convention] = {
    c.name: c
    for c in (
        Convention(
            "exact",
            {"mul": 1, "add": 1, "cmp": 1, "div": 1, "special": 1},
            "every multiply, add, comparison, division and special function executed",
        ),
        Convention(
            "macs",
            {"macs": 1},
            "multiply-accumulates of conv/linear layers, no bias: papers' mult-adds, torchvision's GFLOPS",
        ),
        Convention(
            "flops2",
            {"macs": 2},
            "2 FLOPs per multiply-accumulate, nothing else: torch FlopCounterMode, tf.profiler",
        ),
    )
}


def get_convention(convention: object) -> Convention:
    """A :class:`Convention` from itself or from a preset name."""
    if isinstance(convention, Convention):
        return convention
    if isinstance(convention, str) and convention in PRESETS:
        return PRESETS[convention]
    raise UnknownConventionError(
        f"unknown convention {convention!r}; presets are {', '.join(PRESETS)}, "
        "or pass a symcost.Convention"
    )


def count_flops(ops: OpCounts, convention: object = "exact") -> sympy.Expr:
    """FLOPs of ``ops`` under ``convention``: the sum of weight x count over terms."""
    conv = get_convention(convention)
    total = sympy.Add(*(weight * getattr(ops, term) for term, weight in conv.weights))
    return sympy.factor_terms(total)
