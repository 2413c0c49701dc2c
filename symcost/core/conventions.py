"""Counting conventions as values, and the one function that applies them.

Published FLOP numbers disagree because they count different things. A
:class:`Convention` says how much each primitive count weighs; layers never
mention a convention. :func:`count_flops` is the only place that combines
them::

    >>> seed003 = Convention("seed003", {"macs": 1, "bias": 1})
    >>> count_flops(OpCounts(mul=10, add=9, macs=10, bias=1), seed003)
    11

Terms (fields of :class:`~symcost.core.cost.OpCounts`): ``mul``, ``add``,
``cmp``, ``div``, ``special`` (every executed operation, partitioned), and
the labels ``macs`` and ``bias``.

Peer tools count per layer kind in units of tensor sizes (ptflops counts a
max pool as its input's size), so a convention may also carry ``rules``:
``{selector: {quantity: weight}}``. A quantity is a term or ``in`` / ``out``
(elements of the layer's first input / its output, per sample). A selector
is ``Kind``, ``Kind[attr=value]``, ``Kind@origin`` or ``*@origin``, where
the origin says how a layer imported from torch was called (``module``,
``function``, ``method``, ``operator``). The most specific matching rule
replaces the weights for that layer::

    >>> import symcost as sc
    >>> pool = sc.MaxPool2d(2).cost(sc.Shape(8, 16, 16))
    >>> pool.flops("exact"), pool.flops("ptflops"), pool.flops("fvcore")
    (1536, 2048, 0)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields

import sympy

from .counts import OpCounts
from .errors import ArgumentTypeError, UnknownConventionError

TERMS: tuple[str, ...] = tuple(f.name for f in fields(OpCounts))
#: What a rule may weigh: the terms, and the element counts of the layer's input and output.
QUANTITIES: tuple[str, ...] = (*TERMS, "in", "out")
ORIGINS = ("module", "function", "method", "operator")

_SELECTOR = re.compile(r"(?P<kind>\*|[A-Za-z_][A-Za-z0-9_]*)(?:\[(?P<attr>[A-Za-z_]\w*)=(?P<value>[\w.]+)\])?"
                       r"(?:@(?P<origin>[a-z]+))?\Z")


def _weights(owner: str, weights: Mapping[str, object], allowed: tuple[str, ...]) -> tuple:
    checked = []
    for term, weight in weights.items():
        if term not in allowed:
            raise ArgumentTypeError(f"{owner}: unknown term {term!r}; terms are {', '.join(allowed)}")
        if isinstance(weight, bool) or not isinstance(weight, (int, sympy.Rational)):
            raise ArgumentTypeError(f"{owner}: weight of {term!r} must be an int or sympy.Rational, got {weight!r}")
        checked.append((term, sympy.Rational(weight)))
    return tuple(checked)


@dataclass(frozen=True)
class Rule:
    """Weights for the layers a selector matches (see the module docstring)."""

    selector: str
    kind: str
    attribute: tuple[str, str] | None
    origin: str | None
    weights: tuple[tuple[str, sympy.Rational], ...]

    @classmethod
    def parse(cls, convention: str, selector: str, weights: Mapping[str, object]) -> "Rule":
        match = _SELECTOR.match(selector) if isinstance(selector, str) else None
        if match is None or (match["origin"] and match["origin"] not in ORIGINS):
            raise ArgumentTypeError(
                f"Convention {convention!r}: selector {selector!r} must read Kind, Kind[attr=value], Kind@origin "
                f"or *@origin, with origin one of {', '.join(ORIGINS)}"
            )
        attribute = (match["attr"], match["value"]) if match["attr"] else None
        owner = f"Convention {convention!r} rule {selector!r}"
        return cls(selector, match["kind"], attribute, match["origin"], _weights(owner, weights, QUANTITIES))

    @property
    def specificity(self) -> tuple[bool, bool, bool]:
        return (self.origin is not None, self.kind != "*", self.attribute is not None)

    def matches(self, cost: "Cost") -> bool:
        layer = cost.layer
        if self.kind != "*" and self.kind != cost.kind:
            return False
        if self.origin is not None and self.origin != getattr(layer, "origin", "module"):
            return False
        if self.attribute is not None:
            name, value = self.attribute
            return layer is not None and str(getattr(layer, name, None)) == value
        return True


@dataclass(frozen=True, init=False)
class Convention:
    """How many FLOPs each primitive count is worth, per-kind rules, and bytes per element."""

    name: str
    weights: tuple[tuple[str, sympy.Rational], ...]
    description: str
    bytes_per_element: int
    rules: tuple[Rule, ...]

    def __init__(
        self,
        name: str,
        weights: Mapping[str, object],
        description: str = "",
        bytes_per_element: int = 4,
        rules: Mapping[str, Mapping[str, object]] | None = None,
    ):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "weights", _weights(f"Convention {name!r}", weights, TERMS))
        object.__setattr__(self, "description", description)
        object.__setattr__(self, "bytes_per_element", bytes_per_element)
        parsed = [Rule.parse(name, s, w) for s, w in (rules or {}).items()]
        object.__setattr__(self, "rules", tuple(sorted(parsed, key=lambda r: r.specificity, reverse=True)))

    def weight(self, term: str) -> sympy.Rational:
        return dict(self.weights).get(term, sympy.Integer(0))

    def rule_for(self, cost: "Cost") -> Rule | None:
        """The most specific rule matching ``cost``'s layer, if any."""
        return next((rule for rule in self.rules if rule.matches(cost)), None)


#: Layers whose activation-style count is one per output element under ptflops.
_PTFLOPS_PER_OUTPUT = ("ReLU", "ReLU6", "LeakyReLU", "GELU", "SiLU", "Upsample")
_POOLS = ("MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d")
#: The activations torchstat counts, 1 FLOP per element.
_TORCHSTAT_ACTIVATIONS = ("ReLU", "ReLU6", "PReLU", "ELU", "LeakyReLU")

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
            "torchvision",
            {"macs": 1},
            "torchvision's published GFLOPS: conv/linear multiply-accumulates, no bias (equal to macs)",
        ),
        Convention(
            "flops2",
            {"macs": 2},
            "2 FLOPs per multiply-accumulate, nothing else: torch FlopCounterMode, tf.profiler",
        ),
        Convention(
            "ptflops",
            {"macs": 1, "bias": 1},
            "ptflops 0.7.5, pytorch backend, default options: conv/linear MACs + bias, BatchNorm 2 per element "
            "(1 without affine), activations and upsampling 1 per output, pools 1 per input, torch.add/mul 1 per "
            "output; each op once (ptflops itself counts nn.ReLU, nn.GELU and pooling modules twice)",
            rules={
                "BatchNorm2d": {"in": 2}, "BatchNorm2d[affine=False]": {"in": 1},
                **{kind: {"out": 1} for kind in _PTFLOPS_PER_OUTPUT},
                **{kind: {"in": 1} for kind in _POOLS},
                "Add@function": {"out": 1}, "Add@method": {"out": 1},
                "Mul@function": {"out": 1}, "Mul@method": {"out": 1},
                "Linear@function": {},
            },
        ),
        Convention(
            "ptflops-aten",
            {"macs": 1, "bias": 1},
            "ptflops 0.7.5, aten backend: convolution and matmul multiply-accumulates plus bias, nothing else",
        ),
        Convention(
            "fvcore",
            {"macs": 1},
            "fvcore 0.1.5 FlopCountAnalysis (a 'flop' is a MAC): conv/linear MACs without bias, BatchNorm 2 per "
            "element (1 without affine), adaptive average pooling 1 per input, upsampling 1 (nearest) or 4 "
            "(bilinear) per output; activations, pools, adds and means count 0",
            rules={
                "BatchNorm2d": {"in": 2}, "BatchNorm2d[affine=False]": {"in": 1},
                "AdaptiveAvgPool2d": {"in": 1},
                "Upsample[mode=nearest]": {"out": 1}, "Upsample[mode=bilinear]": {"out": 4},
            },
        ),
        Convention(
            "thop",
            {"macs": 1},
            "thop 0.1.1 (MACs): conv/linear MACs without bias, BatchNorm 4 per element (2 without affine), "
            "average pooling 1 per output, adaptive average pooling 1 per input + 1 per output, upsampling 1 "
            "(nearest) or 11 (bilinear) per output; functional calls count 0. ConvTranspose2d is counted "
            "correctly: thop overcounts it by H_out*W_out/(H_in*W_in) (S^2)",
            rules={
                "BatchNorm2d": {"in": 4}, "BatchNorm2d[affine=False]": {"in": 2},
                "AvgPool2d": {"out": 1}, "AdaptiveAvgPool2d": {"in": 1, "out": 1},
                "Upsample[mode=nearest]": {"out": 1}, "Upsample[mode=bilinear]": {"out": 11},
                "*@function": {}, "*@method": {}, "*@operator": {},
            },
        ),
        Convention(
            "torchinfo",
            {"macs": 1, "bias": 1},
            "torchinfo 1.8.0 (Mult-Adds): conv/linear MACs + bias, BatchNorm 2 per element; parameter-free "
            "layers and functional calls 0. Counted correctly where torchinfo is wrong: ConvTranspose2d (it "
            "overcounts by S^2), Linear on (L, D) tokens (it drops L), BatchNorm (it counts 2*C, not 2*C*H*W)",
            rules={
                "BatchNorm2d": {"in": 2}, "BatchNorm2d[affine=False]": {},
                "*@function": {}, "*@method": {}, "*@operator": {},
            },
        ),
        Convention(
            "torchstat",
            {"macs": 1, "bias": 1},
            "torchstat 0.0.7 'Flops' column: conv/linear MACs + bias, BatchNorm 2 per element (1 without "
            "affine), activations 1 per element, pools (adaptive ones too) 1 per input, upsampling and the "
            "residual add 1 per output. Counted where torchstat counts 0 or drops a term: its Linear omits the "
            "bias, AdaptiveAvgPool2d and functional adds count 0 (README, the seed tools' views)",
            rules={
                "BatchNorm2d": {"in": 2}, "BatchNorm2d[affine=False]": {"in": 1},
                **{kind: {"in": 1} for kind in (*_TORCHSTAT_ACTIVATIONS, *_POOLS)},
                "Upsample": {"out": 1}, "Add": {"out": 1},
            },
        ),
        Convention(
            "torchstat-madd",
            {"mul": 1, "add": 1, "cmp": 1, "div": 1, "special": 1},
            "torchstat 0.0.7 'MAdd' column: every multiply, add, comparison and division (exact), except "
            "BatchNorm at 4 per element (subtract, divide, scale, shift). Counted where torchstat is wrong: "
            "its Linear omits the bias add, AdaptiveAvgPool2d and functional adds count 0",
            rules={"BatchNorm2d": {"in": 4}},
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


def count_flops(subject: "OpCounts | Cost", convention: object = "exact") -> sympy.Expr:
    """FLOPs of a layer's cost (or of bare counts) under ``convention``: the sum of weight x quantity.

    Rules need the layer, so conventions with rules take a :class:`Cost`.
    """
    conv = get_convention(convention)
    if not isinstance(subject, OpCounts):  # a Cost: its counts, shapes and layer
        rule = conv.rule_for(subject)
        weights = conv.weights if rule is None else rule.weights
        quantities = {**subject.ops.as_dict(), "in": subject.in_shapes[0].numel if subject.in_shapes else 0, "out": subject.out_shape.numel}
        return sympy.factor_terms(sympy.Add(*(w * quantities[q] for q, w in weights)))
    if conv.rules:
        raise ArgumentTypeError(
            f"convention {conv.name!r} weighs layers by kind; count the FLOPs of a Cost, not of bare OpCounts"
        )
    return sympy.factor_terms(sympy.Add(*(weight * getattr(subject, term) for term, weight in conv.weights)))
